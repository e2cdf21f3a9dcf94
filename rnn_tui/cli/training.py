"""The ``train`` and ``check`` commands (split from cli/__init__.py for its size)."""

from __future__ import annotations

import argparse
import sys

from rnn_tui.cli.args import PROG
from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.model_file import ModelSpec, load
from rnn_tui.core.model_init import file_order
from rnn_tui.core.params import FILE_ORDER
from rnn_tui.core.text import fmt, printable


def default_report_epochs(n: int) -> list[int]:
    marks = [1, 2, 10, 50, 100, 150, 500, 1000, 5000, 10_000, 100_000]
    return [e for e in marks if e < n] + [n]


def cmd_train(args: argparse.Namespace) -> int:
    from rnn_tui.core import report
    from rnn_tui.core.sample import greedy_line

    spec, _ = load(args.model)
    mode = args.mode or spec.bptt.embedding_rows
    n = args.epochs
    wanted = sorted({e for e in (args.report or default_report_epochs(n)) if e <= n} | {n})
    show_progress = sys.stderr.isatty() and n >= 20_000
    print(f"{printable(spec.name)}: T={spec.T} K={spec.K} D={spec.embedding_dim} "
          f"H={spec.hidden_size} eta={spec.learning_rate} dE rows={mode}")
    if not spec.train.is_handout:
        print(f"training: {spec.train.summary()}")
    print(f"{'epoch':>8}  {'total loss':>12}  {'min so far':>12}")
    best = float("inf")
    e = 0
    try:
        for e, (loss, p) in enumerate(report.loss_and_params(spec, n, mode, args.sample),
                                      start=1):
            if loss < best:  # NaN never counts as a minimum
                best = loss
            if e in wanted:
                print(f"{e:>8}  {fmt(loss):>12}  {fmt(best):>12}", flush=True)
            if p is not None:
                print(f"  sample after epoch {e}: {greedy_line(spec, p, args.sample_length)}",
                      flush=True)
            if show_progress and e % 10_000 == 0:
                print(f"\r  epoch {e}/{n}", end="", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print(f"\n{PROG} train: interrupted at epoch {e} of {n}", file=sys.stderr)
        return 130
    if show_progress:
        print("\r" + " " * 30 + "\r", end="", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from rnn_tui.core.tbptt import spans
    from rnn_tui.core.text import char

    spec, path = load(args.model)
    T = spec.T
    terms = T * (T + 1) // 2
    if spec.cell != "rnn":
        q = spec.initial_cell_params()
        n_params = sum(a.size for a in q.arrays.values())
    else:
        p = spec.initial_params()
        n_params = sum(p.get(name).size for name in FILE_ORDER)
    init = f"seed {spec.init.seed}" if spec.init.seed is not None else "explicit values"
    print(f"{printable(str(path))}: ok")
    print(f"  name      {printable(spec.name)}")
    source = "" if spec.text_file is None else f", from {printable(spec.text_file)}"
    print(f"  text      {''.join(char(c) for c in spec.text[:60])}"
          f"{'...' if len(spec.text) > 60 else ''} (T = {T}{source})")
    print(f"  vocab     {' '.join(char(c) for c in spec.alphabet)} (K = {spec.K})")
    print(f"  sizes     D = {spec.embedding_dim}, H = {spec.hidden_size}, "
          f"{n_params} parameters")
    if spec.cell != "rnn":
        return _check_cell(spec, q)
    print(f"  training  eta = {spec.learning_rate}, init from {init}, "
          f"dE rows = {spec.bptt.embedding_rows}")
    print(f"  updates   {spec.train.summary()}")
    if spec.train.seq_length is None:
        print(f"  stepping  {2 * T + terms + 6} steps per epoch "
              f"({T} forward, {T} output, {terms} BPTT, 6 updates)")
    else:
        sizes = [stop - start for start, stop in spans(T, spec.train.seq_length)]
        steps = sum(2 * n + n * (n + 1) // 2 + 6 for n in sizes)
        print(f"  stepping  {steps} steps per epoch: {len(sizes)} chunks of at most "
              f"{max(sizes)} steps (forward, output, BPTT, 6 updates each)")
    from rnn_tui.core.divergence import trial

    print(f"  trial     {trial(spec)}")
    return 0


def _check_cell(spec: ModelSpec, q: CellParams) -> int:
    """The rest of `check` for a GRU or an LSTM: its gates, its training."""
    from rnn_tui.core.cells import STATES

    init = f"seed {spec.init.seed}" if spec.init.seed is not None else "explicit values"
    state = " and ".join(STATES[q.cell])
    print(f"  cell      {q.cell.upper()}: gates {', '.join(q.gates)}; carries {state}; "
          f"parameters {', '.join(file_order(q.cell))}")
    print(f"  training  eta = {spec.learning_rate}, init from {init}, "
          f"dE rows = {spec.bptt.embedding_rows}")
    print(f"  updates   {spec.train.summary()}")
    from rnn_tui.core.divergence import trial

    print(f"  trial     {trial(spec)}")
    return 0
