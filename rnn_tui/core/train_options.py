"""The model file's optional ``[train]`` table (issue 16), as one typed model.

Without the table training is exactly the handout's: SGD, no clipping, the
whole text as one sequence. ``model_file.ModelSpec`` adopts it with one field,
``train: TrainOptions = TrainOptions()``; its error reporting already turns a
ValueError raised here into ``FILE: train.FIELD: message``. This module does
not import model_file (so that model_file can import it).
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

OPTIMIZERS = ("sgd", "momentum", "adagrad", "adam")
Optimizer = Literal["sgd", "momentum", "adagrad", "adam"]
MAX_SEQ_LENGTH = 1_000_000


class TrainOptions(BaseModel):
    """How to train: the optimizer, its constants, clipping and truncated BPTT."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    optimizer: Optimizer = "sgd"
    """sgd (the handout's), momentum, adagrad (min-char-rnn's) or adam."""
    momentum: float = Field(default=0.9, ge=0, lt=1)
    """mu of momentum: v <- mu v + g; theta <- theta - eta v."""
    beta1: float = Field(default=0.9, ge=0, lt=1)
    """Adam's decay of the first moment m."""
    beta2: float = Field(default=0.999, ge=0, lt=1)
    """Adam's decay of the second moment v."""
    eps: float = Field(default=1e-8, gt=0)
    """Adam's eps in theta <- theta - eta m_hat / (sqrt(v_hat) + eps)."""
    clip_value: float | None = Field(default=None, gt=0)
    """Clip each gradient entry to [-clip_value, clip_value] before the update."""
    clip_norm: float | None = Field(default=None, gt=0)
    """Scale all the gradients (the RNN's six, a cell's 12 or 15) by min(1, clip_norm / ||g||_2)."""
    seq_length: int | None = Field(default=None, ge=1, le=MAX_SEQ_LENGTH)
    """Truncated BPTT: chunks of this many steps, h carried across chunks.
    Unset: the whole text is one chunk (the handout)."""

    @field_validator("optimizer", mode="before")
    @classmethod
    def _known_optimizer(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in OPTIMIZERS:
            close = difflib.get_close_matches(value.lower(), OPTIMIZERS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            shown = value if len(value) <= 20 else value[:17] + "..."
            raise ValueError(f"unknown optimizer {shown!r}; {hint}expected one of "
                             f"{', '.join(OPTIMIZERS)}")
        return value

    @field_validator("clip_norm")
    @classmethod
    def _one_clipping(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("clip_value") is not None:
            raise ValueError("give clip_value or clip_norm, not both")
        return value

    def summary(self) -> str:
        """One line for ``check``: the optimizer and its constants, clipping, chunks."""
        parts = [self.optimizer]
        if self.optimizer == "momentum":
            parts[0] += f" (mu = {self.momentum})"
        elif self.optimizer == "adam":
            parts[0] += f" (beta1 = {self.beta1}, beta2 = {self.beta2}, eps = {self.eps})"
        if self.clip_value is not None:
            parts.append(f"clip_value = {self.clip_value}")
        elif self.clip_norm is not None:
            parts.append(f"clip_norm = {self.clip_norm}")
        else:
            parts.append("no clipping")
        parts.append("whole text per update" if self.seq_length is None
                     else f"seq_length = {self.seq_length}")
        return ", ".join(parts)

    @property
    def is_handout(self) -> bool:
        """True when training is exactly the handout's (SGD, no clipping, one chunk)."""
        return (self.optimizer == "sgd" and self.clip_value is None
                and self.clip_norm is None and self.seq_length is None)
