"""A bigger terminal never shows less (issue 14): for steps of every phase,
on the handout's model and a 3-unit one, what each panel shows at 80x24 is
also shown at 120x40, and what 120x40 shows is shown at 160x50.

What a panel "shows": the numbers on it (the formula, forward, gradients,
parameters and network panels); the BPTT triangle shows terms (t, k), each
as a number or a shade (a narrow triangle is a picture of their sizes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rnn_tui.core.model_file import ModelSpec, load
from rnn_tui.core.stepper import Phase, Position

from helpers.cli import run
from helpers.marks import slow_after
from helpers.scenarios import go_to, make_app
from helpers.screen import text_of

SIZES = [(80, 24), (120, 40), (160, 50)]
PANELS = ("formula", "forward", "bptt", "gradients", "update", "network")
NUMBER = re.compile(r"-?\d+\.\d{4}(?:e[+-]\d+)?")


def terms(text: str) -> set[tuple[int, int]]:
    """The BPTT terms (t, k) the triangle draws: its rows t=.. and its
    columns, ``k=..`` over numbers, or one digit a column over shades
    (k = 1, 2, ...: these models have T <= 10, every column in view)."""
    lines = text.splitlines()
    ks = [int(k) for k in re.findall(r"k=(\d+)", lines[0])]
    if not ks:
        ks = list(range(1, len(lines[0].strip()) + 1))
    rows = {int(m.group(1)) for line in lines if (m := re.match(r"t=(\d+)", line))}
    return {(t, k) for t in rows for k in ks if k <= t}


def shown(panel: str, text: str) -> set[object]:
    return set(terms(text)) if panel == "bptt" else set(NUMBER.findall(text))


def steps(T: int) -> list[Position]:
    last_term = T * (T + 1) // 2 - 1
    return [Position(epoch=1, phase=ph, index=i) for ph, i in (
        (Phase.FORWARD, 0), (Phase.FORWARD, T - 1), (Phase.OUTPUT, 1),
        (Phase.BPTT, 0), (Phase.BPTT, last_term // 2), (Phase.BPTT, last_term),
        (Phase.UPDATE, 0), (Phase.UPDATE, 2), (Phase.UPDATE, 5))]


async def screens(spec: ModelSpec, size: tuple[int, int]) -> list[dict[str, set[object]]]:
    """Per step, what each panel on screen shows."""
    app = make_app(spec)
    out = []
    async with app.run_test(size=size) as pilot:
        for position in steps(spec.T):
            await go_to(pilot, position)
            out.append({p: shown(p, text_of(app, f"#{p}")) for p in PANELS
                        if app.query_one(f"#{p}").region.area})
    return out


def three_unit(folder: Path) -> ModelSpec:
    path = folder / "h3.toml"
    done = run("new", "--text", "hello world", "--hidden", "3", "--embed", "2", "--seed", "0",
               "-o", str(path))
    assert done.returncode == 0, done.stderr
    return load(str(path))[0]


@pytest.mark.parametrize("model", slow_after(1, ["hello", "three-unit"]))
async def test_a_bigger_terminal_never_shows_less(model: str, tmp_path: Path) -> None:
    spec = load("hello")[0] if model == "hello" else three_unit(tmp_path)
    small, mid, big = [await screens(spec, size) for size in SIZES]
    compared = 0
    for i, position in enumerate(steps(spec.T)):
        for a, b, sizes in ((small, mid, SIZES[:2]), (mid, big, SIZES[1:])):
            for panel, seen in a[i].items():
                if panel in b[i]:
                    missing = seen - b[i][panel]
                    assert not missing, (position, sizes, panel, sorted(map(str, missing)))
                    compared += 1
    assert compared >= 2 * len(steps(spec.T)) * 2  # the formula and a phase panel, at least
