"""What every forward record reads the same way: maths.Forward (the RNN's)
and the gated cells' (cells.common.CellRecord): the number of steps, the
total loss and the predictions, from the inputs, ŷ and the per-step losses."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class Outputs:
    """Mixed into the forward records (frozen dataclasses with these fields)."""

    __slots__ = ()

    inputs: NDArray[np.intp]  # (T,)
    y_hat: NDArray[np.float64]  # (T, K)
    loss: NDArray[np.float64]  # (T,)

    @property
    def T(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def total_loss(self) -> float:
        with np.errstate(all="ignore"):
            return float(self.loss.sum())

    @property
    def predictions(self) -> NDArray[np.intp]:
        """argmax of y_hat_t; NaN rows predict index 0 (np.argmax's choice)."""
        return np.argmax(self.y_hat, axis=1)
