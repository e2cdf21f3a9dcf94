"""PyTorch weights in and out, and the notebook: the core functions.

Without torch: state dicts written with safetensors.numpy under PyTorch's
names. With torch (skipped without it): real nn modules in float64, their
autograd numbers against rnn-tui's after import, and the exported script
run as a real program. The notebook's code cells run as a real script.
"""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("safetensors", reason="the [torch] extra (safetensors) is not installed")
pytest.importorskip("nbformat", reason="the [notebook] extra (nbformat) is not installed")

import nbformat
from safetensors.numpy import save_file

from rnn_tui.core.maths import Params
from rnn_tui.core.model_file import ModelSpec, load, parse_bytes
from rnn_tui.core.notebook import code_of, worked_notebook
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.report import training
from rnn_tui.core.torch_script import PRINTED, torch_script
from rnn_tui.core.torch_weights import (
    InteropError,
    model_file_text,
    read_weights,
    safetensors_bytes,
)

from helpers.models import random_spec

RNG = np.random.default_rng(18)


def torch_names(K: int, D: int, H: int, emb: str = "emb.", rnn: str = "rnn.",
                lin: str = "fc.", dtype: type = np.float32) -> dict[str, np.ndarray]:
    """A state dict as nn.Embedding + nn.RNN + nn.Linear would have it."""
    def draw(*shape: int) -> np.ndarray:
        return RNG.normal(0, 0.5, shape).astype(dtype)

    return {f"{emb}weight": draw(K, D), f"{rnn}weight_ih_l0": draw(H, D),
            f"{rnn}weight_hh_l0": draw(H, H), f"{rnn}bias_ih_l0": draw(H),
            f"{rnn}bias_hh_l0": draw(H), f"{lin}weight": draw(K, H), f"{lin}bias": draw(K)}


def write(tmp_path: Path, tensors: dict[str, np.ndarray], name: str = "w.safetensors",
          metadata: dict[str, str] | None = None) -> Path:
    path = tmp_path / name
    save_file(tensors, str(path), metadata=metadata)
    return path


def expected(s: dict[str, np.ndarray], emb: str = "emb.", rnn: str = "rnn.",
             lin: str = "fc.") -> dict[str, np.ndarray]:
    f = {k: v.astype(np.float64) for k, v in s.items()}
    return {"E": f[f"{emb}weight"], "U": f[f"{rnn}weight_ih_l0"], "W": f[f"{rnn}weight_hh_l0"],
            "b": f[f"{rnn}bias_ih_l0"] + f[f"{rnn}bias_hh_l0"], "V": f[f"{lin}weight"],
            "c": f[f"{lin}bias"]}


# ---------------------------------------------------------------- import


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("names", [("emb.", "rnn.", "fc."),
                                   ("model.encoder.", "model.cell.", "head.decoder."),
                                   ("embedding.", "", "linear.")])
def test_import_finds_the_tensors_by_suffix_and_shape(tmp_path: Path, dtype: type,
                                                       names: tuple[str, str, str]) -> None:
    K, D, H = 5, 3, 4
    s = torch_names(K, D, H, *names, dtype=dtype)
    imp = read_weights(write(tmp_path, s), K)
    want = expected(s, *names)
    for n in ("E", "U", "W", "b", "V", "c"):
        got = imp.params.get(n)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want[n], err_msg=n)  # float32 -> float64 is exact
    assert imp.sources["b"] == f"{names[1]}bias_ih_l0 + {names[1]}bias_hh_l0"
    assert imp.unused == []


def test_same_shapes_for_embedding_and_linear_are_told_apart_by_the_bias(
        tmp_path: Path) -> None:
    # D == H: emb.weight and fc.weight are both K x 3; only the Linear has a bias.
    s = torch_names(4, 3, 3)
    want = expected(s)
    imp = read_weights(write(tmp_path, s), 4)
    np.testing.assert_array_equal(imp.params.E, want["E"])
    np.testing.assert_array_equal(imp.params.V, want["V"])


