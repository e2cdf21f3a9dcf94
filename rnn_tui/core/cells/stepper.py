"""Stepping a GRU or an LSTM, one step of the handout's loop per ``next()``.

The RNN's machinery (core/stepper.py) with the cells' numbers: an epoch is

    forward t = 1..T, output gradients t = 1..T,
    BPTT terms (t, k), t = 1..T, k = t..1, updates in PARAM_NAMES order
    (V, c, then W_g, U_g, b_g gate by gate, then E),

per chunk with ``[train] seq_length`` (h, and C for the LSTM, carried).
Position, Phase and the navigation are the RNN stepper's; :class:`CellLayout`
has the cell's number of updates; the epochs are cells/epochs.py's and the
checkpoints core/checkpoints.py's EpochCheckpoints sized for the cell's names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.cells.epochs import CellEpoch, CellRun, first_state
from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.checkpoints import EpochCheckpoints
from rnn_tui.core.maths import EmbeddingRows
from rnn_tui.core.optim import OptimizerState
from rnn_tui.core.stepper import Layout, Phase, Position, Stepper
from rnn_tui.core.train_options import TrainOptions

if TYPE_CHECKING:
    from rnn_tui.core.cells.view import CellView


class CellLayout(Layout):
    """Layout with the cell's parameter names as the update steps."""

    names: tuple[str, ...] = ()

    def count(self, phase: Phase, chunk: int = 0) -> int:
        if phase is Phase.UPDATE:
            return len(self.names)
        return super().count(phase, chunk)

    def chunk_layout(self, chunk: int) -> Layout:
        return self if self.chunks == 1 else CellLayout(T=self.size(chunk), names=self.names)

    def label(self, pos: Position) -> str:
        if pos.phase is not Phase.UPDATE:
            return super().label(pos)
        text = f"update {self.names[pos.index]} ({pos.index + 1}/{len(self.names)})"
        if self.seq_length is None:
            return text
        return f"chunk {pos.chunk + 1}/{self.chunks} · {text}"


class CellCheckpoints(EpochCheckpoints):
    """EpochCheckpoints sized by the cell's own parameters."""

    @staticmethod
    def set_bytes(p: Any) -> int:
        return sum(a.nbytes for a in p.arrays.values())


class CellStepper(Stepper):
    """Walks a GRU or an LSTM through training, one step at a time."""

    checkpoints_class = CellCheckpoints

    def __init__(self, params: CellParams, inputs: NDArray[np.intp], targets: NDArray[np.intp],
                 learning_rate: float, options: TrainOptions | None = None,
                 mode: EmbeddingRows = "x_k", spec: Any = None) -> None:
        self.spec = spec
        self.cell = params.cell
        self.mode = mode
        self.learning_rate = learning_rate
        self.options = options or TrainOptions()
        self.inputs = np.asarray(inputs, dtype=np.intp)
        self.targets = np.asarray(targets, dtype=np.intp)
        self.layout = CellLayout(T=int(self.inputs.shape[0]), seq_length=self.options.seq_length,
                                 names=params.names)
        self._init: Any = params
        self._init_state = first_state(self.options, params)
        self._reset_caches()
        self.position = Position(epoch=1, phase=Phase.FORWARD, index=0)

    @staticmethod
    def from_spec(spec: Any, mode: str | None = None) -> CellStepper:
        """From a model file with ``cell = "gru"|"lstm"`` (ModelSpec.initial_cell_params)."""
        inputs, targets = spec.indices()
        return CellStepper(spec.initial_cell_params(), inputs, targets, spec.learning_rate,
                           spec.train, mode or spec.bptt.embedding_rows, spec=spec)  # type: ignore[arg-type]

    def _new_epoch(self, number: int, params: Any, state: OptimizerState) -> Any:
        return CellRun(number, params, state, self.training, self.layout.spans())

    @property
    def current(self) -> CellEpoch:  # type: ignore[override]
        return self._epoch  # type: ignore[return-value]

    @property
    def run(self) -> CellRun:  # type: ignore[override]
        return self._run  # type: ignore[return-value]

    def end_of_epoch(self) -> Position:
        return self.goto(Position(epoch=self.position.epoch, phase=Phase.UPDATE,
                                  index=len(self.layout.names) - 1,  # type: ignore[attr-defined]
                                  chunk=self.layout.chunks - 1))

    def view(self) -> CellView:  # type: ignore[override]
        from rnn_tui.core.cells.view import CellView

        return CellView(self, self.current, self.position)

    def peek(self, pos: Position) -> CellView:  # type: ignore[override]
        from rnn_tui.core.cells.view import CellView

        self.layout.check(pos)
        return CellView(self, self.epoch(pos.epoch).chunk(pos.chunk), pos)  # type: ignore[arg-type]
