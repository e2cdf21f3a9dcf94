"""``rnn-tui sample``: train N epochs as ``train`` does, then generate text."""

from __future__ import annotations

import argparse
import json
import math
import sys

from rnn_tui.cli.args import PROG, UsageError, int_in, mode_args, model_and_epochs
from rnn_tui.core.text import json_number

HELP = "train N epochs, then generate text from a starting text"
DESCRIPTION = """Train N epochs exactly as `train` does, feed the starting text from h_0 = 0, then
generate L characters: greedy (argmax) at temperature 0, otherwise drawn from softmax(Omega /
temperature) with NumPy's default_rng(seed)."""
MAX_EPOCHS = 10_000_000
MAX_LENGTH = 100_000


def temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model_and_epochs(parser, 0, MAX_EPOCHS, 0,
                     "epochs to train first (default 0: the initial parameters)")
    parser.add_argument("--prime", default=None, metavar="TEXT",
                        help="starting text (default: the first character of the model's text)")
    parser.add_argument("--length", type=int_in(0, MAX_LENGTH), default=100, metavar="L",
                        help="characters to generate (default 100)")
    parser.add_argument("--temperature", type=temperature, default=1.0, metavar="TAU",
                        help="0 is greedy; 1 samples the model's own probabilities (default 1)")
    parser.add_argument("--seed", type=int_in(0, 2**63 - 1), default=0,
                        help="seed of the draws (default 0)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    mode_args(parser)


def run(args: argparse.Namespace) -> int:
    from rnn_tui.core import tbptt_kernel
    from rnn_tui.core.fast_train import train
    from rnn_tui.core.model_file import load
    from rnn_tui.core.sample import SampleError, generate
    from rnn_tui.core.text import char, printable

    spec, _ = load(args.model)
    mode = args.mode or spec.bptt.embedding_rows
    vocab = spec.alphabet
    prime = spec.text[0] if args.prime is None else args.prime
    if not prime:
        raise UsageError(f"{PROG} sample: argument --prime: needs at least one character")
    lookup = {ch: i for i, ch in enumerate(vocab)}
    for pos, ch in enumerate(prime, start=1):
        if ch not in lookup:
            shown = " ".join(char(c) for c in vocab)
            raise UsageError(
                f"{PROG} sample: argument --prime: character {char(ch)!r} at position {pos} is "
                f"not in the vocabulary of {printable(spec.name)} ({shown})")
    inputs, targets = spec.indices()
    # The same fast path as `train` (report.loss_and_params): bit for bit; with a
    # [train] table, its optimizer, clipping and truncated BPTT (tbptt_kernel).
    if spec.cell != "rnn":  # as `train` trains a cell (report.loss_and_params)
        from rnn_tui.core.cell_report import trained

        p = trained(spec, args.epochs, mode)
    elif spec.train.is_handout:
        _, p = train(spec.initial_params(), inputs, targets, spec.learning_rate, args.epochs,
                     mode)
    else:
        _, p, _ = tbptt_kernel.train(spec.initial_params(), inputs, targets,
                                     spec.learning_rate, spec.train, args.epochs, mode)
    try:
        steps = generate(p, [lookup[ch] for ch in prime], args.length, args.temperature,
                         args.seed)
    except SampleError as err:
        print(f"{PROG} sample: after {args.epochs} epochs: {err}", file=sys.stderr)
        return 1
    text = prime + "".join(vocab[s.next] for s in steps)
    if args.format == "text":
        # Line breaks the model writes are kept; any other control or format
        # character is escaped, as everywhere user text reaches the terminal.
        sys.stdout.write("\n".join(printable(line) for line in text.split("\n")) + "\n")
        return 0
    doc = {
        "model": spec.name,
        "epochs": args.epochs,
        "prime": prime,
        "temperature": args.temperature,
        "seed": args.seed,
        "text": text,
        "steps": [{"input": vocab[s.input], "y_hat": [json_number(float(v)) for v in s.y_hat],
                   "next": vocab[s.next]} for s in steps],
    }
    sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")
    return 0

