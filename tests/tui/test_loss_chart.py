"""The loss chart: the pure function (loss_chart.chart) on real and made-up
histories at many sizes, and the panel in a tiny app on real steppers."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from rnn_tui.core.model_file import load
from rnn_tui.core.stepper import Phase, Position, Stepper
from rnn_tui.tui.widgets.loss_chart import BLOCKS, LossChart, chart
from rnn_tui.tui.widgets.numbers import ARGMAX, NONFINITE, fmt

from helpers.models import random_spec

_histories: dict[str, list[float]] = {}


def hello_history(epochs: int = 50) -> list[float]:
    """The hello model's total loss for epochs 1..epochs, from the stepper."""
    key = f"hello{epochs}"
    if key not in _histories:
        st = Stepper(load("hello")[0])
        st.goto(Position(epoch=epochs + 1, phase=Phase.FORWARD, index=0))
        _histories[key] = list(st.checkpoints.losses[:epochs])
    return _histories[key]


def min_label(history: list[float]) -> str:
    finite = [(v, i) for i, v in enumerate(history) if math.isfinite(v)]
    best, at = min(finite)  # the first of equal minima: the smallest epoch
    return f"min {fmt(best)} at epoch {at + 1}"


def histories() -> dict[str, list[float]]:
    rng = np.random.default_rng(1)
    noisy = list(3 + rng.random(1000))
    return {
        "hello": hello_history(),
        "one": [5.5527],
        "two-equal": [2.0, 2.0],
        "noisy1000": noisy,
        "nan": [*hello_history()[:10], math.nan, math.inf, *hello_history()[10:]],
        "all-nan": [math.nan, math.nan],
        "diverging": list(np.geomspace(1.0, 1e300, 40)),
        "long": list(np.linspace(9, 1, 100_000)),
    }


@pytest.mark.parametrize("name", list(histories()))
@pytest.mark.parametrize("width", [20, 40, 80, 120, 200])
@pytest.mark.parametrize("height", [1, 3, 9, 20])
def test_chart_fits_and_labels_the_true_minimum(name: str, width: int, height: int) -> None:
    history = histories()[name]
    lines = chart(history, width, height)
    assert 1 <= len(lines) <= height
    for line in lines:
        assert line.cell_len <= width, (line.plain, width)
    text = "\n".join(line.plain for line in lines)
    finite = [v for v in history if math.isfinite(v)]
    if finite and width >= len(min_label(history)) + 13:
        assert min_label(history) in text
    if finite:  # whatever the room, the minimum itself is there
        assert fmt(min(finite)) in text
    else:
        assert "no finite" in text or "none" in text
    if not all(math.isfinite(v) for v in history) and height >= 2:
        assert "non-finite" in text or "× NaN" in text


def plot_rows(lines: list[Text]) -> list[Text]:
    return [line for line in lines if re.match(r"^ *[^ ]* *[┤│]", line.plain)]


def test_axes_ticks_and_the_minimum_on_the_hello_model() -> None:
    history = hello_history()
    lines = chart(history, 60, 12)
    rows = plot_rows(lines)
    assert rows[0].plain.startswith(fmt(max(history)))  # the top tick: the largest loss
    assert rows[-1].plain.startswith(fmt(min(history)))  # the bottom one: the smallest
    axis = next(line.plain for line in lines if "└" in line.plain)
    labels = lines[lines.index(next(x for x in lines if "└" in x.plain)) + 1].plain
    assert re.search(r"\b1\b", labels) and "50" in labels and "epoch" in labels
    # The minimum (epoch 50, the last) is marked ● in the column of epoch 50's tick.
    dot = next((r, line.plain.index("●")) for r, line in enumerate(rows) if "●" in line.plain)
    assert axis.rindex("┴") == dot[1]
    assert labels.rstrip().replace(" epoch", "").endswith("50")
    assert ARGMAX in {str(s.style) for s in rows[dot[0]].spans
                      if s.start <= dot[1] < s.end}
    # Bars fall from epoch 1 to 50: the first column is the tallest.
    first = [line.plain[line.plain.index("┤") + 1 if "┤" in line.plain else
                        line.plain.index("│") + 1] for line in rows]
    assert all(ch == "█" for ch in first)


