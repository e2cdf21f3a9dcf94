"""Named screens of the app, shared by the snapshot tests and by
``python screenshots/make.py`` (so screenshots/ shows what the tests pin).

Each scenario builds a fresh app and drives it with real key presses;
long jobs are awaited so the picture is deterministic.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from textual.pilot import Pilot

from rnn_tui.core.follow import Presenter
from rnn_tui.core.model_file import ModelSpec, builtin_dir, load, validate
from rnn_tui.core.stepper import Phase, Position
from rnn_tui.tui.app import RnnApp
from rnn_tui.tui.comparison import Trace

from helpers.models import random_spec
from helpers.students import student_trace

WIDE = (160, 50)
NARROW = (80, 24)


def overflow_model() -> ModelSpec:
    """The hello model with eta = 1e308: the update of V overflows in epoch 2."""
    doc = load("hello")[0].model_dump()
    doc["name"] = "hello-overflow"
    doc["learning_rate"] = 1e308
    return validate(doc, "hello-overflow")


DIVERGED = ("new", "--text", "hello", "--lr", "1e308", "--seed", "0")


def diverged_model() -> ModelSpec:
    """What ``rnn-tui new --text hello --lr 1e308 --seed 0 -o diverged.toml``
    writes (the README's screenshot, a model a user can make): epoch 2's
    loss overflows, epoch 3's is NaN."""
    from rnn_tui.cli import main

    path = Path(tempfile.mkdtemp(prefix="rnn-tui-diverged-")) / "diverged.toml"
    assert main([*DIVERGED, "-o", str(path)]) == 0
    return load(str(path))[0]


def student_model() -> ModelSpec:
    """A model for students' traces: H >= 3 and K >= 6 (H = 1 hides transposes)."""
    return random_spec(K=6, D=2, H=3, T=8, seed=7)


def student_file(spec: ModelSpec, bug: str | None, folder: Path | None = None) -> Path:
    """A student's trace of ``spec`` with one classic bug (None: correct),
    as ``--compare`` reads it: BUG.json (or correct.json)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="rnn-tui-student-"))
    path = folder / f"{bug or 'correct'}.json"
    path.write_text(json.dumps(student_trace(spec, bug=bug)))
    return path


def adam_model() -> ModelSpec:
    """A [train] table (issue 16): Adam, clip_norm and chunks of 6 steps."""
    base = random_spec(K=6, D=3, H=4, T=20, seed=161, lr=0.1)
    return validate({**base.model_dump(), "train": {"optimizer": "adam", "clip_norm": 0.5,
                                                    "seq_length": 6}}, "adam")


def diverging_model() -> ModelSpec:
    """A 300-character text, 32 hidden units, at the old default learning
    rate 0.1: finite, but its loss grows 18x in 5 epochs."""
    text = ("the quick brown fox jumps over the lazy dog and " * 7)[:300]
    return validate({"name": "diverging", "text": text, "embedding_dim": 2, "hidden_size": 32,
                     "learning_rate": 0.1, "init": {"seed": 0}}, "diverging")


def make_app(model: str | ModelSpec = "hello", mode: str | None = None,
             theme: str = "dark", follow_room: Path | None = None,
             compare: Path | None = None, tol: float = 1e-6) -> RnnApp:
    """The app as a test drives it: no cursor blink, a fixed theme (the
    default theme depends on TERM and NO_COLOR, which differ between hosts);
    ``compare``: a student's trace, as ``--compare`` gives it."""
    spec = load(model)[0] if isinstance(model, str) else model
    trace = None
    if compare is not None:
        trace = Trace.open(spec, compare, tol, mode or spec.bptt.embedding_rows)  # type: ignore[arg-type]
    app = RnnApp(spec, mode, cursor_blink=False, theme=theme,  # type: ignore[arg-type]
                 follow_room=follow_room, compare=trace)
    app.toast_time_scale = 1000.0  # a slow machine must not change what a snapshot shows
    return app


async def settle(pilot: Pilot) -> None:
    """Wait for background jobs and the repaint they cause."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def go_to(pilot: Pilot, position: Position) -> None:
    """Jump the app's stepper to *position* and wait for the repaint."""
    pilot.app.stepper.goto(position)  # type: ignore[attr-defined]
    pilot.app.moved()  # type: ignore[attr-defined]
    await settle(pilot)


async def walk_plan(pilot: Pilot, plan: Sequence[str | tuple[int, int]]) -> AsyncIterator[str]:
    """Press each key of *plan* (a (width, height) resizes the terminal),
    settle, and yield a label of the step for the caller's checks."""
    await settle(pilot)
    for i, step in enumerate(plan):
        if isinstance(step, tuple):
            await pilot.resize_terminal(*step)
        else:
            await pilot.press(step)
        await settle(pilot)
        yield f"step {i + 1} ({step})"


def keys(*presses: str) -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        await pilot.pause()
        for key in presses:
            await pilot.press(key)
            if key in ("enter", "m", "c", "f", "l", "j"):
                await settle(pilot)
        await settle(pilot)

    return run


def follow_keys() -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        for _ in range(100):  # the follower polls the room file
            await pilot.pause(0.05)
            if pilot.app.stepper.position.phase is Phase.BPTT:  # type: ignore[attr-defined]
                break
        await settle(pilot)

    return run


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    run: Callable[[Pilot], Awaitable[None]]
    size: tuple[int, int] = WIDE
    model: Callable[[], str | ModelSpec] = field(default=lambda: "hello")
    mode: str | None = None
    theme: str = "dark"

    follows: bool = False
    student_bug: str | None = None  # --compare a student's trace with this bug

    def app(self) -> RnnApp:
        room = None
        if self.follows:  # a lecturer at BPTT t=3 k=2 in a fresh room
            room = Path(tempfile.mkdtemp(prefix="rnn-tui-room-"))
            lecturer = Presenter(room, builtin_dir() / "hello.toml")
            lecturer.publish("x_k", Position(epoch=1, phase=Phase.BPTT, index=4))
        spec = self.model()
        compare = None
        if self.student_bug is not None:
            assert not isinstance(spec, str)
            compare = student_file(spec, self.student_bug)
        return make_app(spec, self.mode, self.theme, follow_room=room, compare=compare)


NEXT_PHASE = "right_square_bracket"

SCENARIOS = [
    Scenario("start", "the first step of the handout: forward t=1", keys()),
    Scenario("mid_forward", "forward t=3: h_3, Ω_3, ŷ_3 and L_3", keys("n", "n")),
    Scenario("delta", "the output gradient δ_2 and its share of dV, dc",
             keys(NEXT_PHASE, "n")),
    Scenario("bptt_term", "BPTT term (t=4, k=2): the factor chain and its contributions",
             keys(NEXT_PHASE, NEXT_PHASE, *["n"] * 8)),
    Scenario("update", "the update of W, third of six", keys(*[NEXT_PHASE] * 3, "n", "n")),
    Scenario("epoch_2", "epoch 2 after its forward pass, with the loss curve",
             keys("e", "n", "n", "n")),
    Scenario("help", "the help screen, built from the live bindings", keys("question_mark")),
    Scenario("handout_mode", "the handout's dE convention, BPTT term (t=3, k=1)",
             keys(NEXT_PHASE, NEXT_PHASE, *["n"] * 5), mode="x_t"),
    Scenario("diverged", "rnn-tui new --text hello --lr 1e308: the update overflows, NaN and "
             "inf shown plainly", keys("f"), model=diverged_model),
    Scenario("start_80x24", "the 80x24 layout", keys(), size=NARROW),
    Scenario("bptt_80x24", "a BPTT term at 80x24", keys(NEXT_PHASE, NEXT_PHASE, "n", "n", "n"),
             size=NARROW),
    Scenario("update_80x24", "an update at 80x24", keys(*[NEXT_PHASE] * 3, *["n"] * 5),
             size=NARROW),
    Scenario("too_small", "below 80x24 the app says so", keys(), size=(60, 15)),
    Scenario("projector", "the high-contrast projector theme", keys(NEXT_PHASE, NEXT_PHASE, "n"),
             theme="projector"),
    Scenario("light", "the light theme", keys("n"), theme="light"),
    Scenario("mono", "monochrome: bold, underline and reverse only (NO_COLOR, 8 colours)",
             keys(NEXT_PHASE, "n"), size=NARROW, theme="mono"),
    Scenario("why", "the why view: dW[1,1] drilled down to the BPTT terms that make it up",
             keys(*[NEXT_PHASE] * 3, "w", "down", "down", "enter", "down", "enter")),
    Scenario("gradcheck", "the gradient check in handout mode: dE is not the gradient",
             keys("d"), mode="x_t"),
    Scenario("quiz", "quiz mode: predict h_3[1], then see why before the step is revealed",
             keys("k", "n", "h", "enter", "enter", "n", *"-0.0462", "enter")),
    Scenario("conformance", "handout marks: h_2 as printed (0.0537) against ours (0.0538)",
             keys("j"), mode="x_t"),
    Scenario("compare", "--compare: a student's trace without the tanh derivative, marked "
             "at BPTT term (t=2, k=1), the third step j finds", keys("j", "j", "j"),
             model=student_model, student_bug="no_dtanh"),
    Scenario("following", "a student following the lecturer (rnn-tui follow)",
             follow_keys(), size=(120, 34), follows=True),
    Scenario("strip_80x24", "80x24: the handout's reason for a difference, wrapped in the strip",
             keys("j"), mode="x_t", size=NARROW),
    Scenario("loss_chart", "epoch 30: the loss chart with its axes and minimum",
             keys("g", "3", "0", "enter", "n")),
    Scenario("diverging", "a finite run that diverges: the header says so, the chart in log scale",
             keys("g", "8", "enter"), model=diverging_model),
    Scenario("presenter", "presenter mode: the network, the formula, the result in large type",
             keys("z", NEXT_PHASE, NEXT_PHASE, "n", "n"), size=(120, 34), theme="projector"),
    Scenario("adam_update", "Adam with clip_norm, chunk 1: the update of c with its clipping, "
             "m, v, m̂, v̂ and the step", keys(*[NEXT_PHASE] * 3, "n"), model=adam_model),
    Scenario("generate", "epoch 40: what the model writes (v), the third drawn character's "
             "h, Ω, Ω/τ, ŷ by character and the draw (. . .)",
             keys("g", "4", "0", "enter", "v", "full_stop", "full_stop")),
    Scenario("generate_80x24", "generation at 80x24 from the prime 'he' at τ = 0.5 (a)",
             keys("g", "4", "0", "enter", "a", *"he | 0.5", "enter", "full_stop"),
             size=NARROW),
]

BY_NAME = {s.name: s for s in SCENARIOS}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
