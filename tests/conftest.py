"""Shared fixtures: the built-in models and random models of any size."""

from __future__ import annotations

import pytest

from rnn_tui.core.model_file import ModelSpec, load


def pytest_configure(config: pytest.Config) -> None:
    """The quick loop (``-m "not slow"``) pins only some screens of a snapshot
    matrix, so the others' SVGs look unused: warn there instead of failing. The
    full suite (the README's command, CI) still fails on an unused snapshot."""
    if "not slow" in (config.option.markexpr or ""):
        config.option.warn_unused_snapshots = True


@pytest.fixture(scope="session")
def hello() -> ModelSpec:
    return load("hello")[0]


@pytest.fixture(scope="session")
def hello_handout() -> ModelSpec:
    return load("hello-handout")[0]
