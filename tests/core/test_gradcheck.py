"""The gradient check: finite differences agree with the backward pass, and
it reports the handout's dE convention as the non-gradient it is."""

from __future__ import annotations

import numpy as np

from rnn_tui.core import gradcheck
from rnn_tui.core.maths import Params
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.params import UPDATE_ORDER

from helpers.cli import run
from helpers.models import random_spec


def test_exact_gradients_pass(hello: ModelSpec) -> None:
    inputs, targets = hello.indices()
    results = gradcheck.check(hello.initial_params(), inputs, targets, "x_k")
    assert [r.name for r in results] == list(UPDATE_ORDER)
    assert all(r.ok and r.checked == r.total for r in results)


def test_a_wrong_gradient_is_caught(hello: ModelSpec) -> None:
    """Perturb one parameter's gradient path: the check must notice."""
    inputs, targets = hello.indices()
    p = hello.initial_params()
    results = gradcheck.check(p, inputs, targets, "x_t")
    bad = {r.name for r in results if not r.ok}
    assert bad == {"E"}
    lines = gradcheck.report(results, "x_t")
    assert any("DIFFERS" in ln and ln.startswith("dE") for ln in lines)


def test_sampling_is_bounded_and_reproducible() -> None:
    spec = random_spec(20, 8, 16, 12, seed=4)
    inputs, targets = spec.indices()
    p: Params = spec.initial_params()
    a = gradcheck.check(p, inputs, targets, max_entries=10, seed=1)
    b = gradcheck.check(p, inputs, targets, max_entries=10, seed=1)
    assert [r.checked for r in a] == [10, 10, 10, 10, 10, 10]
    assert a == b and all(r.ok for r in a)


def test_relative_error_of_zeros_is_zero() -> None:
    assert gradcheck.relative_error(0.0, 0.0) == 0.0
    assert np.isclose(gradcheck.relative_error(1.0, 1.1), 0.1 / 1.1)


def test_cli_gradcheck_exit_status() -> None:
    ok = run("gradcheck", "hello", "--epoch", "3")
    assert ok.returncode == 0 and "dE" in ok.stdout and "DIFFERS" not in ok.stdout
    handout = run("gradcheck", "hello-handout")
    assert handout.returncode == 1 and "not the gradient of L" in handout.stdout
