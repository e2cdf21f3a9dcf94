"""``rnn-tui compare-cells TEXT``: the RNN's and the LSTM's (or GRU's) BPTT
triangles ‖∂L_t/∂s_k‖ for the same text, side by side (issue 17)."""

from __future__ import annotations

import argparse
import difflib
import json
import math
import shutil
import sys
from typing import Any

from rnn_tui.cli.args import PROG, UsageError, int_in, positive_float
from rnn_tui.core.cell_compare import (
    MAX_SIZE,
    MODELS,
    TITLES,
    CompareError,
    Comparison,
    compare,
    summary_lines,
)
from rnn_tui.core.text import json_number, printable

HELP = "the RNN's and the LSTM's or GRU's BPTT triangles for one text, side by side"
DESCRIPTION = """Build an RNN and a GRU and/or an LSTM for TEXT with comparable initial values (the
same seed; `new`'s fan-in scaling: E ~ N(0, scale^2), every U ~ N(0, scale^2/D), every W and V ~
N(0, scale^2/H), biases 0 but the LSTM's forget bias), optionally train them N epochs, and show
each model's triangle of ||dL_t/ds_k|| (s = h; (h, C) for the LSTM) with the median at each lag
t-k, so the RNN's vanishing gradients and the gated cells' remedy show as numbers."""
MAX_EPOCHS = 100_000


def cell_list(text: str) -> list[str]:
    names = [n.strip().lower() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected cells separated by commas, e.g. rnn,lstm, "
                                         f"got {text!r}")
    for n in names:
        if n not in MODELS:
            close = difflib.get_close_matches(n, MODELS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise argparse.ArgumentTypeError(
                f"unknown cell {n!r} (choose from {', '.join(MODELS)}){hint}")
    return list(dict.fromkeys(names))


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or abs(value) > 100:
        raise argparse.ArgumentTypeError(f"must be a finite number in -100..100, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", metavar="TEXT",
                        help="the text (inputs TEXT[:-1], targets TEXT[1:]), 3 to 400 characters")
    parser.add_argument("--cells", type=cell_list, default=["rnn", "lstm"], metavar="A,B",
                        help="models to compare: rnn, gru, lstm (default rnn,lstm)")
    parser.add_argument("--hidden", type=int_in(1, MAX_SIZE), default=8, metavar="H",
                        help="H (default 8)")
    parser.add_argument("--embed", type=int_in(1, MAX_SIZE), default=4, metavar="D",
                        help="D (default 4)")
    parser.add_argument("--seed", type=int_in(0, 2**63 - 1), default=0, help="default 0")
    parser.add_argument("--scale", type=positive_float, default=0.5,
                        help="the draws' scale before fan-in (default 0.5, as new's)")
    parser.add_argument("--forget-bias", type=finite_float, default=0.0, metavar="B",
                        help="the LSTM's initial b_f (default 0, as PyTorch; 1 is the usual "
                        "remedy)")
    parser.add_argument("--epochs", type=int_in(0, MAX_EPOCHS), default=0, metavar="N",
                        help="epochs of SGD on the whole text before the triangles (default 0)")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help="learning rate (default: new's, 0.1 up to T = 10, then 1/T)")
    parser.add_argument("--format", choices=("tui", "text", "json"), default="tui",
                        help="tui (default) opens a view; text and json print")
    parser.add_argument("--width", type=int_in(40, 1000), default=None, metavar="W",
                        help="text: the width to fit (default: the terminal's, else 100)")
    parser.add_argument("--theme", choices=("dark", "light", "projector", "mono"), default=None,
                        help="tui: colours (default dark; mono when NO_COLOR is set)")


def run(args: argparse.Namespace) -> int:
    from rnn_tui.cli import default_lr

    lr = args.lr if args.lr is not None else default_lr(len(args.text) - 1)
    try:
        result = compare(args.text, args.cells, args.hidden, args.embed, args.seed, args.scale,
                         args.epochs, lr, args.forget_bias)
    except CompareError as err:
        raise UsageError(f"{PROG} compare-cells: {err}") from None
    if args.format == "json":
        sys.stdout.write(json.dumps(as_json(result), allow_nan=False) + "\n")
        return 0
    if args.format == "text":
        width = args.width or shutil.get_terminal_size((100, 24)).columns
        sys.stdout.write("\n".join(as_text(result, max(40, width))) + "\n")
        return 0
    from rnn_tui.cli import streams
    from rnn_tui.tui.screens.cell_compare import run_view

    streams.for_terminal("compare-cells")
    return run_view(result, theme=args.theme)



def as_json(c: Comparison) -> dict[str, Any]:
    """The comparison as JSON: norms[cell][t−1] is row t, its t entries k = 1..t."""
    tri = c.triangles
    return {
        "text": c.text, "cells": list(tri), "hidden": c.hidden, "embed": c.embed,
        "seed": c.seed, "scale": c.scale, "forget_bias": c.forget_bias, "epochs": c.epochs,
        "learning_rate": c.learning_rate, "vocab": c.vocab, "T": len(c.text) - 1,
        "norms": {m: [[json_number(float(v)) for v in tr.norms[t, :t + 1]] for t in range(tr.T)]
                  for m, tr in tri.items()},
        "by_lag": {m: [json_number(float(v)) for v in tr.by_lag()] for m, tr in tri.items()},
        "ratio": {m: json_number(tr.ratio()) for m, tr in tri.items()},
        "per_step": {m: json_number(tr.per_step()) for m, tr in tri.items()},
        "loss": {m: json_number(float(tr.losses[-1])) for m, tr in tri.items()},
    }


def as_text(c: Comparison, width: int) -> list[str]:
    """Each triangle (numbers where they fit), one under the other, on one
    shading scale, then the per-lag summary."""
    from rnn_tui.tui.widgets.cell_triangle import legend, triangle_lines

    top = c.top()
    head = f"T={len(c.text) - 1} K={len(c.vocab)} text {printable(c.text)!r}"
    out = [head if len(head) <= width else head[:width - 1] + "…",
           f"H={c.hidden} D={c.embed} seed {c.seed} scale {c.scale} forget bias "
           f"{c.forget_bias}, {c.epochs} epochs at learning rate {c.learning_rate}", ""]
    for m, tr in c.triangles.items():
        out += [line.plain for line in triangle_lines(tr.norms, width, TITLES[m], top=top,
                                                      show_legend=False)]
        out.append("")
    out += [line.plain for line in legend(top, width)]
    return [*out, "", *summary_lines(c, width)]
