"""What every command shares: one-line usage errors, the argument types
(whole numbers in a range, positive numbers, epoch lists, the dE mode), the
MODEL and --epochs arguments, and writing a result to standard output or a file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

PROG = "rnn-tui"
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


def user_errors() -> tuple[type[Exception], ...]:
    """What a user causes (one line, exit 2): a usage error, and a model file's
    or a write's error once their module is loaded (it raised none before)."""
    errors: list[type[Exception]] = [UsageError]
    for module, name in (("rnn_tui.core.model_errors", "ModelFileError"),
                         ("rnn_tui.core.files", "WriteError")):
        if module in sys.modules:
            errors.append(getattr(sys.modules[module], name))
    return tuple(errors)


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line and never a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def int_in(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be in {lo}..{hi}, got {value}")
        return value

    return parse


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def epoch_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected epochs separated by commas, e.g. 1,2,50,100, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"epochs must be >= 1, got {text!r}")
    return values


def mode_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--handout", dest="mode", action="store_const", const="x_t",
                   help="use the handout's printed dE (term (t, k) into the row of x_t)")
    g.add_argument("--exact", dest="mode", action="store_const", const="x_k",
                   help="use the exact dE (term (t, k) into the row of x_k)")


def model_and_epochs(p: argparse.ArgumentParser, lo: int, hi: int, default: int | None,
                     help: str | None = None) -> None:
    """The MODEL argument and --epochs N (a whole number in lo..hi)."""
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--epochs", type=int_in(lo, hi), default=default, help=help)


def write_output(text: str, output: Path | None, force: bool, note: str = "") -> int:
    """The text on standard output, or written to OUTPUT (never over an existing
    file without --force) with `wrote OUTPUT` and the note on stderr. Exit status 0."""
    if output is None:
        sys.stdout.write(text)
        return 0
    from rnn_tui.core.files import write_atomic  # NumPy only when a command writes
    from rnn_tui.core.text import printable

    write_atomic(output, text, force=force)
    print(f"wrote {printable(str(output))}{note}", file=sys.stderr)
    return 0


def handout_training_only(spec: object, command: str) -> None:
    """``command`` follows the handout's training: a model whose [train] table
    changes it (issue 16) is one line, not numbers from another training."""
    train = getattr(spec, "train", None)
    if train is not None and not train.is_handout:
        raise UsageError(
            f"{PROG} {command}: the model's [train] table ({train.summary()}) is not supported "
            f"by {command}, which follows the handout's training (SGD, whole text, no "
            "clipping); use trace, train, sample or the debugger")
