"""`rnn-tui import-torch`: a PyTorch nn.Embedding + nn.RNN + nn.Linear state
dict (a .safetensors file) as a complete rnn-tui model file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnn_tui.cli.args import PROG, UsageError, positive_float
from rnn_tui.cli.interop import need
from rnn_tui.core.files import write_atomic
from rnn_tui.core.model_file import ModelFileError, validate

HELP = "a PyTorch Embedding + RNN (or LSTM) + Linear state dict (.safetensors) as a model file"
DESCRIPTION = """Read the weights of nn.Embedding(K, D) + nn.RNN(D, H) (tanh, 1 layer,
unidirectional) + nn.Linear(H, K) from a .safetensors file (data only, no pickle) and write a model
file: E = embedding weight, U = weight_ih_l0, W = weight_hh_l0, b = bias_ih_l0 + bias_hh_l0, V, c =
the Linear's weight and bias. An nn.LSTM(D, H) (4H x H weights) becomes cell = "lstm": its rows
i, f, g, o are U_i, U_f, U_g, U_o (W_g, b_g likewise). nn.GRU is a different cell and is refused.
Tensors are found by the ends of their names and their shapes. Never overwrites a file without
--force."""
COMMAND = "import-torch"
# The model file's fields -> the options that set them (for one-line errors).
OPTIONS = {"text": "--text", "vocab": "--vocab", "learning_rate": "--learning-rate",
           "name": "--name"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("weights", type=Path, metavar="WEIGHTS.safetensors")
    text = p.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="training text (the model's sequence)")
    text.add_argument("--text-file", type=Path, metavar="FILE",
                      help="read the training text from a UTF-8 file (less one final newline)")
    p.add_argument("--vocab", required=True,
                   help="the characters of the embedding's rows, in order (K of them)")
    p.add_argument("--learning-rate", type=positive_float, default=0.1, metavar="ETA",
                   help="eta of the model file (default 0.1)")
    p.add_argument("--name", default=None, help="model name (default: the weights file's stem)")
    for module in ("embedding", "rnn", "linear"):
        p.add_argument(f"--prefix-{module}", default=None, metavar="PREFIX",
                       help=f"the nn.{module.capitalize() if module != 'rnn' else 'RNN'} "
                       f"module's name in the state dict (e.g. 'model.{module}'), when two fit")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="file to write (default: standard output)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")


def _text(args: argparse.Namespace) -> str:
    if args.text is not None:
        return args.text
    path: Path = args.text_file
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    except OSError as err:
        raise UsageError(f"{path}: cannot read: {err.strerror or err}") from None
    return text.removesuffix("\n")


def run(args: argparse.Namespace) -> int:
    text = _text(args)
    name = args.name if args.name is not None else (args.weights.stem[:64] or "model")
    # The arguments first, with a stand-in init, so a bad --text or --vocab is
    # named as the option before the weights file is read.
    try:
        validate({"name": name, "text": text, "vocab": args.vocab, "embedding_dim": 1,
                  "hidden_size": 1, "learning_rate": args.learning_rate,
                  "init": {"seed": 0}}, "")
    except ModelFileError as err:
        option = OPTIONS.get(err.field or "", err.field)
        message = err.message.replace("not in vocab", "not in --vocab")
        raise UsageError(f"{PROG} {COMMAND}: {option}: {message}") from None
    need("safetensors.numpy", COMMAND)
    from rnn_tui.core.torch_weights import InteropError, model_file_text, read_weights

    prefixes = {"embedding": args.prefix_embedding, "rnn": args.prefix_rnn,
                "linear": args.prefix_linear}
    try:
        imported = read_weights(args.weights, len(args.vocab), prefixes)
        out = model_file_text(imported, str(args.weights), text, args.vocab,
                              args.learning_rate, name)
    except InteropError as err:
        raise UsageError(str(err)) from None
    if imported.unused:
        shown = ", ".join(imported.unused[:8]) + (" ..." if len(imported.unused) > 8 else "")
        print(f"{PROG} {COMMAND}: note: not used: {shown}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(out)
        return 0
    write_atomic(args.output, out, force=args.force)
    p = imported.params
    cell = "" if getattr(p, "cell", "rnn") == "rnn" else f"{p.cell.upper()}, "  # type: ignore[union-attr]
    print(f"wrote {args.output} ({cell}K={p.get('E').shape[0]}, D={p.get('E').shape[1]}, "
          f"H={p.get('V').shape[1]}, T={len(text) - 1})", file=sys.stderr)
    return 0