def test_a_model_without_biases_imports_zero_biases(tmp_path: Path) -> None:
    s = torch_names(4, 2, 3)
    for n in ("rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.bias"):
        del s[n]
    imp = read_weights(write(tmp_path, s), 4)
    assert not imp.params.b.any() and not imp.params.c.any()
    np.testing.assert_array_equal(imp.params.V, s["fc.weight"].astype(np.float64))


def test_prefixes_choose_between_two_candidates(tmp_path: Path) -> None:
    s = torch_names(4, 2, 3) | {k.replace("rnn.", "rnn2."): v * 2 for k, v in
                                torch_names(4, 2, 3).items() if k.startswith("rnn.")}
    path = write(tmp_path, s)
    with pytest.raises(InteropError, match=r"2 nn.RNN candidates fit .*--prefix-rnn"):
        read_weights(path, 4)
    for prefix in ("rnn2", "rnn2."):
        imp = read_weights(path, 4, {"rnn": prefix})
        np.testing.assert_array_equal(imp.params.W, s["rnn2.weight_hh_l0"].astype(np.float64))
        assert "rnn.weight_ih_l0" in imp.unused
    s2 = torch_names(4, 2, 3) | {"emb_b.weight": RNG.normal(size=(4, 2))}
    path2 = write(tmp_path, s2, "two_emb.safetensors")
    with pytest.raises(InteropError, match=r"--prefix-embedding"):
        read_weights(path2, 4)
    imp = read_weights(path2, 4, {"embedding": "emb_b"})
    np.testing.assert_array_equal(imp.params.E, s2["emb_b.weight"])
    with pytest.raises(InteropError, match=r"emb.weight: is 4 x 2, but the nn.Linear weight "
                       r"must be K x H = 4 x 3"):
        read_weights(path2, 4, {"embedding": "emb_b", "linear": "emb"})
    with pytest.raises(InteropError, match=r"nope.weight: no such tensor"):
        read_weights(path2, 4, {"embedding": "nope"})


