"""A bigger terminal never shows less in the GRU/LSTM debugger: for steps of
every phase (two chunks with seq_length, the optimizers' states too), the
numbers of the step panel at 80x24 are also shown at 120x40 (where the side
panels appear beside it), and those at 120x40 at 160x50, counted with their
repeats (a vector of 6 entries is not "shown" by 5)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.core.model_file import parse_bytes
from rnn_tui.core.stepper import Phase, Position
from rnn_tui.tui.cells.app import CellApp

from helpers.marks import slow_after
from helpers.scenarios import go_to
from helpers.screen import text_of

SIZES = [(80, 24), (120, 40), (160, 50)]
NUMBER = re.compile(r"-?\d+\.\d{4}(?:e[+-]\d+)?")


def spec_for(cell: str, optimizer: str):  # type: ignore[no-untyped-def]
    return parse_bytes(f"""name = "m"
text = "hello world"
cell = "{cell}"
embedding_dim = 2
hidden_size = 3
learning_rate = 0.1

[init]
seed = 0

[train]
optimizer = "{optimizer}"
seq_length = 5
""".encode(), "m.toml")


def steps(stepper: CellStepper) -> list[Position]:
    out = []
    for chunk in (0, 1):
        T = stepper.layout.chunk_layout(chunk).T
        last = T * (T + 1) // 2 - 1
        out += [Position(epoch=1, phase=ph, index=i, chunk=chunk) for ph, i in (
            (Phase.FORWARD, 0), (Phase.FORWARD, T - 1), (Phase.OUTPUT, 0), (Phase.OUTPUT, T - 1),
            (Phase.BPTT, 0), (Phase.BPTT, last // 2), (Phase.BPTT, last))]
    out += [Position(epoch=2, phase=Phase.UPDATE, index=i, chunk=1) for i in (0, 1, 2, 3)]
    out.append(Position(epoch=2, phase=Phase.UPDATE, index=len(stepper.current.params.names) - 1,
                        chunk=1))
    return out


async def screens(cell: str, optimizer: str, size: tuple[int, int]) -> list[Counter[str]]:
    app = CellApp(CellStepper.from_spec(spec_for(cell, optimizer)), cursor_blink=False,
                  theme="dark")
    out = []
    async with app.run_test(size=size) as pilot:
        for position in steps(app.stepper):
            await go_to(pilot, position)
            out.append(Counter(NUMBER.findall(text_of(app, "#cell-step"))))  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("cell,optimizer", slow_after(1, [("lstm", "sgd"), ("gru", "adam")]))
async def test_a_bigger_terminal_never_shows_less_of_the_step(cell: str, optimizer: str) -> None:
    small, mid, big = [await screens(cell, optimizer, size) for size in SIZES]
    stepper = CellStepper.from_spec(spec_for(cell, optimizer))
    for i, position in enumerate(steps(stepper)):
        for a, b, sizes in ((small, mid, SIZES[:2]), (mid, big, SIZES[1:])):
            missing = a[i] - b[i]
            assert not missing, (position, sizes, sorted(missing.elements()))
        assert sum(small[i].values()) > 0, position
