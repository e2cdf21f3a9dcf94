"""Shared fixtures: the built-in models and random models of any size."""

from __future__ import annotations

import pytest

from rnn_tui.core.model_file import ModelSpec, load


@pytest.fixture(scope="session")
def hello() -> ModelSpec:
    return load("hello")[0]


@pytest.fixture(scope="session")
def hello_handout() -> ModelSpec:
    return load("hello-handout")[0]
