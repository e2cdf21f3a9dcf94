"""Does what the debugger shows match what the handout prints?

The handout's printed figures live in ``data/handout.toml`` (typed in once).
For the handout's model (same text, vocabulary and initial values) every
figure shown at a step gets a :class:`Mark`: it matches at the printed
precision, or it differs, with the printed number, ours and the reason (a
printing slip, or the handout's dE convention when running the exact
gradient). No other model gets marks.

This is one instance of :mod:`rnn_tui.core.compare`: each figure is a
:class:`~rnn_tui.core.compare.Block` (our value expected, the printed one
got, a tolerance of half a unit of the 4th decimal), our values come from
the same lookup (:func:`~rnn_tui.core.compare.value`), and the next
difference is the report's; a mark is a comparison with its reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from rnn_tui.core.compare import Block, Report, block, value
from rnn_tui.core.maths import Array
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.params import FILE_ORDER
from rnn_tui.core.stepper import Layout, Phase, Position, Stepper

HALF_UNIT = 0.5e-4 + 1e-12  # "matches at the printed precision": rounds to it
CONVENTION = ("the handout's dE convention: it puts term (t,k) into the row of x_t; "
              "exact mode uses x_k (m switches)")


@dataclass(frozen=True)
class Figure:
    name: str
    printed: Array
    quantity: str
    row: int | None
    position: Position

    @property
    def depends_on_dE(self) -> bool:
        """Changed by the dE convention: dE, E_new and everything after epoch 1."""
        return self.name in ("dE", "E_new") or self.position.epoch > 1


@dataclass(frozen=True)
class Mark:
    figure: str
    index: tuple[int, ...]
    printed: float
    ours: float
    reason: str  # "" when it matches

    @property
    def ok(self) -> bool:
        return not self.reason


@cache
def handout() -> dict[str, Any]:
    text = resources.files("rnn_tui").joinpath("data/handout.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def figures() -> dict[str, Figure]:
    doc = handout()
    out = {}
    for name, f in doc["figure"].items():
        phase = Phase(f["phase"])
        out[name] = Figure(name, np.asarray(f["printed"], dtype=float), f["quantity"],
                           f.get("row"), Position(epoch=f["epoch"], phase=phase,
                                                  index=f["step"] - 1))
    return out


@cache
def slips() -> dict[tuple[str, tuple[int, ...]], str]:
    return {(s["figure"], tuple(s["index"])): s["reason"] for s in handout()["slip"]}


def is_handout_model(spec: ModelSpec) -> bool:
    """Same text, vocabulary and initial values as the handout."""
    init = handout()["initial"]
    if (spec.text, spec.alphabet, spec.learning_rate) != (
            init["text"], init["vocab"], init["learning_rate"]) or spec.init.seed is not None:
        return False
    p = spec.initial_params()
    return all(np.array_equal(p.get(n), np.asarray(init[n], dtype=float)) for n in FILE_ORDER)


def ours(stepper: Stepper, fig: Figure) -> Array:
    """Our value of a figure (the whole array the figure prints)."""
    if fig.quantity == "min_total_loss":  # losses alone: the fused loop (the stepper's, bit
        from rnn_tui.core.fast_train import train  # for bit), 3x faster; the app's start waits

        inputs, targets = stepper.spec.indices()
        losses, _ = train(stepper.spec.initial_params(), inputs, targets,
                          stepper.spec.learning_rate, fig.position.epoch, stepper.mode)
        return np.asarray(min(losses.tolist()))
    ep = stepper.epoch(fig.position.epoch)
    return value(ep, fig.quantity, 0 if fig.row is None else fig.row + 1)


_SYMBOLS = {"Omega": "Ω", "y_hat": "ŷ", "delta": "δ"}


def figure_label(name: str) -> str:
    """A figure's name as the screen writes it: ``Omega_3`` -> ``Ω_3``,
    ``epoch2_y_hat_1`` -> ``epoch 2 ŷ_1``, ``total_loss`` -> ``total loss``,
    ``W_new`` -> ``W new``, ``min_total_loss_50`` -> ``min total loss (50 epochs)``."""
    prefix = ""
    if name.startswith("epoch2_"):
        prefix, name = "epoch 2 ", name.removeprefix("epoch2_")
    if name.startswith("min_total_loss_"):
        return f"min total loss ({name.rsplit('_', 1)[1]} epochs)"
    if name in ("total_loss", "total"):
        return prefix + "total loss"
    for word, symbol in _SYMBOLS.items():
        if name.startswith(word + "_"):
            return prefix + symbol + name[len(word):]
    if name.endswith("_new"):
        return prefix + name.removesuffix("_new") + " new"
    return prefix + name


@cache
def figures_by_label() -> dict[str, Figure]:
    """The figures by the name the screen (and a Report's quantity) gives them."""
    return {figure_label(name): fig for name, fig in figures().items()}


def figure_block(stepper: Stepper, fig: Figure) -> Block:
    """A figure as compare's block: ours expected, the handout's printed
    number got, matching when it rounds to the printed 4 decimals."""
    mine = np.reshape(ours(stepper, fig), fig.printed.shape)
    return block(stepper.layout, fig.position, figure_label(fig.name), fig.quantity, mine,
                 fig.printed, HALF_UNIT)


def reason(stepper: Stepper, fig: Figure, index: tuple[int, ...]) -> str:
    if stepper.mode == "x_k" and fig.depends_on_dE:
        return CONVENTION
    return slips().get((fig.name, index), "not explained: a bug?")


def marks_for(stepper: Stepper, fig: Figure) -> list[Mark]:
    return [Mark(fig.name, c.entry, c.got, c.expected,
                 "" if c.agrees else reason(stepper, fig, c.entry))
            for c in figure_block(stepper, fig).comparisons()]


def marks(stepper: Stepper, pos: Position | None = None) -> list[Mark]:
    """Marks of the figures shown at a position (the current one by default)."""
    if not is_handout_model(stepper.spec):
        return []
    pos = pos or stepper.position
    out: list[Mark] = []
    for fig in figures().values():
        if fig.position == pos:
            out += marks_for(stepper, fig)
    return out


def figure_positions() -> list[Position]:
    """Every position at which some figure is shown, in stepping order."""
    lay = Layout(T=4)
    return sorted({f.position for f in figures().values()},
                  key=lambda p: (p.epoch, lay.step_of(p)))


def report(stepper: Stepper) -> Report:
    """Every printed number against ours, in stepping order (empty for
    another model)."""
    if not is_handout_model(stepper.spec):
        return Report(stepper.layout, [], HALF_UNIT)
    order = {p: i for i, p in enumerate(figure_positions())}
    figs = sorted(figures().values(), key=lambda f: order[f.position])
    return Report(stepper.layout, [figure_block(stepper, f) for f in figs], HALF_UNIT)


def next_difference(stepper: Stepper) -> Position | None:
    """The next position (after the current one) that shows a difference."""
    return report(stepper).next_difference(stepper.position)
