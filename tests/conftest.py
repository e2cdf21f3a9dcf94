"""Shared fixtures: the built-in models and random models of any size."""

from __future__ import annotations

import sys

import pytest

from rnn_tui.core.model_file import ModelSpec, load


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The quick loop (``-m "not slow"``) runs on every core (pytest-xdist's
    ``-n auto``) unless ``-n`` or ``-p no:xdist`` says otherwise. The full
    suite stays in one process: syrupy checks for unused snapshots (and
    ``--snapshot-update`` removes them) only without xdist, and the quick loop
    only warns of them anyway (below)."""
    quick = "not slow" in (config.option.markexpr or "")
    worker = hasattr(config, "workerinput")  # an xdist worker: never start workers of its own
    if quick and not worker and config.pluginmanager.hasplugin("xdist") \
            and config.option.numprocesses is None:
        config.option.numprocesses = "auto"


def pytest_configure(config: pytest.Config) -> None:
    """The quick loop (``-m "not slow"``) pins only some screens of a snapshot
    matrix, so the others' SVGs look unused: warn there instead of failing. The
    full suite (the README's command, CI) still fails on an unused snapshot."""
    if "not slow" in (config.option.markexpr or ""):
        config.option.warn_unused_snapshots = True


# Textual's pilot waits for the app to go idle after every key (twice) and every
# pause(): it sleeps in slices of 1/50 s until a slice passes with under 5 % CPU,
# so each key costs at least 40 ms of sleep (2300 waits, ~46 s of the quick loop).
# Slices of 1/200 s keep the same test (a slice with under 5 % of CPU) at a
# quarter of the sleep. textual is pinned (==8.2.8), so the names are stable.
IDLE_SLICE = 1 / 200


def pytest_runtest_setup(item: pytest.Item) -> None:
    wait = sys.modules.get("textual._wait")  # loaded with textual, never imported here
    if wait is not None and wait.SLEEP_GRANULARITY != IDLE_SLICE:
        wait.SLEEP_GRANULARITY = IDLE_SLICE
        wait.SLEEP_IDLE = IDLE_SLICE / 20


@pytest.fixture(scope="session")
def hello() -> ModelSpec:
    return load("hello")[0]


@pytest.fixture(scope="session")
def hello_handout() -> ModelSpec:
    return load("hello-handout")[0]
