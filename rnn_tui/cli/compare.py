"""``rnn-tui compare MODEL THEIRS.json``: a student's trace against ours,
value by value; the first difference, a summary per quantity and the
likely cause. Exit 0 when every value agrees, 1 when some differ, 2 on bad
input."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rnn_tui.cli.args import (
    UsageError,
    handout_training_only,
    mode_args,
    model_and_epochs,
    positive_float,
)
from rnn_tui.core.compare import Report, compare_file
from rnn_tui.core.diagnosis import Diagnosis, diagnose
from rnn_tui.core.model_file import ModelSpec, load
from rnn_tui.core.text import json_number
from rnn_tui.core.theirs import MAX_EPOCHS, InputError

HELP = "compare a trace of your own implementation with rnn-tui's, value by value"
DESCRIPTION = """Compare THEIRS.json (the JSON `rnn-tui trace --format json [--terms]` writes, with
any subset of its numbers) with rnn-tui's values of MODEL, in the handout's step order: print the
first difference, how many values differ per quantity and the formula that is probably wrong. Exit
0 when all agree, 1 when some differ, 2 on bad input."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("theirs", type=Path, metavar="THEIRS.json")
    p.add_argument("--format", choices=("text", "json"), default="text")


def add_common(p: argparse.ArgumentParser) -> None:
    model_and_epochs(p, 1, MAX_EPOCHS, None,
                     "compare epochs 1..N only (default: every epoch in the file)")
    p.add_argument("--tol", type=positive_float, default=1e-6,
                   help="tolerance: |ours - theirs| <= tol * max(1, |ours|) (default 1e-6)")
    mode_args(p)


def check(spec: ModelSpec, path: Path, args: argparse.Namespace
          ) -> tuple[Report, Diagnosis | None]:
    """Compare one file; InputError when it cannot be compared."""
    if spec.cell != "rnn":
        from rnn_tui.core import cell_trace_compare
        from rnn_tui.core.theirs import load as load_theirs

        report = cell_trace_compare.compare(spec, load_theirs(path, spec), args.tol, args.mode,
                                      args.epochs)
        return report, cell_trace_compare.diagnose(report, spec.cell, spec.learning_rate)
    report = compare_file(spec, path, args.tol, args.mode, args.epochs)
    return report, diagnose(report, spec.learning_rate)


def headline(report: Report) -> str:
    first = report.first()
    if first is None:
        return f"all {report.compared} values agree within {report.tolerance:g}"
    return f"first difference: {first.describe()}"


def epochs_text(report: Report) -> str:
    e = report.epochs
    return f"epoch {e[0]}" if len(e) == 1 else f"epochs {e[0]}..{e[-1]}" if (
        e[-1] - e[0] + 1 == len(e)) else f"{len(e)} epochs"


def lines(report: Report, diagnosis: Diagnosis | None) -> list[str]:
    out = [headline(report),
           f"{report.differ} of {report.compared} values differ ({epochs_text(report)}, "
           f"tolerance {report.tolerance:g}):"]
    rows = report.summary()
    width = max(len(s.label) for s in rows)
    num = max(len(str(s.compared)) for s in rows)
    out.append(f"  {'quantity':<{width}}  {'differ':>{max(num, 6)}}  {'of':>{num}}  from")
    for s in rows:
        out.append(f"  {s.label:<{width}}  {s.differ:>{max(num, 6)}}  {s.compared:>{num}}"
                   + (f"  {s.first}" if s.first else ""))
    if not report.all_agree:
        out.append(f"diagnosis: {diagnosis.text}" if diagnosis else
                   "diagnosis: no known pattern; start from the first difference")
    return out


def as_dict(report: Report, diagnosis: Diagnosis | None) -> dict[str, Any]:
    first = report.first()
    where = None
    if first is not None:
        pos = first.position
        where = {"epoch": pos.epoch, "phase": pos.phase.value, "step": first.step,
                 "quantity": first.quantity, "entry": [i + 1 for i in first.entry],
                 "expected": json_number(first.expected), "got": json_number(first.got),
                 "text": first.describe()}
    return {
        "agree": report.all_agree, "compared": report.compared, "differ": report.differ,
        "tolerance": report.tolerance, "epochs": list(report.epochs),
        "first_difference": where,
        "summary": [{"quantity": s.label, "field": s.field, "compared": s.compared,
                     "differ": s.differ, "first": s.first} for s in report.summary()],
        "diagnosis": None if diagnosis is None else {"key": diagnosis.key,
                                                     "text": diagnosis.text},
    }


def run(args: argparse.Namespace) -> int:
    spec, _ = load(args.model)
    handout_training_only(spec, "compare")
    try:
        report, diagnosis = check(spec, args.theirs, args)
    except InputError as err:
        raise UsageError(str(err)) from None
    if args.format == "json":
        doc = {"model": spec.name, "file": str(args.theirs), **as_dict(report, diagnosis)}
        sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")
    else:
        sys.stdout.write("\n".join(lines(report, diagnosis)) + "\n")
    return 0 if report.all_agree else 1
