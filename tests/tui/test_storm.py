"""Key and resize storms on the real app, under Textual's pilot.

Keys are posted as events the way a terminal delivers them (a held-down key
or a paste queues many at once), in random bursts, with random terminal
resizes from 20x5 to 250x80 in between. Two storms per model (the handout's
``hello`` and a random model):

- the *stepping* storm: every key bound to a stepping action (next, prev,
  next phase, phase back, next epoch, reset; every alias of each), escape,
  and keys bound to nothing. Afterwards the app's stepper must be exactly
  where a fresh Stepper gets by replaying only the stepping keys, with
  bit-identical numbers and loss history, the panels must show that step,
  and one more key press must still move it;
- the *full* storm: every key binding except the ones that quit (prompts,
  background jobs, play, help, quiz, themes, ...), plus enter, escape, tab,
  digits and letters that land in the prompts. Prompts, workers and timers
  make an exact replay meaningless, so it asserts that nothing raised, the
  app still runs, closes its screens and cancels its jobs on escape, and a
  key press afterwards moves the stepper by exactly one step.

Each storm sends STORM_KEYS = 10,000 keys and about 250 resizes (the
numbers are printed with -s). Seeds are fixed (override with
RNN_TUI_STORM_SEED).

The full storm found that a job key (c, f, m, j, d, or enter in a prompt)
followed at once by escape left the app busy for good, and that escape
cleared busy while the job's thread still ran. Both are fixed (the app is
busy until the job's thread has ended or, cancelled before it started, never
will: rnn_tui/tui/jobs.py) and have regression tests below.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence

import numpy as np
import pytest
from textual import events
from textual.geometry import Size
from textual.keys import REPLACED_KEYS, _get_key_aliases, _get_unicode_name_from_key
from textual.pilot import Pilot

from rnn_tui.core.epochs import Epoch
from rnn_tui.core.model_file import ModelSpec, load
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.stepper import Phase, Position, Stepper
from rnn_tui.tui.app import RnnApp
from rnn_tui.tui.widgets.panel import Panel
from rnn_tui.tui.widgets.status import StatusBar

from helpers.models import random_spec
from helpers.scenarios import make_app

pytestmark = pytest.mark.slow  # key storms: minutes of random keys against the real app

STORM_KEYS = 10_000
SEED = int(os.environ.get("RNN_TUI_STORM_SEED", "20251125"))
MIN_SIZE, MAX_SIZE = (20, 5), (250, 80)

# The app's stepping actions and what each does to a bare Stepper.
STEPPING: dict[str, Callable[[Stepper], object]] = {
    "step(1)": Stepper.next,
    "step(-1)": Stepper.prev,
    "phase(1)": Stepper.next_phase,
    "phase(-1)": Stepper.prev_phase,
    "next_epoch": lambda s: s.goto_epoch(s.position.epoch + 1),
    "reset": Stepper.reset,
}
NEUTRAL = {"cancel"}  # bound, but with nothing playing or running it changes nothing
ENDS_THE_APP = {"quit", "interrupt", "app.quit"}  # tested elsewhere; a storm would just stop

# Keys a user might hit that are not (or may not be) bound: filtered against
# the live bindings at run time, so a key that gets bound later moves from
# here to the binding set by itself.
CANDIDATES = [
    *"abcdefghijklmnopqrstuvwxyz", *"123456789",
    "percent_sign", "asterisk", "slash", "comma", "full_stop", "semicolon", "colon",
    "apostrophe", "quotation_mark", "grave_accent", "tilde", "exclamation_mark",
    "at", "number_sign", "dollar_sign", "ampersand", "underscore", "vertical_line",
    "left_parenthesis", "right_parenthesis", "less_than_sign", "greater_than_sign",
    "up", "down", "pageup", "pagedown", "end", "insert", "delete",
    *(f"f{i}" for i in range(1, 13)), "ctrl+x", "ctrl+a", "ctrl+e", "ctrl+z", "shift+left",
    "shift+right", "ctrl+right", "alt+n",
]


def key_event(key: str) -> events.Key:
    """The Key event for a key name, with the character Pilot.press gives it."""
    original = REPLACED_KEYS.get(key, key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


def bound_keys() -> dict[str, str]:
    """key -> action for every key of RnnApp.BINDINGS (aliases split)."""
    out = {}
    for binding in RnnApp.BINDINGS:
        for key in binding.key.split(","):  # type: ignore[union-attr]
            out[key.strip()] = binding.action  # type: ignore[union-attr]
    return out


def unbound_keys(app: RnnApp) -> list[str]:
    """CANDIDATES that no active binding (app, screen, Textual's own) takes."""
    active = set(app.active_bindings) | set(bound_keys())
    free = [k for k in CANDIDATES if not set(_get_key_aliases(k)) & active]
    assert len(free) >= 20, free
    return free


def hello() -> ModelSpec:
    return load("hello")[0]


def random_model() -> ModelSpec:
    return random_spec(K=7, D=3, H=4, T=15, seed=11)


MODELS = {"hello": hello, "random": random_model}


def random_size(rng: random.Random) -> tuple[int, int]:
    return rng.randint(MIN_SIZE[0], MAX_SIZE[0]), rng.randint(MIN_SIZE[1], MAX_SIZE[1])


def queue_resize(app: RnnApp, width: int, height: int) -> None:
    """A resize queued behind the keys, as a terminal being dragged sends
    them (Pilot.resize_terminal does the same, then waits for idle)."""
    size = Size(width, height)
    app._driver._size = size  # type: ignore[union-attr]  # the headless driver's terminal
    app.post_message(events.Resize(size, size))


async def storm(pilot: Pilot, rng: random.Random, keys: list[str], n: int,
                sent: list[str], rare: Sequence[str] = (), p_rare: float = 0.002,
                after: Callable[[], Awaitable[None]] | None = None) -> int:
    """Post n random keys in bursts of 1..400 with resizes queued among them
    (about one in 40 events); after each burst, a resize that waits for
    idle, a plain wait for idle (then ``after``), or nothing (the queue
    keeps growing). ``rare`` keys come with probability ``p_rare``.
    Returns the number of resizes."""
    app = pilot.app
    resizes = 0
    while len(sent) < n:
        for _ in range(min(rng.randint(1, 400), n - len(sent))):
            if rng.random() < 0.025:
                queue_resize(app, *random_size(rng))
                resizes += 1
            key = rng.choice(rare if rare and rng.random() < p_rare else keys)
            app.post_message(key_event(key))
            sent.append(key)
        roll = rng.random()
        if roll < 0.75:
            if roll < 0.5:
                await pilot.resize_terminal(*random_size(rng))
                resizes += 1
            else:
                await pilot.pause()
            if after is not None:
                await after()
        assert app.is_running, f"the app stopped after {len(sent)} keys"
    return resizes


def status_text(app: RnnApp) -> str:
    rendered = app.query_one(StatusBar).render()
    return "\n".join(t.plain for t in rendered.renderables)  # type: ignore[attr-defined]


def assert_same_state(app: RnnApp, replay: Stepper) -> None:
    """Same position, mode and numbers, bit for bit, and the same history."""
    mine = app.stepper
    assert mine.position == replay.position
    assert mine.mode == replay.mode
    a, b = mine.view(), replay.view()
    for name in UPDATE_ORDER:
        assert np.array_equal(a.params.get(name), b.params.get(name), equal_nan=True), name
    for name in ("x", "h", "omega", "y_hat", "loss"):
        assert np.array_equal(getattr(a.fwd, name), getattr(b.fwd, name), equal_nan=True), name
    assert np.array_equal(mine.checkpoints.losses, replay.checkpoints.losses, equal_nan=True)


@pytest.mark.parametrize("model", MODELS)
async def test_stepping_storm_matches_a_replay(model: str) -> None:
    rng = random.Random(f"{SEED}-stepping-{model}")
    spec = MODELS[model]()
    app = make_app(spec)
    bindings = bound_keys()
    stepping = [k for k, action in bindings.items() if action in STEPPING]
    resets = [k for k, action in bindings.items() if action == "reset"]
    neutral = [k for k, action in bindings.items() if action in NEUTRAL]
    assert len(stepping) >= 11 and resets, stepping  # every alias of the six actions
    moving = [k for k in stepping if k not in resets]
    sent: list[str] = []
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # About 2 keys in 3 step; a reset (which undoes the walk) is rare.
        keys = moving * 10 + neutral + unbound_keys(app)
        resizes = await storm(pilot, rng, keys, STORM_KEYS, sent, rare=resets)
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        await pilot.pause()
        storm_time = time.perf_counter() - started

        replay = Stepper(spec)
        moves = [bindings[k] for k in sent if bindings.get(k) in STEPPING]
        furthest = 1
        for action in moves:
            STEPPING[action](replay)
            furthest = max(furthest, replay.position.epoch)
        assert_same_state(app, replay)
        assert furthest > 3  # the storm went somewhere
        # What is on screen is that step: every panel shows the final view.
        for panel in app.query(Panel):
            assert panel.view is not None and panel.view.pos == replay.position, panel
        status = status_text(app)
        assert f"epoch {replay.position.epoch}" in status
        assert replay.layout.label(replay.position) in status
        # Still responsive: one more key moves it one more step.
        await pilot.press("n")
        replay.next()
        assert_same_state(app, replay)
    print(f"\nstepping storm [{model}]: {len(sent)} keys ({len(moves)} stepping), "
          f"{resizes} resizes, {storm_time:.1f} s, reached epoch {furthest}")


# Cheap keys for the full storm; every other binding (a screen opens, the
# whole app restyles: a full repaint, 0.2-0.5 s each here, or an action
# added later) comes one key in 200.
FAST = {*STEPPING, *NEUTRAL, "speed(1)", "speed(-1)", "play", "until_correct",
        "until_nonfinite", "toggle_mode", "next_difference", "sync"}


def full_key_sets(app: RnnApp) -> tuple[list[str], list[str]]:
    """(frequent keys, rare keys): every binding but the ones that quit,
    keys that land in prompts, and unbound keys."""
    bindings = {k: a for k, a in bound_keys().items() if a not in ENDS_THE_APP}
    assert {"g", "l", "c", "f", "m", "r", "question_mark", "escape"} <= set(bindings)
    fast = [k for k, a in bindings.items() if a in FAST]
    slow = [k for k, a in bindings.items() if a not in FAST]
    typing = [*"0123456789", "full_stop", "minus", "enter", "backspace", "escape", "tab"]
    return fast * 2 + typing * 2 + unbound_keys(app), slow


def job_running(app: RnnApp) -> bool:
    return any(w.group == "long" and not w.is_finished for w in app.workers)


async def until_idle(pilot: Pilot, seconds: float = 5.0) -> None:
    """A cancelled job's worker ends at once; its thread at the stepper's
    next check: wait (a few ms, seconds on a loaded machine) for that."""
    for _ in range(int(seconds / 0.05)):
        if not pilot.app.busy:  # type: ignore[attr-defined]
            return
        await pilot.pause(0.05)


async def calm_down(pilot: Pilot) -> None:
    """Close every screen, stop playing and cancel jobs, the way a user
    would: escape until the main screen is back, then escape once more."""
    app = pilot.app

    async def close_screens() -> None:
        for _ in range(30):
            if len(app.screen_stack) == 1:
                return
            await pilot.press("escape")
            await pilot.pause()
        assert len(app.screen_stack) == 1, app.screen_stack

    await close_screens()
    await pilot.press("escape")  # stops playing, cancels a long job
    await app.workers.wait_for_complete()
    await until_idle(pilot)
    await close_screens()  # a job that ended just now may have opened a report
    if app.quiz.on:
        await pilot.press("k")  # quiz mode asks before stepping: turn it off
        await pilot.pause()


@pytest.mark.parametrize("model", MODELS)
async def test_full_storm_keeps_the_app_alive(model: str) -> None:
    rng = random.Random(f"{SEED}-full-{model}")
    app = make_app(MODELS[model]())
    sent: list[str] = []
    stuck = 0

    async def unstick() -> None:
        """Count (and undo) the bug the storm once found (see the next test):
        busy with no job that will ever end, every stepping key ignored."""
        nonlocal stuck
        if app.busy and not job_running(app):
            await until_idle(pilot)
            if app.busy:
                stuck += 1
                app.job = None

    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        keys, slow = full_key_sets(app)
        resizes = await storm(pilot, rng, keys, STORM_KEYS, sent, rare=slow, p_rare=0.005,
                              after=unstick)
        storm_time = time.perf_counter() - started
        await pilot.resize_terminal(160, 50)
        await calm_down(pilot)
        await unstick()
        assert app.is_running and app.return_code is None
        assert not app.busy and not job_running(app)
        # Nothing moves on its own any more (not playing, no job running) ...
        before = app.stepper.position
        await pilot.pause(0.3)
        assert app.stepper.position == before
        # ... and one key press moves exactly one step.
        expected = Stepper(app.stepper.spec, app.stepper.mode)
        expected.goto(before)
        expected.next()
        await pilot.press("n")
        await pilot.pause()
        assert app.stepper.position == expected.position
        assert app.query_one(StatusBar).view.pos == expected.position  # type: ignore[union-attr]
    counts = {k: sent.count(k) for k in ("g", "l", "c", "f", "m", "r", "escape", "enter")}
    print(f"\nfull storm [{model}]: {len(sent)} keys, {resizes} resizes, {storm_time:.1f} s, "
          f"busy stuck {stuck} times; {counts}")
    assert stuck == 0, f"the app was left busy with no job {stuck} times"


@pytest.mark.parametrize("key", ["c", "m"])
async def test_a_job_cancelled_in_the_same_burst_does_not_leave_the_app_busy(key: str) -> None:
    """A job key and escape arriving together (typed fast, pasted, a slow
    link): the job is cancelled before it starts, and the app must still
    step afterwards."""
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.pause()
        app.post_message(key_event(key))
        app.post_message(key_event("escape"))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("n")
        assert not app.busy
        assert app.stepper.position.index == 1


async def test_escape_keeps_the_app_busy_until_the_job_has_really_stopped() -> None:
    """The job's thread is held inside the stepper (at epoch 40 of a go to
    epoch 1000) while escape is pressed: until it has stopped, the app must
    not take stepping keys, and afterwards the position is unchanged."""
    app = make_app()
    reached, gate = threading.Event(), threading.Event()
    async with app.run_test() as pilot:
        await pilot.pause()
        record = app.stepper.checkpoints.record

        def held_record(epoch: Epoch) -> None:
            record(epoch)
            if epoch.number == 40 and threading.current_thread() is not threading.main_thread():
                reached.set()
                gate.wait(10)

        app.stepper.checkpoints.record = held_record  # type: ignore[method-assign]
        await pilot.press("g", *"1000", "enter")
        try:
            assert await asyncio.to_thread(reached.wait, 10), "the job did not start"
            await pilot.press("escape")
            await pilot.pause()
            assert app.busy, "the job's thread is still running, but the app is not busy"
            await pilot.press("n")  # ignored: a job is running
        finally:
            gate.set()
        for _ in range(100):  # the thread stops at its next check (epoch 48)
            await pilot.pause(0.05)
            if not app.busy:
                break
        assert not app.busy
        assert app.stepper.position == Position(epoch=1, phase=Phase.FORWARD, index=0)
        await pilot.press("n")
        assert app.stepper.position.index == 1
