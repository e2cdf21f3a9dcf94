"""compare: a student's numbers against ours, value by value. Each classic
bug of a hand-written BPTT is found at its first wrong value and named."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_tui.core import compare as C
from rnn_tui.core import report as R
from rnn_tui.core import theirs as TH
from rnn_tui.core.diagnosis import diagnose
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.stepper import Layout, Phase, Position

from helpers.models import random_spec
from helpers.students import student_trace


@pytest.fixture(scope="module")
def spec() -> ModelSpec:
    """H = 3 and K = 6 (H = 1 would hide transposes), T = 8, nonzero biases."""
    s = random_spec(K=6, D=2, H=3, T=8, seed=7)
    xs = s.indices()[0]
    assert len(set(xs.tolist())) >= 4 and s.hidden_size == 3 and s.K == 6
    return s


def run(spec: ModelSpec, doc: dict, tol: float = 1e-6, **kw) -> C.Report:
    return C.compare(spec, TH.parse(doc, spec, "student.json"), tol, **kw)


def first_and_diagnosis(spec: ModelSpec, doc: dict) -> tuple[str, str, str]:
    report = run(spec, doc)
    first = report.first()
    assert first is not None
    d = diagnose(report, spec.learning_rate)
    assert d is not None
    return first.describe(), d.key, d.text


def test_a_correct_student_agrees_with_every_value(spec: ModelSpec) -> None:
    report = run(spec, student_trace(spec, epochs=3))
    assert report.all_agree and report.first() is None
    T, K, D, H = spec.T, spec.K, spec.embedding_dim, spec.hidden_size
    per_epoch = (2 * (K * D + H * D + H * H + H + K * H + K)  # params and grads
                 + K * D + H * D + H * H + H + K * H + K  # params_after
                 + T * (D + H + 2 * K + 1)  # forward
                 + T * (2 * K + K * H)  # outputs
                 + T * (T + 1) // 2 * (2 * H + H * H + H * D + K * D))  # terms
    assert report.compared == 3 * per_epoch
    assert diagnose(report, spec.learning_rate) is None


def test_rnn_tui_s_own_trace_agrees_exactly(spec: ModelSpec) -> None:
    import json

    doc = json.loads(R.trace_json(spec, 2, terms=True))
    report = run(spec, doc, tol=1e-300)  # bit for bit: the same functions
    assert report.all_agree, report.first()


def test_missing_tanh_derivative_is_wrong_from_the_first_term(spec: ModelSpec) -> None:
    first, key, text = first_and_diagnosis(spec, student_trace(spec, bug="no_dtanh"))
    assert first.startswith("epoch 1, BPTT t=1 k=1, term[1]: expected ")
    assert key == "tanh derivative" and "(1 - h_k^2)" in text


def test_missing_tanh_derivative_from_the_gradients_alone(spec: ModelSpec) -> None:
    first, key, _ = first_and_diagnosis(spec, student_trace(spec, bug="no_dtanh", terms=False))
    assert first.startswith("epoch 1, update W, dW[1,1]: ")
    assert key == "tanh derivative"


def test_W_where_W_transposed_belongs(spec: ModelSpec) -> None:
    first, key, text = first_and_diagnosis(spec, student_trace(spec, bug="W_not_T"))
    assert first.startswith("epoch 1, BPTT t=2 k=1, term[")  # term(2,2) is still right
    assert key == "BPTT chain" and "term(2,2) agrees, term(2,1) not" in text


def test_h_k_instead_of_h_k_minus_1_in_dW(spec: ModelSpec) -> None:
    first, key, text = first_and_diagnosis(spec, student_trace(spec, bug="h_k"))
    # term (1, 1) adds term h_0^T = 0 to dW; theirs adds term h_1^T.
    assert first.startswith("epoch 1, BPTT t=1 k=1, dW[1,1]: expected 0.0000, got ")
    assert key == "h_k vs h_{k-1}" and "h_{k-1}" in text
    report = run(spec, student_trace(spec, bug="h_k"))
    bad = {s.field for s in report.summary() if s.differ and s.first.startswith("epoch 1")}
    assert bad == {"term.dW", "grad.W", "new.W"}  # dW alone, then what follows from it


def test_dc_summed_over_one_step_only(spec: ModelSpec) -> None:
    first, key, text = first_and_diagnosis(spec, student_trace(spec, bug="dc_one_step"))
    assert first.startswith("epoch 1, update c, dc[1]: ")
    assert key == "dc not summed over t" and f"yours is delta_{spec.T} alone" in text


def test_the_handouts_dE_row_convention(spec: ModelSpec) -> None:
    first, key, text = first_and_diagnosis(spec, student_trace(spec, bug="dE_x_t"))
    xs = spec.indices()[0]
    # The first term whose loss step's input differs from step k's input.
    t, k = next((t, k) for t in range(1, spec.T + 1) for k in range(t, 0, -1)
                if xs[t - 1] != xs[k - 1])
    row = min(xs[t - 1], xs[k - 1]) + 1
    assert first.startswith(f"epoch 1, BPTT t={t} k={k}, dE[{row},1]: ")
    assert key == "dE rows: the handout's x_t"
    assert "row of E of x°_k" in text and "exactly that convention's dE" in text


def test_the_dE_convention_from_the_gradients_alone(spec: ModelSpec) -> None:
    first, key, _ = first_and_diagnosis(spec, student_trace(spec, bug="dE_x_t", terms=False))
    assert first.startswith("epoch 1, update E, dE[")
    assert key == "dE rows: the handout's x_t"


def test_a_forward_bug_is_named_at_its_first_value(spec: ModelSpec) -> None:
    first, key, text = first_and_diagnosis(spec, student_trace(spec, bug="no_b"))
    assert first.startswith("epoch 1, forward t=1, h_1[1]: ")
    assert key == "forward pass: h" and "tanh(U x_t + W h_{t-1} + b)" in text


def test_a_wrong_output_term(spec: ModelSpec) -> None:
    doc = student_trace(spec)
    doc["epochs"][0]["outputs"][2]["dV"][4][1] *= 2
    first, key, text = first_and_diagnosis(spec, doc)
    assert first.startswith("epoch 1, output gradients t=3, dV[5,2]: ")
    assert key == "output gradient" and "dV += delta_t h_tᵀ" in text


def test_a_wrong_update_and_wrong_initial_values(spec: ModelSpec) -> None:
    doc = student_trace(spec, terms=False)
    doc["epochs"][0]["params_after"]["b"][1] += 0.01
    first, key, text = first_and_diagnosis(spec, doc)
    assert first.startswith("epoch 1, update b, b_new[2]: ")
    assert key == "update" and "b_new" in text
    doc = student_trace(spec, terms=False)
    doc["epochs"][0]["params"]["W"][2][0] = 0.5
    first, key, _ = first_and_diagnosis(spec, doc)
    assert first.startswith("epoch 1, forward t=1, W[3,1]: ")
    assert key == "initial parameters"


def test_any_subset_of_fields_and_epochs(spec: ModelSpec) -> None:
    doc = student_trace(spec, epochs=3, bug="h_k", terms=False, params=False)
    for ep in doc["epochs"]:
        for step in ep["steps"]:
            del step["omega"], step["t"]
        del ep["grads"], ep["params_after"]
    del doc["epochs"][0]
    report = run(spec, doc)
    assert report.epochs == (2, 3)
    first = report.first()
    # h_1 = tanh(U x_1 + b) does not see W: the wrong dW shows from h_2 on.
    assert first is not None and first.where == "epoch 2, forward t=2"
    assert diagnose(report, spec.learning_rate).key == "backward pass or update"
    assert run(spec, student_trace(spec, epochs=3, bug="h_k"), epochs=1).epochs == (1,)


def test_the_debugger_can_ask_per_step(spec: ModelSpec) -> None:
    report = run(spec, student_trace(spec, bug="h_k"))
    pos = Position(epoch=1, phase=Phase.BPTT, index=0)
    assert report.next_difference() == pos
    diffs = report.differences_at(pos)
    assert {(d.quantity, d.field) for d in diffs} == {("dW", "term.dW")}
    assert all(not d.agrees for d in diffs)
    assert len(report.at(pos)) == 2 * 3 + 3 * 3 + 3 * 2 + 6 * 2  # term, dW, dU, db, dE
    nxt = report.next_difference(pos)
    assert nxt is not None and nxt.phase is Phase.BPTT and nxt.index == 1
    # what the debugger marks: a block's differences, the first few if asked
    blocks = report.blocks_at(pos)
    assert [c for b in blocks for c in b.differences()] == diffs
    assert [c for b in blocks for c in b.differences(2)] == diffs[:2]
    assert sum(b.size for b in blocks) == len(report.at(pos))


def test_agreement_rules() -> None:
    assert C.agree(1.0, 1.0 + 1e-7, 1e-6) and not C.agree(1.0, 1.0 + 1e-5, 1e-6)
    assert C.agree(math.nan, math.nan, 1e-6) and not C.agree(math.nan, 0.0, 1e-6)
    assert C.agree(math.inf, math.inf, 1e-6) and not C.agree(math.inf, 1e308, 1e-6)
    assert not C.agree(-math.inf, math.inf, math.inf)
    lay = Layout(T=3)
    b = C.block(lay, Position(epoch=1, phase=Phase.FORWARD, index=0), "h_1", "h",
                np.array([1.0, math.nan, math.inf, 2e6]),
                np.array([1.0 + 5e-7, math.nan, math.inf, 2e6 + 1.0]),
                C.relative(1e-6)(np.array([1.0, math.nan, math.inf, 2e6])))
    assert b.agrees.tolist() == [True, True, True, True] and b.differ == 0
    assert C.relative(1e-6)(np.array([0.5, -3.0])).tolist() == [1e-6, 3e-6]


def test_numbers_that_round_alike_are_shown_apart(spec: ModelSpec) -> None:
    doc = student_trace(spec, terms=False)
    doc["epochs"][0]["steps"][0]["h"][0] += 2e-6
    first = run(spec, doc).first()
    assert first is not None
    exp, got = first.describe().split("expected ")[1].split(", got ")
    assert exp != got and len(exp) > 6


BAD = [
    ([], "expected a JSON object"),
    ({"epochs": 3}, "epochs: expected a list, got 3"),
    ({"epochs": [{"steps": [{"h": [0.1, 0.2]}]}]},
     "epochs[1].steps[1].h: expected 3 numbers (H = 3), got 2"),
    ({"epochs": [{"steps": [{"h": [0.1, "x", 0.2]}]}]},
     "epochs[1].steps[1].h[2]: expected a number, got 'x'"),
    ({"epochs": [{"steps": [{"h": [0.1, True, 0.2]}]}]},
     "epochs[1].steps[1].h[2]: expected a number, got a boolean"),
    ({"epochs": [{"grads": {"W": [[0, 0, 0], [0, 0], [0, 0, 0]]}}]},
     "epochs[1].grads.W, row 2: expected 3 numbers (H = 3), got 2"),
    ({"epochs": [{"grads": {"W": [[0, 0, 0], [0, None, 0], [0, 0, 0]]}}]},
     "epochs[1].grads.W[2,2]: expected a number, got null"),
    ({"epochs": [{"grads": {"U": [[0, 0]] * 2}}]},
     "epochs[1].grads.U: expected 3 x 2 (H x D, a list of rows), got 2 rows"),
    ({"epochs": [{"steps": [{"yhat": [0] * 6}]}]},
     "epochs[1].steps[1].yhat: unknown field (did you mean 'y_hat'?)"),
    ({"epochs": [{"terms": [{"t": 2, "k": 3, "term": [0, 0, 0]}]}]},
     "epochs[1].terms[1].k: expected a whole number in 1..2, got 3"),
    ({"epochs": [{"steps": [{"t": 9}]}]}, "epochs[1].steps[1].t: expected a whole number in 1..8"),
    ({"vocab": ["a", "b"], "epochs": []}, "vocab: the model's vocabulary"),
    ({"epochs": [{"epoch": 1}, {"epoch": 1}]}, "epochs[2].epoch: epoch 1 given twice"),
]


@pytest.mark.parametrize(("doc", "message"), BAD)
def test_bad_input_names_the_field(spec: ModelSpec, doc: object, message: str) -> None:
    with pytest.raises(TH.InputError) as err:
        TH.parse(doc, spec, "student.json")
    assert str(err.value).startswith("student.json: ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_reading_files(tmp_path, spec: ModelSpec) -> None:
    import os

    cases = {"missing.json": None, "bad.json": b'{"epochs": [1,}', "deep.json": b"[" * 100_000,
             "latin.json": b'{"model": "\xe9"}', "fifo.json": "fifo"}
    for name, data in cases.items():
        path = tmp_path / name
        if data == "fifo":
            os.mkfifo(path)
        elif data is not None:
            path.write_bytes(data)
        with pytest.raises(TH.InputError) as err:
            TH.load(path, spec)
        assert str(err.value).startswith(str(path) + ": "), err.value
    assert "line 1, column 15: invalid JSON" in _err(TH.load, tmp_path / "bad.json", spec)
    assert "not a regular file" in _err(TH.load, tmp_path / "fifo.json", spec)


def _err(fn, *args) -> str:
    with pytest.raises(TH.InputError) as err:
        fn(*args)
    return str(err.value)