def test_more_epochs_than_columns_keep_the_minimum_exact() -> None:
    """1000 epochs in 56 columns: a column shows its smallest loss, so the
    lowest bar is the minimum, at the bottom tick, marked in its column."""
    history = histories()["noisy1000"]
    lines = chart(history, 60, 12)
    rows = plot_rows(lines)
    best = int(np.argmin(history))
    assert rows[-1].plain.startswith(fmt(min(history)))
    lw = rows[-1].plain.index("┤")
    pw = 60 - lw - 2
    dot = next(line.plain.index("●") for line in rows if "●" in line.plain)
    assert dot == lw + 1 + best * pw // len(history)
    assert min_label(history) in "\n".join(line.plain for line in lines)


def test_one_epoch_is_one_point_and_its_value() -> None:
    lines = chart([5.5527], 40, 9)
    text = "\n".join(line.plain for line in lines)
    assert text.count("●") == 1
    assert "5.5527 (epoch 1)" in text and "min 5.5527 at epoch 1" in text
    assert not any(ch in text for ch in BLOCKS[1:])  # no bar, no flat line


def test_nonfinite_losses_are_marked_on_the_top_row() -> None:
    history = [3.0, 2.5, math.nan, 2.0, math.inf, 1.5]
    lines = chart(history, 40, 10)
    top = plot_rows(lines)[0]
    assert top.plain.count("×") >= 2
    for m in re.finditer("×", top.plain):
        assert NONFINITE in {str(s.style) for s in top.spans if s.start <= m.start() < s.end}
    text = "\n".join(line.plain for line in lines)
    assert "× 2 non-finite, first at epoch 3" in text
    assert "min 1.5000 at epoch 6" in text


def test_a_diverging_run_is_drawn_on_a_log_scale() -> None:
    lines = chart(list(np.geomspace(1.0, 1e6, 30)), 60, 10)
    text = "\n".join(line.plain for line in lines)
    assert "log scale" in text and fmt(1e6) in text and "1.0000" in text


def test_never_raises() -> None:
    rng = np.random.default_rng(0)
    pool = [math.nan, math.inf, -math.inf, 0.0, -1.0, 1e300, 1e-300, 5.0]
    for _ in range(300):
        n = int(rng.integers(0, 3000))
        history = list(rng.choice(pool, n)) if rng.random() < 0.5 else list(rng.random(n))
        width, height = int(rng.integers(1, 220)), int(rng.integers(1, 40))
        for line in chart(history, width, height):
            assert line.cell_len <= max(1, width)


class ChartApp(App[None]):
    CSS = "LossChart { height: 1fr; }"

    def __init__(self, hello: bool) -> None:
        super().__init__()
        spec = load("hello")[0] if hello else random_spec(5, 2, 3, 12, seed=3)
        self.stepper = Stepper(spec)

    def compose(self) -> ComposeResult:
        yield LossChart(id="loss")

    def goto(self, pos: Position) -> None:
        self.stepper.goto(pos)
        self.query_one(LossChart).show(self.stepper.view())


def shown(app: ChartApp) -> str:
    rendered = app.query_one(LossChart).render()
    return "\n".join(t.plain for t in rendered.renderables)  # type: ignore[attr-defined]


@pytest.mark.parametrize("hello", [True, False])
@pytest.mark.parametrize("size", [(60, 14), (40, 8)])
async def test_panel_in_an_app_shows_the_history(hello: bool, size: tuple[int, int]) -> None:
    app = ChartApp(hello)
    async with app.run_test(size=size) as pilot:
        app.goto(Position(epoch=1, phase=Phase.FORWARD, index=0))
        await pilot.pause()
        # before epoch 1's total exists: its steps' losses so far, L_1 alone
        L_1 = fmt(float(app.stepper.view().fwd.loss[0]))
        assert f"min {L_1} at t 1" in shown(app) or L_1 in shown(app)
        assert app.query_one(LossChart).border_title.startswith("Loss L_t per step")
        T = app.stepper.layout.T
        app.goto(Position(epoch=1, phase=Phase.FORWARD, index=T - 1))
        await pilot.pause()
        first = app.stepper.view().loss_history
        assert len(first) == 1 and f"min {fmt(first[0])} at epoch 1" in shown(app)
        app.goto(Position(epoch=21, phase=Phase.BPTT, index=0))
        await pilot.pause()
        history = app.stepper.view().loss_history
        assert len(history) == 21
        text = shown(app)
        assert min_label(history) in text
        assert fmt(min(history)) in text and fmt(max(history)) in text
        panel = app.query_one(LossChart)
        for line in text.splitlines():
            assert len(line) <= panel.content_size.width
