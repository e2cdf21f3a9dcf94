"""``rnn-tui grade MODEL FILE...``: `compare` for a folder of submissions,
one row per file (first difference, how many values differ, diagnosis) and
a summary line; ``--format csv`` for a spreadsheet. Exit 0 when every file
agrees, 1 otherwise, 2 when the model or the arguments are bad (a bad
student file is a row of the table, not the end of the run)."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from rnn_tui.cli.args import UsageError, handout_training_only
from rnn_tui.cli.compare import add_common, check
from rnn_tui.core.model_file import load
from rnn_tui.core.text import printable
from rnn_tui.core.theirs import InputError

HELP = "compare every student's trace with rnn-tui's: one row per file"
DESCRIPTION = """Run `rnn-tui compare` on every FILE (a directory stands for the .json files in it)
and print one row per file: agree, differ or bad input, how many values differ, the first
difference and the likely cause; then a summary line."""
COLUMNS = ("file", "result", "compared", "differ", "first difference", "diagnosis")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("files", type=Path, nargs="+", metavar="FILE")
    p.add_argument("--format", choices=("text", "csv"), default="text")


def submissions(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix == ".json" and q.is_file())
            if not found:
                raise UsageError(f"{printable(str(p))}: no .json files in this directory")
            out += found
        else:
            out.append(p)
    return out


def rows(args: argparse.Namespace) -> list[list[str]]:
    spec, _ = load(args.model)
    handout_training_only(spec, "grade")
    table = []
    for path in submissions(args.files):
        name = printable(str(path))
        try:
            report, diagnosis = check(spec, path, args)
        except InputError as err:
            detail = str(err).removeprefix(f"{name}: ")
            table.append([name, "bad input", "", "", detail, ""])
            continue
        first = report.first()
        table.append([name, "agree" if first is None else "differ", str(report.compared),
                      str(report.differ), "" if first is None else first.describe(),
                      "" if diagnosis is None else diagnosis.key])
    return table


def _cell(text: str) -> str:
    """No spreadsheet formulas from a file name: a leading = + - @ is quoted."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def run(args: argparse.Namespace) -> int:
    table = rows(args)
    counts = {r: sum(row[1] == r for row in table) for r in ("agree", "differ", "bad input")}
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows([_cell(row[0]), *row[1:]] for row in table)
    else:
        shown = [list(COLUMNS)] + [[c or "-" for c in row] for row in table]
        widths = [max(len(r[i]) for r in shown) for i in range(len(COLUMNS) - 1)]
        for row in shown:
            print("  ".join(c.ljust(w) if i != 3 and i != 2 else c.rjust(w)
                            for i, (c, w) in enumerate(zip(row, widths, strict=False)))
                  + "  " + row[-1])
        print(f"{len(table)} file{'s' * (len(table) != 1)}: {counts['agree']} agree, "
              f"{counts['differ']} differ, {counts['bad input']} bad input")
    return 0 if counts["agree"] == len(table) else 1
