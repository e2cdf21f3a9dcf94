"""Benchmarks of rnn-tui: ``python -m bench`` from the repository root.

How fast, against what, and how cost grows: training throughput against a
plain NumPy BPTT loop (and PyTorch when it is installed), keypress latency
inside the real app, startup to the first painted frame, peak memory over
long jumps, and the growth of cost with T and with the epoch jumped to.

Every comparison is measured in the same run, interleaved, and reported as
medians and ratios of medians: on a shared machine absolute numbers drift,
ratios measured side by side much less.

This module imports nothing numerical: :func:`pin_blas` must run before
NumPy is first imported, so that every benchmark (and every subprocess it
starts, which inherits the environment) uses one BLAS thread.
"""

from __future__ import annotations

import os

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pin_blas() -> str:
    """Pin BLAS (and OpenMP) to one thread; return a line saying how."""
    import sys

    late = "numpy" in sys.modules
    for name in BLAS_VARS:
        os.environ[name] = "1"
    how = "set " + ", ".join(f"{n}=1" for n in BLAS_VARS) + " before importing numpy"
    if late:  # too late for the variables: limit the live pools if we can
        how = "numpy was already imported; " + how.replace(" before importing numpy", "")
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-not-found]
    except ImportError:
        return how + (" (threadpoolctl not installed)" if late else "")
    import numpy  # noqa: F401  (so threadpoolctl sees its BLAS)

    threadpool_limits(1)
    return how + "; threadpoolctl limits every pool to 1 thread"
