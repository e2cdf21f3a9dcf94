"""rnn-tui: a terminal step-through debugger for a character-level RNN.

The core (``maths``, ``model_file``, ``stepper``, ``report``, ``cli``) never
imports Textual; only ``app`` and its widgets do.
"""

import os

# One BLAS thread, unless the user chose otherwise. Our products are small
# (a 128x128 matrix times a vector per step at most): OpenBLAS's threads cost
# more to wake than they save, and on a busy 2-core machine a BPTT key of a
# K64/H128/T200 model took 12 ms instead of 1 ms in one partial sum. This runs
# before anything here imports NumPy; a NumPy imported earlier keeps its pool.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
del _name

__version__ = "0.1.0"
