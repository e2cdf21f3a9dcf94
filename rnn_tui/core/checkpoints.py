"""The parameters at the start of epochs, in bounded memory: :class:`EpochCheckpoints`.

A numeric cache of the stepper, documented with the others in core/epochs.py's
docstring (every epoch not kept is recomputed bit-for-bit from the nearest one).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from rnn_tui.core.maths import Params
from rnn_tui.core.optim import OptimizerState, SgdState
from rnn_tui.core.params import FILE_ORDER


@dataclass
class EpochCheckpoints:
    """Parameters at the start of epochs, in bounded memory.

    ``sparse`` keeps epochs 1, 1+s, 1+2s, ... (s = stride); when it holds
    more than ``limit`` entries the stride doubles and every other one is
    dropped. ``recent`` keeps the last few epochs touched. ``losses`` keeps
    one float per epoch computed so far, for the loss plot.

    Unless given, ``limit`` (at most 64) and ``recent_size`` (at most 16)
    come from ``budget``, the bytes of parameters kept: three quarters for
    the sparse ones, a quarter for the recent ones. A small model keeps 80
    sets; K=64, D=32, H=128 (250 KB a set) keeps 16, about 4 MB, so a long
    jump leaves memory flat; the price is a longer recomputation when
    jumping far back (at most ``stride`` epochs).
    """

    first: Params
    limit: int = 0  # 0: from the budget
    recent_size: int = 0  # 0: from the budget
    stride: int = 16
    budget: int = 4 * 2**20
    sparse: dict[int, Params] = field(default_factory=dict)
    recent: OrderedDict[int, Params] = field(default_factory=OrderedDict)
    losses: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    first_nonfinite_epoch: int | None = None
    nonfinite: Any = None  # that Epoch or EpochRun, kept whole: where it went wrong is asked often
    states: dict[int, OptimizerState] = field(default_factory=dict)
    """The optimizer's state at the start of the epochs kept (none for SGD)."""

    @staticmethod
    def set_bytes(p: Any) -> int:
        """The bytes of one set of parameters (E, U, W, b, V, c for the RNN)."""
        return sum(p.get(n).nbytes for n in FILE_ORDER)

    def __post_init__(self) -> None:
        size = max(1, self.set_bytes(self.first))
        if not self.limit:
            self.limit = max(8, min(64, self.budget * 3 // 4 // size))
        if not self.recent_size:
            self.recent_size = max(4, min(16, self.budget // 4 // size))
        self.sparse[1] = self.first

    @property
    def known(self) -> int:
        """Epochs 1..known have been computed at least once."""
        return len(self.losses)

    def nearest_below(self, epoch: int) -> tuple[int, Params]:
        cands = [e for e in self.sparse if e <= epoch] + [e for e in self.recent if e <= epoch]
        best = max(cands)
        return best, self.recent.get(best, self.sparse.get(best))  # type: ignore[return-value]

    def state(self, epoch: int) -> OptimizerState | None:
        """The optimizer state kept with epoch ``epoch``'s parameters (None: SGD's)."""
        return self.states.get(epoch)

    def remember(self, epoch: int, params: Params, state: OptimizerState | None = None) -> None:
        if state is not None and not isinstance(state, SgdState):
            self.states[epoch] = state
        self.recent[epoch] = params
        self.recent.move_to_end(epoch)
        while len(self.recent) > self.recent_size:
            self.recent.popitem(last=False)
        if (epoch - 1) % self.stride == 0:
            self.sparse[epoch] = params
            if len(self.sparse) > self.limit:
                self.stride *= 2
                self.sparse = {e: p for e, p in self.sparse.items() if (e - 1) % self.stride == 0}
        if self.states:
            self.states = {e: s for e, s in self.states.items()
                           if e in self.sparse or e in self.recent}

    def record(self, epoch: Any) -> None:
        """Loss history and first divergence, for epochs seen in order."""
        if epoch.number == self.known + 1:
            self.losses.append(epoch.total_loss)
            self.correct.append(epoch.all_correct)
            if self.first_nonfinite_epoch is None and not epoch.finite:
                self.first_nonfinite_epoch = epoch.number
                self.nonfinite = epoch
