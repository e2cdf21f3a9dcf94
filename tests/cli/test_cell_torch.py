"""An LSTM to PyTorch and back (issue 17): export-torch writes nn.LSTM weights
and a script whose one epoch equals `rnn-tui trace`; import-torch reads an
nn.LSTM's state dict; a GRU is refused both ways (nn.GRU is another cell).
The parts that run torch skip without it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomli_w

from rnn_tui.core.model_file import load
from rnn_tui.core.model_init import file_order

from helpers.cli import assert_one_line_error, run

pytest.importorskip("safetensors", reason="the [torch] extra is not installed")


def lstm_model(tmp_path: Path, cell: str = "lstm") -> Path:
    doc = {"name": "m", "text": "hello world", "embedding_dim": 2, "hidden_size": 3,
           "cell": cell, "learning_rate": 0.3, "init": {"seed": 5, "scale": 0.8}}
    path = tmp_path / f"{cell}.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


def test_export_then_import_gives_back_every_value_exactly(tmp_path: Path) -> None:
    path = lstm_model(tmp_path)
    done = run("export-torch", str(path), "-o", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    from safetensors.numpy import load_file

    tensors = load_file(str(tmp_path / "out" / "model.safetensors"))
    spec, _ = load(path)
    p = spec.initial_cell_params()
    H = 3
    # nn.LSTM's layout: gates stacked i, f, g, o; bias_hh zero
    for n, g in enumerate("ifgo"):
        assert np.array_equal(tensors["lstm.weight_ih_l0"][n * H:(n + 1) * H], p[f"U_{g}"])
        assert np.array_equal(tensors["lstm.weight_hh_l0"][n * H:(n + 1) * H], p[f"W_{g}"])
    assert not tensors["lstm.bias_hh_l0"].any() and tensors["lstm.bias_hh_l0"].shape == (12,)
    back = tmp_path / "back.toml"
    done = run("import-torch", str(tmp_path / "out" / "model.safetensors"), "--text",
               "hello world", "--vocab", spec.alphabet, "--learning-rate", "0.3", "-o", str(back))
    assert done.returncode == 0, done.stderr
    assert "LSTM, K=8, D=2, H=3" in done.stderr
    again, _ = load(back)
    assert again.cell == "lstm"
    q = again.initial_cell_params()
    assert all(np.array_equal(p[n], q[n]) for n in p.names)
    assert "#   U_g = lstm.weight_ih_l0[2H:3H]" in back.read_text(encoding="utf-8")


def test_the_exported_script_trains_like_the_trace(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="torch is not installed (optional: "
                        "pip install torch==2.13.0, the CPU build)")
    path = lstm_model(tmp_path)
    assert run("export-torch", str(path), "-o", str(tmp_path / "out")).returncode == 0
    done = subprocess.run([sys.executable, str(tmp_path / "out" / "model.py")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = {line.split(" ", 1)[0]: json.loads(line.split(" ", 1)[1])
              for line in done.stdout.splitlines()}
    epoch = json.loads(run("trace", str(path)).stdout)["epochs"][0]
    assert abs(theirs["total_loss"] - epoch["total_loss"]) < 1e-9
    np.testing.assert_allclose(theirs["losses"], [s["loss"] for s in epoch["steps"]],
                               rtol=0, atol=1e-9)
    for n in file_order("lstm"):
        np.testing.assert_allclose(theirs[f"d{n}"], epoch["grads"][n], rtol=0, atol=1e-9,
                                   err_msg=n)
        np.testing.assert_allclose(theirs[f"{n}_new"], epoch["params_after"][n], rtol=0,
                                   atol=1e-9, err_msg=n)
    assert max(abs(v) for row in epoch["grads"]["W_f"] for v in row) > 1e-4  # not vacuous


def test_a_torch_lstm_with_both_biases_imports_to_the_same_outputs(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from safetensors.torch import save_file

    torch.manual_seed(3)
    m = torch.nn.ModuleDict({"emb": torch.nn.Embedding(4, 2), "lstm": torch.nn.LSTM(2, 3),
                             "fc": torch.nn.Linear(3, 4)}).double()
    save_file({k: v.contiguous() for k, v in m.state_dict().items()},
              str(tmp_path / "w.safetensors"))
    out = tmp_path / "m.toml"
    done = run("import-torch", str(tmp_path / "w.safetensors"), "--text", "hello", "--vocab",
               "helo", "-o", str(out))
    assert done.returncode == 0, done.stderr
    ids = torch.tensor([[0, 1, 2, 2]])  # h e l l
    with torch.no_grad():
        h, _ = m["lstm"](m["emb"](ids).transpose(0, 1))  # (T, 1, H), seq first
        omega = m["fc"](h[:, 0])  # (T, K)
    steps = json.loads(run("trace", str(out)).stdout)["epochs"][0]["steps"]
    np.testing.assert_allclose([s["h"] for s in steps], h[:, 0].numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose([s["omega"] for s in steps], omega.numpy(), rtol=0, atol=1e-12)


def test_a_gru_is_refused_both_ways(tmp_path: Path) -> None:
    assert_one_line_error(run("export-torch", str(lstm_model(tmp_path, "gru")), "-o",
                              str(tmp_path / "out")), "is a GRU", "nn.GRU is a different cell",
                          "r after W_hn")
    assert not (tmp_path / "out").exists()
    from safetensors.numpy import save_file

    H, D, K = 3, 2, 4
    save_file({"emb.weight": np.zeros((K, D)), "gru.weight_ih_l0": np.zeros((3 * H, D)),
               "gru.weight_hh_l0": np.zeros((3 * H, H)), "fc.weight": np.zeros((K, H)),
               "fc.bias": np.zeros(K)}, str(tmp_path / "g.safetensors"))
    assert_one_line_error(run("import-torch", str(tmp_path / "g.safetensors"), "--text", "hello",
                              "--vocab", "helo"), "gru.weight_hh_l0", "an nn.GRU",
                          "a different cell")
