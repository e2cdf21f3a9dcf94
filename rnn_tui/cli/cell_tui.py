"""``rnn-tui MODEL`` for a GRU or an LSTM model: the cells' debugger
(tui/cells/), with the RNN-only options refused in one line."""

from __future__ import annotations

import argparse

from rnn_tui.cli import streams
from rnn_tui.cli.args import UsageError
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.text import printable


def run_cell_tui(args: argparse.Namespace, spec: ModelSpec, mode: str) -> int:
    """The GRU/LSTM debugger (tui/cells/): stepping; the RNN-only options refused in one line."""
    for flag, given in (("--compare", args.compare), ("--present", args.present),
                        ("--room", args.room)):
        if given:
            title = {"gru": "a GRU", "lstm": "an LSTM"}[spec.cell]
            raise UsageError(f"{flag} is not yet for {title} model ({printable(args.model)});"
                             f" step it without {flag}")
    from rnn_tui.core.cells.stepper import CellStepper
    from rnn_tui.tui.cells.app import run_cell_app
    from rnn_tui.tui.user_config import UserConfigError, load_user_config

    streams.for_terminal()
    try:
        config = load_user_config()
    except UserConfigError as err:
        raise UsageError(str(err)) from None
    return run_cell_app(CellStepper.from_spec(spec, mode), theme=args.theme, config=config,
                        quiz=args.quiz)
