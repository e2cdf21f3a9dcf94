"""GRU and LSTM model files (issue 17): `new --cell`, `check`, and every way
an [init] table can be wrong for a cell, through the real command."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from rnn_tui.core.cells import PARAM_NAMES, seeded_params, shapes
from rnn_tui.core.model_file import load, validate
from rnn_tui.core.model_init import fan_in_cell_params, file_order

from helpers.cli import assert_one_line_error, run
from helpers.marks import slow_after

BASE = """\
text = "hello"
embedding_dim = 2
hidden_size = 3
learning_rate = 0.1
"""


def write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "m.toml"
    path.write_text(BASE + body, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_new_writes_a_file_check_accepts(tmp_path: Path, cell: str) -> None:
    out = tmp_path / f"{cell}.toml"
    made = run("new", "--cell", cell, "--text", "hello world", "--hidden", "4", "--embed", "3",
               "--seed", "7", "-o", str(out))
    assert made.returncode == 0, made.stderr
    doc = tomllib.loads(out.read_text(encoding="utf-8"))
    assert doc["cell"] == cell
    assert list(doc["init"]) == list(file_order(cell))  # every parameter, in the file's order
    checked = run("check", str(out))
    assert checked.returncode == 0, checked.stderr
    assert f"{cell.upper()}: gates" in checked.stdout
    spec, _ = load(out)
    p = spec.initial_cell_params()
    want = fan_in_cell_params(cell, spec.K, 3, 4, 7)  # type: ignore[arg-type]
    for name in PARAM_NAMES[cell]:  # written values read back exactly
        assert np.array_equal(p[name], want[name]), name
        assert p[name].shape == shapes(cell, spec.K, 3, 4)[name]  # type: ignore[arg-type]
    # fan-in scaling: W_g's draws are 0.5/sqrt(H), not 0.5
    assert 0.1 < float(np.std(np.concatenate([p[n].ravel() for n in p.names
                                              if n.startswith("W_")]))) < 0.45


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_seeded_init_is_the_engines_draw(tmp_path: Path, cell: str) -> None:
    spec = validate(tomllib.loads(BASE + f'cell = "{cell}"\n[init]\nseed = 3\nscale = 0.2\n'),
                    "m.toml")
    p, want = spec.initial_cell_params(), seeded_params(cell, spec.K, 2, 3, 3, 0.2)  # type: ignore[arg-type]
    assert all(np.array_equal(p[n], want[n]) for n in p.names)
    with pytest.raises(ValueError, match="initial_cell_params"):
        spec.initial_params()
    rnn = validate(tomllib.loads(BASE + "[init]\nseed = 3\n"), "m.toml")
    assert rnn.cell == "rnn"
    with pytest.raises(ValueError, match="initial_params"):
        rnn.initial_cell_params()
    # with --scale, new writes the engine's own seeded draw
    out = tmp_path / "s.toml"
    assert run("new", "--cell", cell, "--text", "hello", "--hidden", "3", "--scale", "0.2",
               "--seed", "3", "-o", str(out)).returncode == 0
    q = load(out)[0].initial_cell_params()
    assert all(np.array_equal(q[n], want[n]) for n in p.names)


def test_rnn_files_are_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "r.toml"
    assert run("new", "--text", "hello", "-o", str(out)).returncode == 0
    text = out.read_text(encoding="utf-8")
    assert "cell" not in text and "U = [" in text



@pytest.mark.parametrize(("body", "words"), slow_after(1, [
    ('cell = "lstn"\n[init]\nseed = 1\n', ["m.toml: cell:", "did you mean 'lstm'"]),
    ('cell = "GRU"\n[init]\nseed = 1\n', ["cell:", "did you mean 'gru'"]),
    ("cell = 3\n[init]\nseed = 1\n", ["cell:", "expected a string"]),
    ('cell = "lstm"\n[init]\nU = [[1.0, 2.0]]\n', ["init.U:", "an RNN's parameter",
                                                   "U_i, U_f, U_o, U_g"]),
    ('cell = "lstm"\n[init]\nseed = 1\nW_z = [[1.0]]\n', ["init.W_z:", "a GRU's parameter"]),
    ("[init]\nseed = 1\nb_f = [1.0]\n", ["init.b_f:", "an LSTM's parameter",
                                         'set cell = "lstm"']),
    ('cell = "gru"\n[init]\nE = [[1.0, 2.0]]\n', ["init.U_z:", "missing"]),
    ('cell = "gru"\n[init]\nseed = 1\nU_zz = 1\n', ["init.U_zz:", "did you mean 'U_z'"]),
    ('cell = "gru"\n[init]\nseed = 1\nE = [[1.0, 2.0]]\n', ["init.E:", "not both"]),
    # rows of E and V, entries of c, are characters: named by them (1-based)
    ('cell = "gru"\n[init]\nE = [[1.0, 2.0], [1.0, "x"]]\n',
     ["init.E: row 'e' (2) entry [2]: expected a number"]),
    ('vocab = "oleh"\ncell = "lstm"\n[init]\nV = [[1.0], [1.0], [1.0], [true]]\n',
     ["init.V: row 'h' (4) entry [1]: expected a number"]),
    ('cell = "lstm"\n[init]\nc = [1.0, 2.0, "3"]\n', ["init.c: entry 'l' (3): expected"]),
    ("[init]\nc = [1.0, 2.0, true]\n", ["init.c: entry 'l' (3): expected"]),  # the RNN: the same
]))
def test_bad_cell_files_are_one_line(tmp_path: Path, body: str, words: list[str]) -> None:
    assert_one_line_error(run("check", write(tmp_path, body)), *words)


@pytest.mark.parametrize("cell", slow_after(1, ["gru", "lstm"]))
@pytest.mark.parametrize(("name", "value", "words"), slow_after(1, [
    ("W", [[0.0] * 3] * 2, ["expected 3 x 3 (H x H), got 2 x 3"]),
    ("U", [[0.0] * 3] * 3, ["expected 3 x 2 (H x D), got 3 x 3"]),
    ("b", [0.0] * 4, ["expected 3 numbers (H), got 4"]),
    ("U", [[0.0, 0.0], [0.0, "x"], [0.0, 0.0]], ["row 2 entry [2]: expected a number"]),
]))
def test_misshaped_gate_parameters(tmp_path: Path, cell: str, name: str, value: object,
                                   words: list[str]) -> None:
    spec = validate(tomllib.loads(BASE + f'cell = "{cell}"\n[init]\nseed = 1\n'), "m")
    p = spec.initial_cell_params()
    gate = p.gates[-1]
    lines = [f"{n} = {p[n].tolist()!r}" for n in file_order(cell)]
    lines = [f"{n}_{gate} = {value!r}".replace("'", '"') if line.startswith(f"{n}_{gate} =")
             else line for line, n in ((line, name) for line in lines)]
    path = write(tmp_path, f'cell = "{cell}"\n[init]\n' + "\n".join(lines) + "\n")
    assert_one_line_error(run("check", path), f"init.{name}_{gate}:", *words)
    # and every parameter given exactly is accepted
    good = write(tmp_path, f'cell = "{cell}"\n[init]\n' + "\n".join(
        f"{n} = {p[n].tolist()!r}" for n in file_order(cell)) + "\n")
    assert run("check", good).returncode == 0


def test_the_debugger_refuses_the_rnn_only_options_for_a_cell(tmp_path: Path) -> None:
    """The debugger steps a GRU or an LSTM (tests/tui/test_cell_app.py); the options
    it does not have for them yet are one line each."""
    path = write(tmp_path, 'cell = "lstm"\n[init]\nseed = 1\n')
    for flag in (["--compare", str(tmp_path / "theirs.json")], ["--present"]):
        assert_one_line_error(run(path, *flag), flag[0], "not yet for an LSTM model")
