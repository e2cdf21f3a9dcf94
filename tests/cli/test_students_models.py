"""Students' own models: `new` picks a learning rate that trains, `check`
says "diverging" when it is, and a misspelt key gets a "did you mean"."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnn_tui.core.divergence import diverging
from rnn_tui.core.fast_train import train
from rnn_tui.core.maths import Params
from rnn_tui.core.model_file import load

from helpers.cli import GOOD, assert_one_line_error, run

TEXT = ("the quick brown fox jumps over the lazy dog and " * 7)[:300]


def test_new_default_learning_rate_trains_its_own_model(tmp_path: Path) -> None:
    """The issue's case: 0.1 diverged on a 276-character text with 32 hidden
    units; the default must lower the loss over 50 epochs."""
    out = tmp_path / "big.toml"
    result = run("new", "--text", TEXT, "--hidden", "32", "--seed", "0", "-o", str(out))
    assert result.returncode == 0, result.stderr
    spec = load(str(out))[0]
    assert spec.learning_rate == float(f"{1 / 299:.2g}")
    inputs, targets = spec.indices()
    losses, p = train(spec.initial_params(), inputs, targets, spec.learning_rate, 50)
    assert losses[-1] < 0.5 * losses[0]
    assert not diverging([float(x) for x in losses], p)
    checked = run("check", str(out))
    assert "trial     finite over 50 epochs" in checked.stdout, checked.stdout


def test_new_keeps_the_handout_rate_on_short_texts(tmp_path: Path) -> None:
    out = tmp_path / "short.toml"
    assert run("new", "--text", "hello", "-o", str(out)).returncode == 0
    assert load(str(out))[0].learning_rate == 0.1


def test_check_says_diverging(tmp_path: Path) -> None:
    out = tmp_path / "big.toml"
    run("new", "--text", TEXT, "--hidden", "32", "--seed", "0", "--lr", "0.1", "-o", str(out))
    result = run("check", str(out))
    assert result.returncode == 0
    line = result.stdout.splitlines()[-1]
    assert "diverging in 50 epochs" in line and "lower the learning rate" in line, line
    assert "finite over" not in result.stdout


def test_diverging_rules() -> None:
    assert diverging([5.0, 4.0, 3.0]) == ""
    assert diverging([5.0, 60.0, 40.0]) == "loss grew 12x"
    assert diverging([20.8, 5.59e301]) == "loss grew 2.7e+300x"  # not 300 digits
    small = np.zeros((1, 1))
    p = Params(E=np.full((2, 1), 2e6), U=small, W=small, b=np.zeros(1), V=np.zeros((2, 1)),
               c=np.zeros(2))
    assert diverging([5.0, 4.0], p) == "|E| reaches 2.0e+06"
    assert diverging([5.0, float("nan"), 4.0]) == ""


def test_missing_key_next_to_a_misspelt_one(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(GOOD.replace("hidden_size", "hiden_size"))
    assert_one_line_error(run("check", str(path)), "hidden_size: missing (required); "
                          "did you mean 'hidden_size' for 'hiden_size'?")
