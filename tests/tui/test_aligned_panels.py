"""Numbers aligned in the forward, gradients and update panels (issue 14):
cells of one table right-aligned to one width (a space where another cell
has its sign), rows and entries that are characters named by them, and no
line of a panel dropped without a ``⋮ N more`` marker."""

from __future__ import annotations

import re

import numpy as np
from rich.text import Text

from rnn_tui.core.model_file import load
from rnn_tui.core.stepper import Phase, Position
from rnn_tui.core.text import aligned
from rnn_tui.tui.widgets.numbers import block

from helpers.scenarios import go_to, make_app, settle
from helpers.screen import text_of


def points(line: str) -> list[int]:
    """The columns of the decimal points of the numbers in ``[...]`` groups."""
    return [m.start() for m in re.finditer(r"(?<=\d)\.(?=\d)", line)]


def test_aligned_pads_every_sign_and_right_aligns() -> None:
    assert aligned(np.array([0.8175, -0.4613])) == [" 0.8175", "-0.4613"]
    assert aligned(np.array([0.8175, 0.4613])) == [" 0.8175", " 0.4613"]  # as on the next step
    assert aligned(np.array([1.0, -2e6])) == ["    1.0000", "-2.000e+06"]


def test_a_matrix_block_lines_up_its_columns_and_names_its_rows() -> None:
    E = load("hello")[0].init.E  # (K, D): rows are 'h' 'e' 'l' 'o'
    lines = [t.plain for t in block(Text("E  "), np.asarray(E), 40, True, labels="helo")]
    assert lines[0] == "E  'h' [ 0.8175  0.4613]"
    assert lines[1] == "   'e' [-0.3599 -0.4824]"
    assert len({tuple(points(line)) for line in lines}) == 1


async def test_panels_align_and_name_rows_by_character() -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        app.stepper.goto(Position(epoch=1, phase=Phase.UPDATE, index=4))
        await pilot.press("n")  # E updated: the last of six
        await settle(pilot)
        update = text_of(app, "#update").splitlines()
        rows = [line for line in update if re.match(r"^(E  |   )'[helo]' → \[", line)]
        assert [r[3:6] for r in rows] == ["'h'", "'e'", "'l'", "'o'"]
        assert rows[0] == "E  'h' → [ 0.8133  0.4680]"  # before → after has no room here
        assert len({tuple(points(r)) for r in rows}) == 1
        grads = text_of(app, "#gradients").splitlines()
        d_rows = [line for line in grads if re.match(r"^(dE |   )'[helo]' \[", line)]
        assert len(d_rows) == 4 and len({tuple(points(r)) for r in d_rows}) == 1
        # c and dc: their entries named by character over the cells
        heads = [line for line in update if line.split() == ["'h'", "'e'", "'l'", "'o'"]
                 or line.split()[:3] == ["'h'", "'e'", "'l'"]]
        assert heads
        app.stepper.goto(Position(epoch=1, phase=Phase.FORWARD, index=0))
        app.moved()
        await settle(pilot)
        forward = text_of(app, "#forward").splitlines()
        i = next(n for n, line in enumerate(forward) if line.startswith("Ω_1"))
        assert forward[i - 1].split() == ["'h'", "'e'", "'l'", "'o'"]
        omega, y_hat = forward[i], forward[i + 1]
        assert points(omega) == points(y_hat)  # one table: Ω_1 over ŷ_1
        # each character's label ends where its column ends
        ends = [m.end() for m in re.finditer(r"'.'", forward[i - 1])]
        assert ends == [p + 5 for p in points(omega)]


async def test_the_bptt_triangle_names_the_rows_it_has_no_room_for(tmp_path) -> None:
    """The 3-unit model (T = 10) at 120x40: the triangle has room for 7 rows;
    the others are named in a ⋮ line, not dropped."""
    from rnn_tui.core.model_file import load as load_model

    from helpers.cli import run

    path = tmp_path / "h3.toml"
    run("new", "--text", "hello world", "--hidden", "3", "--embed", "2", "--seed", "0",
        "-o", str(path))
    app = make_app(load_model(str(path))[0])
    async with app.run_test(size=(120, 40)) as pilot:
        for position in (Position(epoch=1, phase=Phase.FORWARD, index=2),
                         Position(epoch=1, phase=Phase.BPTT, index=30)):
            await go_to(pilot, position)
            lines = text_of(app, "#bptt").splitlines()
            assert len(lines) <= app.query_one("#bptt").content_size.height
            shown = {int(m.group(1)) for line in lines if (m := re.match(r"t=(\d+) ", line))}
            for line in lines:
                if m := re.match(r"⋮ t=(\d+)(?:–(\d+))? (above|below)", line):
                    shown |= set(range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1))
            assert shown == set(range(1, 11)), lines
            assert not any(line.endswith("…") for line in lines)


async def test_a_panel_that_overflows_says_so() -> None:
    """The forward panel at 80x24 in a [train] chunk after the first: the
    carried h_0 is one line more than its rows; the last row says so."""
    from rnn_tui.core.model_file import validate

    from helpers.models import random_spec

    base = random_spec(K=6, D=3, H=4, T=20, seed=161, lr=0.1)
    app = make_app(validate({**base.model_dump(), "train": {"seq_length": 6}}, "t"))
    async with app.run_test(size=(80, 24)) as pilot:
        app.stepper.goto(Position(epoch=1, chunk=1, phase=Phase.FORWARD, index=2))
        app.moved()
        await settle(pilot)
        shown = text_of(app, "#forward").splitlines()
        assert len(shown) == app.query_one("#forward").content_size.height
        assert shown[0].startswith("h_0") and "carried from chunk 1" in shown[0]
        assert re.fullmatch(r"⋮ \d+ more lines?", shown[-1]), shown
