"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks and
print one table of medians and ratios measured in this run."""

from __future__ import annotations

# First, before anything imports NumPy: one BLAS thread.
from bench import pin_blas

BLAS_NOTE = pin_blas()

import argparse  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

from bench.common import Row, Section, table  # noqa: E402

# name -> (module, one line). Order is the order of the table.
BENCHMARKS = {
    "train": ("bench.train", "training throughput against plain NumPy and PyTorch"),
    "latency": ("bench.latency", "keypress to repainted screen, inside the real app"),
    "startup": ("bench.startup", "rnn-tui to its first painted frame, in a pty"),
    "memory": ("bench.memory", "peak RSS after long jumps and back"),
    "growth": ("bench.growth", "cost growth with T and with the epoch jumped to"),
    "tbptt": ("bench.tbptt", "truncated BPTT + Adagrad against min-char-rnn's loop"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="rnn-tui benchmarks: medians and ratios, one run.")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and few repetitions (the CI smoke test)")
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    chosen = args.only or list(BENCHMARKS)

    import numpy as np

    quick = " (--quick: tiny sizes, timings indicative only)" if args.quick else ""
    print(f"rnn-tui benchmarks{quick}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")
    print(f"BLAS pinned to one thread: {BLAS_NOTE}")
    print("every ratio compares medians measured in this run, interleaved", flush=True)

    sections: list[Section] = []
    started = time.perf_counter()
    failed = False
    for name in chosen:
        module, about = BENCHMARKS[name]
        t0 = time.perf_counter()
        sys.stdout.flush()
        print(f"... {name}: {about}", file=sys.stderr, flush=True)
        try:
            sec = importlib.import_module(module).run(args.quick)
        except Exception:
            failed = True
            sec = Section(name, [Row(name, "", "benchmark crashed", status="FAILED")],
                          [traceback.format_exc()])
        sec.notes.append(f"{name}: took {time.perf_counter() - t0:.1f} s")
        sections.append(sec)

    print()
    print(table([r for s in sections for r in s.rows]))
    print()
    for s in sections:
        for note in s.notes:
            print(note)
    rows = [r for s in sections for r in s.rows]
    missed = [r for r in rows if r.status == "MISSED"]
    broken = [r for r in rows if r.status == "FAILED"]
    print()
    print(f"targets: {sum(r.status == 'met' for r in rows)} met, {len(missed)} missed; "
          f"checks: {sum(r.status == 'ok' for r in rows)} ok, {len(broken)} failed; "
          f"total {time.perf_counter() - started:.1f} s")
    # Missed targets are findings, not errors; a failed check or a crash is.
    return 1 if failed or broken else 0


if __name__ == "__main__":
    sys.exit(main())
