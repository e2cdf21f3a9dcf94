"""`rnn-tui import-torch`, `export-torch` and `export --format ipynb` as users
run them: the installed command in a real subprocess, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("safetensors", reason="the [torch] extra (safetensors) is not installed")
pytest.importorskip("nbformat", reason="the [notebook] extra (nbformat) is not installed")

import nbformat
from safetensors.numpy import save_file

from rnn_tui.core.model_file import load
from rnn_tui.core.params import UPDATE_ORDER

from helpers.cli import assert_one_line_error, rnn_tui_command, run
from helpers.marks import slow_after

RNG = np.random.default_rng(1818)


def state(K: int = 4, D: int = 2, H: int = 3, rnn: str = "net.rnn.") -> dict[str, np.ndarray]:
    def draw(*shape: int) -> np.ndarray:
        return RNG.normal(0, 0.5, shape).astype(np.float32)

    return {"net.emb.weight": draw(K, D), f"{rnn}weight_ih_l0": draw(H, D),
            f"{rnn}weight_hh_l0": draw(H, H), f"{rnn}bias_ih_l0": draw(H),
            f"{rnn}bias_hh_l0": draw(H), "net.out.weight": draw(K, H), "net.out.bias": draw(K)}


def saved(tmp_path: Path, tensors: dict[str, np.ndarray], name: str = "w.safetensors",
          metadata: dict[str, str] | None = None) -> Path:
    path = tmp_path / name
    save_file(tensors, str(path), metadata=metadata)
    return path


def test_import_writes_a_model_file_with_the_tensors_at_full_precision(tmp_path: Path) -> None:
    s = state()
    w = saved(tmp_path, s)
    r = run("import-torch", str(w), "--text", "hello", "--vocab", "helo",
            "--learning-rate", "0.05", "-o", "m.toml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "wrote m.toml (K=4, D=2, H=3, T=4)"
    spec, _ = load(tmp_path / "m.toml")
    p = spec.initial_params()
    f = {k: v.astype(np.float64) for k, v in s.items()}
    want = {"E": f["net.emb.weight"], "U": f["net.rnn.weight_ih_l0"],
            "W": f["net.rnn.weight_hh_l0"], "b": f["net.rnn.bias_ih_l0"] + f["net.rnn.bias_hh_l0"],
            "V": f["net.out.weight"], "c": f["net.out.bias"]}
    for n in UPDATE_ORDER:
        np.testing.assert_array_equal(p.get(n), want[n], err_msg=n)
    assert (spec.name, spec.text, spec.alphabet, spec.learning_rate) == ("w", "hello", "helo", 0.05)
    assert spec.bptt.embedding_rows == "x_k"
    assert "#   b = net.rnn.bias_ih_l0 + net.rnn.bias_hh_l0" in (tmp_path / "m.toml").read_text()
    assert run("check", "m.toml", cwd=tmp_path).returncode == 0
    # never overwritten without --force
    again = run("import-torch", str(w), "--text", "hello", "--vocab", "helo", "-o", "m.toml",
                cwd=tmp_path)
    assert_one_line_error(again, "m.toml", "already exists", "--force")
    forced = run("import-torch", str(w), "--text", "hello", "--vocab", "helo", "-o", "m.toml",
                 "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr


def test_import_reads_the_text_from_a_file_and_writes_to_stdout(tmp_path: Path) -> None:
    w = saved(tmp_path, state(K=3) | {"other.weight": np.zeros((2, 2), np.float32)})
    (tmp_path / "t.txt").write_text("abcab\n")
    r = run("import-torch", str(w), "--text-file", "t.txt", "--vocab", "abc", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert 'text = "abcab"' in r.stdout  # one final newline dropped
    assert r.stderr.strip() == "rnn-tui import-torch: note: not used: other.weight"


@pytest.mark.slow
def test_export_torch_then_import_torch_gives_the_same_model_file_numbers(
        tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(run("new", "--text", "a cat sat on a mat", "--hidden", "4",
                                         "--lr", "0.1",
                                         "--embed", "3", "--seed", "9").stdout)
    r = run("export-torch", "m.toml", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.py",
                                                                    "model.safetensors"]
    spec, _ = load(tmp_path / "m.toml")
    back = run("import-torch", "out/model.safetensors", "--text", spec.text, "--vocab",
               spec.alphabet, "--learning-rate", "0.1", "--name", spec.name, "-o", "back.toml",
               cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    again, _ = load(tmp_path / "back.toml")
    for n in UPDATE_ORDER:
        np.testing.assert_array_equal(again.initial_params().get(n), spec.initial_params().get(n))
    # the same numbers in every epoch
    trace = [json.loads(run("trace", m, "--epochs", "3", cwd=tmp_path).stdout)["epochs"]
             for m in ("m.toml", "back.toml")]
    assert trace[0] == trace[1]
    # existing files are never overwritten without --force
    assert_one_line_error(run("export-torch", "m.toml", "-o", "out", cwd=tmp_path),
                          "out/model.safetensors", "already exists")
    assert run("export-torch", "m.toml", "-o", "out", "--force", cwd=tmp_path).returncode == 0


def bad_weights(tmp_path: Path) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    """case -> (arguments, words the one line must hold)."""
    two_layers = saved(tmp_path, state() | {"net.rnn.weight_ih_l1": np.zeros((3, 3))}, "l2.st")
    gru = saved(tmp_path, state() | {"net.rnn.weight_ih_l0": np.zeros((9, 2)),
                                     "net.rnn.weight_hh_l0": np.zeros((9, 3))}, "gru.st")
    relu = saved(tmp_path, state(), "relu.st", {"nonlinearity": "relu"})
    two = saved(tmp_path, state() | {k.replace("net.rnn.", "net.rnn2."): v for k, v in
                                     state().items() if ".rnn." in k}, "two.st")
    good = saved(tmp_path, state(), "good.st")
    (tmp_path / "notes.txt").write_text("not a tensor file")
    text = ["--text", "hello", "--vocab", "helo"]
    return {
        "two layers": ([str(two_layers), *text], ("l2.st", "net.rnn.weight_ih_l1",
                                                  "num_layers > 1")),
        "GRU": ([str(gru), *text], ("gru.st", "net.rnn.weight_hh_l0", "an nn.GRU",
                                    "a different cell")),
        "ReLU": ([str(relu), *text], ("relu.st", "metadata nonlinearity", "'relu'", "tanh")),
        "vocabulary": ([str(good), "--text", "hello", "--vocab", "helox"],
                       ("good.st", "net.out.weight", "4 x 3", "--vocab has 5 characters")),
        "two RNNs": ([str(two), *text], ("two.st", "2 nn.RNN candidates", "--prefix-rnn")),
        "wrong prefix": ([str(two), *text, "--prefix-rnn", "rnn"],
                         ("two.st", "rnn.weight_ih_l0", "no such tensor")),
        "not safetensors": ([str(tmp_path / "notes.txt"), *text],
                            ("notes.txt", "not a safetensors file")),
        "missing file": ([str(tmp_path / "nope.st"), *text], ("nope.st", "no such file")),
        "directory": ([str(tmp_path), *text], ("is a directory",)),
        "text not in vocab": ([str(good), "--text", "hellx", "--vocab", "helo"],
                              ("--text", "'x'", "not in --vocab")),
        "vocab twice": ([str(good), "--text", "hello", "--vocab", "hell"],
                        ("--vocab", "'l' appears twice")),
        "text twice": ([str(good), *text, "--text-file", "t"], ("not allowed with",)),
        "no vocab": ([str(good), "--text", "hello"], ("--vocab",)),
        "text file": ([str(good), "--text-file", "nope.txt", "--vocab", "helo"],
                      ("nope.txt", "cannot read")),
    }


CASES = ["two layers", "GRU", "ReLU", "vocabulary", "two RNNs", "wrong prefix",
         "not safetensors", "missing file", "directory", "text not in vocab", "vocab twice",
         "text twice", "no vocab", "text file"]


@pytest.mark.parametrize("case", slow_after(1, CASES))
def test_import_bad_input_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    args, words = bad_weights(tmp_path)[case]
    r = run("import-torch", *args, "-o", "m.toml", cwd=tmp_path)
    assert_one_line_error(r, *words)
    assert not (tmp_path / "m.toml").exists()


@pytest.mark.slow
def test_export_torch_refuses_the_handout_de_and_what_it_cannot_write(tmp_path: Path) -> None:
    assert_one_line_error(run("export-torch", "hello-handout", "-o", "d", cwd=tmp_path),
                          "hello-handout", "embedding_rows", "x_t", "--exact")
    assert not (tmp_path / "d").exists()
    (tmp_path / "f").write_text("mine")
    assert_one_line_error(run("export-torch", "hello", "-o", "f", cwd=tmp_path),
                          "f: is not a directory")
    assert (tmp_path / "f").read_text() == "mine"
    assert_one_line_error(run("export-torch", "nope.toml", "-o", "d", cwd=tmp_path),
                          "nope.toml", "no such file")
    assert_one_line_error(run("export-torch", "hello", cwd=tmp_path), "-o")
    assert run("export-torch", "hello-handout", "--exact", "-o", "d",
               cwd=tmp_path).returncode == 0


@pytest.mark.slow
def test_export_ipynb_writes_a_valid_notebook(tmp_path: Path) -> None:
    r = run("export", "hello", "--format", "ipynb", "-o", "hello.ipynb", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    nb = nbformat.read(tmp_path / "hello.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[1].cell_type == "code"
    out = run("export", "hello", "--format", "ipynb", "--epochs", "60", cwd=tmp_path)
    assert out.returncode == 0 and json.loads(out.stdout)["nbformat"] == 4
    assert "up to epoch 60" in out.stdout
    assert_one_line_error(run("export", "hello", "--format", "ipynb", "-o", "hello.ipynb",
                              cwd=tmp_path), "hello.ipynb", "already exists")


@pytest.mark.parametrize(("package", "command"), slow_after(1, [
    ("safetensors", ["import-torch", "w.safetensors", "--text", "ab", "--vocab", "ab"]),
    ("safetensors", ["export-torch", "hello", "-o", "out"]),
    ("nbformat", ["export", "hello", "--format", "ipynb"]),
]))
def test_a_missing_extra_is_one_line_naming_the_pip_command(
        tmp_path: Path, package: str, command: list[str]) -> None:
    # A package of that name that cannot be imported, ahead of site-packages.
    (tmp_path / "shadow" / package).mkdir(parents=True)
    (tmp_path / "shadow" / package / "__init__.py").write_text(
        "raise ImportError('not installed (test)')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "shadow")}
    r = subprocess.run([*rnn_tui_command(), *command], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=120, stdin=subprocess.DEVNULL)
    extra = {"safetensors": "torch", "nbformat": "notebook"}[package]
    assert_one_line_error(r, f"needs the {package} package", f"pip install 'rnn-tui[{extra}]'")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.parametrize("model", ["hello", "hello-handout"])
def test_the_exported_script_prints_what_rnn_tui_trace_prints(tmp_path: Path,
                                                              model: str) -> None:
    pytest.importorskip("torch", reason="torch is not installed (optional: "
                        "pip install torch==2.13.0, the CPU build)")
    extra = ["--exact"] if model == "hello-handout" else []
    assert run("export-torch", model, *extra, "-o", "out", cwd=tmp_path).returncode == 0
    script = subprocess.run([sys.executable, "out/model.py"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert script.returncode == 0, script.stderr
    printed = {}
    for line in script.stdout.splitlines():
        name, value = line.split(" ", 1)
        printed[name] = json.loads(value)
    ours = json.loads(run("trace", model, "--exact").stdout)["epochs"][0]
    assert abs(printed["total_loss"] - ours["total_loss"]) < 1e-9
    np.testing.assert_allclose(printed["losses"], [s["loss"] for s in ours["steps"]],
                               rtol=0, atol=1e-9)
    for n in UPDATE_ORDER:
        np.testing.assert_allclose(printed[f"d{n}"], ours["grads"][n], rtol=0, atol=1e-9)
        np.testing.assert_allclose(printed[f"{n}_new"], ours["params_after"][n], rtol=0,
                                   atol=1e-9)
