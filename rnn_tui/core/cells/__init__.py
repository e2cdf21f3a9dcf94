"""The gated cells of issue 17, GRU and LSTM: the engine the stepper, the
model file and the TUI use for ``cell = "gru"`` and ``cell = "lstm"``.

params.py (names, shapes, CellParams, SGD), gru.py and lstm.py (forward, one
step backward, the step Jacobian), bptt.py (the recursion and the per-term
double sum for either cell), fast.py (a fused training loop, bit-for-bit
bptt.train), optim.py (the [train] optimizers and clipping over a cell's
names), tbptt.py (truncated BPTT with h_0, C_0 carried). docs/cells.md has
the equations and the mapping to PyTorch.
"""

from rnn_tui.core.cells.bptt import (
    CellForward,
    CellRow,
    backward,
    backward_by_terms,
    bptt_norms,
    bptt_row,
    final_state,
    forward,
    jacobian,
    row_sums,
    step_back,
    train,
)
from rnn_tui.core.cells.params import (
    CELLS,
    GATES,
    PARAM_NAMES,
    STATES,
    Cell,
    CellGrads,
    CellParams,
    cell_of,
    param_names,
    seeded_params,
    sgd,
    shapes,
)

__all__ = [
    "CELLS", "GATES", "PARAM_NAMES", "STATES", "Cell", "CellForward", "CellGrads", "CellParams",
    "CellRow", "backward", "backward_by_terms", "bptt_norms", "bptt_row", "cell_of",
    "final_state", "forward", "jacobian", "param_names", "row_sums", "seeded_params", "sgd",
    "shapes", "step_back", "train",
]