BAD = {
    "2 layers": (lambda s: s | {"rnn.weight_ih_l1": np.zeros((3, 3), np.float32)},
                 "rnn.weight_ih_l1", "num_layers > 1"),
    "bidirectional": (lambda s: s | {"rnn.weight_ih_l0_reverse": s["rnn.weight_ih_l0"]},
                      "rnn.weight_ih_l0_reverse", "bidirectional"),
    "GRU": (lambda s: s | {"rnn.weight_ih_l0": np.zeros((9, 2), np.float32),
                           "rnn.weight_hh_l0": np.zeros((9, 3), np.float32)},
            "rnn.weight_hh_l0", "an nn.GRU"),
    "LSTM": (lambda s: s | {"rnn.weight_hh_l0": np.zeros((12, 3), np.float32)},
             "rnn.weight_ih_l0", "expected 4H x D (nn.LSTM)"),
    "vocabulary of 5": (lambda s: s | {"emb.weight": np.zeros((5, 2), np.float32),
                                       "fc.weight": np.zeros((5, 3), np.float32),
                                       "fc.bias": np.zeros(5, np.float32)},
                        "fc.weight", "--vocab has 4 characters"),
    "embedding of 5": (lambda s: s | {"emb.weight": np.zeros((5, 2), np.float32)},
                       "emb.weight", "K x D = 4 x 2"),
    "no W_hh": (lambda s: {k: v for k, v in s.items() if k != "rnn.weight_hh_l0"},
                "rnn.weight_hh_l0", "missing"),
    "one bias": (lambda s: {k: v for k, v in s.items() if k != "rnn.bias_hh_l0"},
                 "rnn.bias_hh_l0", "missing"),
    "no RNN": (lambda s: {k: v for k, v in s.items() if not k.startswith("rnn.")},
               "w.safetensors", "no nn.RNN weights"),
    "no Linear": (lambda s: {k: v for k, v in s.items() if not k.startswith("fc.")},
                  "w.safetensors", "no nn.Linear weight of K x H = 4 x 3"),
    "integers": (lambda s: s | {"emb.weight": np.zeros((4, 2), np.int64)},
                 "emb.weight", "dtype I64"),
    "too large": (lambda s: s | {"rnn.weight_ih_l0": np.zeros((1100, 2), np.float32),
                                 "rnn.weight_hh_l0": np.zeros((1100, 1100), np.float32)},
                  "rnn.weight_ih_l0", "at most 1024"),
    "NaN": (lambda s: s | {"fc.bias": np.array([0, 0, np.nan, 0], np.float32)},
            "fc.bias", "entry [3] (1-based) is nan"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_what_cannot_be_imported_is_one_line_naming_file_and_tensor(
        tmp_path: Path, case: str) -> None:
    change, tensor, words = BAD[case]
    path = write(tmp_path, change(torch_names(4, 2, 3)))
    with pytest.raises(InteropError) as err:
        read_weights(path, 4)
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith(str(path)), line
    assert tensor in line and words in line, line


def test_relu_in_the_metadata_is_refused_and_tanh_accepted(tmp_path: Path) -> None:
    s = torch_names(4, 2, 3)
    with pytest.raises(InteropError, match=r"metadata rnn.nonlinearity: is 'relu'.*tanh"):
        read_weights(write(tmp_path, s, metadata={"rnn.nonlinearity": "relu"}), 4)
    read_weights(write(tmp_path, s, "tanh.safetensors", {"nonlinearity": "tanh"}), 4)


@pytest.mark.parametrize("data", [b"", b"hello world, not a safetensors file",
                                  b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}"])
def test_a_file_that_is_not_safetensors_is_one_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.safetensors"
    path.write_bytes(data)
    with pytest.raises(InteropError, match=r"x.safetensors: not a safetensors file \("):
        read_weights(path, 4)


# --------------------------------------------------------- round trip


def params_of(spec: ModelSpec) -> Params:
    return spec.initial_params()


@pytest.mark.parametrize("model", ["hello", "random"])
def test_export_then_import_gives_the_same_model_file_numbers(tmp_path: Path,
                                                              model: str) -> None:
    spec = load("hello")[0] if model == "hello" else random_spec(6, 3, 5, 20, seed=4)
    path = tmp_path / "m.safetensors"
    path.write_bytes(safetensors_bytes(spec.initial_params()))
    imp = read_weights(path, spec.K)
    text = model_file_text(imp, str(path), spec.text, spec.alphabet, spec.learning_rate,
                           spec.name)
    again = parse_bytes(text.encode(), "imported")
    for n in UPDATE_ORDER:
        np.testing.assert_array_equal(again.initial_params().get(n), spec.initial_params().get(n))
    assert (again.text, again.alphabet, again.learning_rate) == (
        spec.text, spec.alphabet, spec.learning_rate)


# ----------------------------------------------------------- notebook


def run_script(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "notebook_code.py"
    script.write_text(code)
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)


def awkward_text() -> ModelSpec:
    """Quotes, a backslash, a newline and a non-ASCII letter in the text."""
    text = "it's \"x\" \\ a\nb é it's"
    from rnn_tui.core.model_file import validate

    return validate({"name": "awk'ward\"\"\"", "text": text, "embedding_dim": 2,
                     "hidden_size": 3, "learning_rate": 0.05, "init": {"seed": 3}}, "t")


NOTEBOOK_MODELS = {
    "awkward text": awkward_text,
    "hello": lambda: load("hello")[0],
    "hello-handout": lambda: load("hello-handout")[0],  # the handout's dE (rows of x_t)
    "random": lambda: random_spec(5, 3, 4, 12, seed=7, lr=0.2),
    "random-handout": lambda: random_spec(3, 2, 2, 9, seed=8, mode="x_t"),
}


@pytest.mark.parametrize("model", sorted(NOTEBOOK_MODELS))
def test_the_notebook_is_valid_and_its_code_reproduces_every_number(
        tmp_path: Path, model: str) -> None:
    spec = NOTEBOOK_MODELS[model]()
    text = worked_notebook(spec, minima=(50, 100))
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    kinds = [c.cell_type for c in nb.cells]
    # setup, preprocess, parameters, T steps, deltas, 6 updates, later epochs
    assert kinds.count("code") == spec.T + 11
    code = code_of(text)
    # per step: x, h, Omega, y_hat, the prediction, L, delta, and epoch 2's y_hat and L
    assert code.count("check(") >= 9 * spec.T + 17
    result = run_script(code, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    # The first heading's number and the total loss are in the cells they belong to.
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## 3 Forward pass" in md and "### 4.7 Update $E$" in md


def test_a_wrong_expected_value_makes_the_notebook_fail(tmp_path: Path, hello: ModelSpec
                                                        ) -> None:
    code = code_of(worked_notebook(hello))
    total = repr(next(iter(training(hello))).fwd.total_loss)
    assert code.count(total) == 1
    # The total loss, one unit in the 11th decimal off: the check must catch it.
    wrong = repr(float(total) + 1e-11)
    result = run_script(code.replace(total, wrong), tmp_path)
    assert result.returncode == 1
    assert "AssertionError" in result.stderr and "Not equal to tolerance" in result.stderr
    # and so does a changed gradient entry, deep in the BPTT cell
    g = repr(float(next(iter(training(hello))).grads.W[0, 0]))
    assert g in code
    result = run_script(code.replace(g, repr(float(g) * 1.001)), tmp_path)
    assert result.returncode == 1


def test_minima_are_checked_unless_the_loss_curve_is_chaotic(hello: ModelSpec) -> None:
    code = code_of(worked_notebook(hello))
    assert code.count("check(min(") == 2  # epochs 50 and 100, to 1e-12
    # lr 0.2 on this random model: one ulp in the initial values moves the minimum
    # up to epoch 50 by about 1e-6 (the notebook's sums then differ from ours by 2e-6)
    text = worked_notebook(NOTEBOOK_MODELS["random"]())
    nb = nbformat.reads(text, as_version=4)
    notes = [c.source for c in nb.cells if "the loss curve is chaotic" in c.source]
    assert len(notes) == 1 and nb.cells[[c.source for c in nb.cells].index(notes[0])
                                        ].cell_type == "markdown"
    assert "check(min(" not in code_of(text) and "not checked: chaotic" in code_of(text)


def test_the_same_model_gives_the_same_notebook(hello: ModelSpec) -> None:
    assert worked_notebook(hello) == worked_notebook(hello)


# -------------------------------------------------------------- torch

CHECKED = ("E", "U", "W", "b", "V", "c")


def torch_grads(model, ids: np.ndarray):
    """One epoch's loss, per-step losses and gradients by autograd."""
    import torch

    x = torch.tensor(ids[:-1])[None]
    targets = torch.tensor(ids[1:])
    emb, rnn, lin = model
    emb_out = emb(x if rnn.batch_first else x.T)  # (1, T, D) or (T, 1, D)
    h, _ = rnn(emb_out)
    h = h[0] if rnn.batch_first else h[:, 0]  # (T, H)
    losses = torch.nn.functional.cross_entropy(lin(h), targets, reduction="none")
    loss = losses.sum()
    loss.backward()
    assert torch.allclose(rnn.bias_ih_l0.grad, rnn.bias_hh_l0.grad, rtol=0, atol=1e-12)  # db
    grads = {"E": emb.weight.grad, "U": rnn.weight_ih_l0.grad, "W": rnn.weight_hh_l0.grad,
             "b": rnn.bias_ih_l0.grad, "V": lin.weight.grad, "c": lin.bias.grad}
    return loss.item(), losses.detach().numpy(), {n: g.numpy() for n, g in grads.items()}


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_torch_model_imports_with_the_same_epoch_1_numbers(
        tmp_path: Path, batch_first: bool, dtype: str) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed (optional: "
                                "pip install torch==2.13.0, the CPU build)")
    from safetensors.torch import save_file as save_torch

    torch.manual_seed(11)
    K, D, H = 6, 3, 5
    emb, rnn, lin = (torch.nn.Embedding(K, D), torch.nn.RNN(D, H, batch_first=batch_first),
                     torch.nn.Linear(H, K))
    modules = torch.nn.ModuleDict({"embed": emb, "recurrent": rnn, "out": lin})
    modules.to(getattr(torch, dtype))
    path = tmp_path / "torch.safetensors"
    save_torch(modules.state_dict(), str(path))
    vocab, text = "abcdef", "abcfedabbacfdeeafcab"
    spec = parse_bytes(model_file_text(read_weights(path, K), str(path), text, vocab, 0.1,
                                       "t").encode(), "imported")
    modules.double()  # float32 values are exact in float64: same numbers from here
    loss, losses, grads = torch_grads((emb, rnn, lin), np.array([vocab.index(c) for c in text]))
    first = next(iter(training(spec)))
    assert abs(first.fwd.total_loss - loss) < 1e-9
    np.testing.assert_allclose(first.fwd.loss, losses, rtol=0, atol=1e-9)
    for n in CHECKED:
        np.testing.assert_allclose(first.grads.get(n), grads[n], rtol=0, atol=1e-9, err_msg=n)
    assert np.abs(first.grads.E).max() > 0.01  # not a vacuous comparison


def test_torch_models_rnn_tui_cannot_read_are_refused(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed (optional: "
                                "pip install torch==2.13.0, the CPU build)")
    from safetensors.torch import save_file as save_torch

    cases = {
        "two layers": (torch.nn.RNN(2, 3, num_layers=2), None, "rnn.weight_ih_l1"),
        "GRU": (torch.nn.GRU(2, 3), None, "an nn.GRU"),
        "LSTM with proj_size": (torch.nn.LSTM(2, 3, proj_size=2), None, "proj_size"),
        "ReLU": (torch.nn.RNN(2, 3, nonlinearity="relu"), {"nonlinearity": "relu"}, "'relu'"),
    }
    for case, (rnn, metadata, words) in cases.items():
        m = torch.nn.ModuleDict({"emb": torch.nn.Embedding(4, 2), "rnn": rnn,
                                 "fc": torch.nn.Linear(3, 4)})
        path = tmp_path / f"{case}.safetensors"
        save_torch(m.state_dict(), str(path), metadata=metadata)
        with pytest.raises(InteropError, match=words):
            read_weights(path, 4)


def run_exported(tmp_path: Path, spec: ModelSpec) -> dict[str, object]:
    (tmp_path / "model.safetensors").write_bytes(safetensors_bytes(spec.initial_params()))
    (tmp_path / "model.py").write_text(torch_script(spec))
    result = subprocess.run([sys.executable, str(tmp_path / "model.py")], capture_output=True,
                            text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    out = {}
    for line in result.stdout.splitlines():
        name, value = line.split(" ", 1)
        out[name] = json.loads(value)
    assert tuple(out) == PRINTED
    return out


@pytest.mark.slow
@pytest.mark.parametrize("model", ["hello", "random", "awkward text"])
def test_the_exported_script_prints_rnn_tuis_numbers(tmp_path: Path, model: str) -> None:
    pytest.importorskip("torch", reason="torch is not installed (optional: "
                        "pip install torch==2.13.0, the CPU build)")
    spec = {"hello": lambda: load("hello")[0], "awkward text": awkward_text,
            "random": lambda: random_spec(7, 3, 4, 25, seed=5, lr=0.3)}[model]()
    out = run_exported(tmp_path, spec)
    first = next(islice(training(spec), 1))
    assert isinstance(out["total_loss"], float)
    assert abs(out["total_loss"] - first.fwd.total_loss) < 1e-9
    np.testing.assert_allclose(out["losses"], first.fwd.loss, rtol=0, atol=1e-9)
    for n in CHECKED:
        np.testing.assert_allclose(out[f"d{n}"], first.grads.get(n), rtol=0, atol=1e-9,
                                   err_msg=n)
        # one SGD step: b moves by eta * db once (b_hh is kept out of the optimiser)
        np.testing.assert_allclose(out[f"{n}_new"], first.after.get(n), rtol=0, atol=1e-9,
                                   err_msg=n)
