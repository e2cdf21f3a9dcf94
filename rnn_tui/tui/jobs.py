"""Long jobs (go to epoch N, run until..., switch mode, gradient check):
what they do, and how their thread reports back.

The app runs a job in a Textual thread worker (``RnnApp.run_job``, one at
a time) that passes ``get_current_worker().is_cancelled`` to the stepper as
its cancel check; esc cancels the worker. Progress and the result come back
as messages (``post_message`` is thread-safe and never waits for the event
loop, so a job can always finish).

One detail needs a handshake (``Job.begin``/``Job.drop``): Textual marks a
cancelled thread worker CANCELLED at once, while its thread runs on to the
stepper's next check, and a worker cancelled before its thread started
reports nothing at all. The app takes no stepping keys and starts no other
job (both would touch the same Stepper) until the thread has really ended
(``JobDone``) or never will (``drop``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.message import Message
from textual.worker import Worker, get_current_worker

from rnn_tui.core.maths import EmbeddingRows
from rnn_tui.core.stepper import Cancelled, Position, Stepper

if TYPE_CHECKING:
    from rnn_tui.tui.comparison import ActiveComparison
    from rnn_tui.tui.play import Player
    from rnn_tui.tui.quiz import QuizMode

CANCELLED = "Cancelled; the position is unchanged."

# What a job returns: a line to show, something to do on the event loop
# (open a report), or nothing.
Result = str | Callable[[], object] | None
Work = Callable[..., Result]  # called with progress= and should_stop=


@dataclass(eq=False)
class Job:
    label: str
    work: Work
    worker: Worker[None] | None = None
    _started: bool = False
    _dropped: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self) -> bool:
        """In the job's thread: False if the app has given the job up."""
        with self._lock:
            self._started = not self._dropped
            return self._started

    def drop(self) -> bool:
        """In the app, after cancelling the worker: True if the thread had not
        started (and now never will), so no JobDone will come."""
        with self._lock:
            self._dropped = not self._started
            return self._dropped

    def run(self, app: App[int], should_stop: Callable[[], bool]) -> None:
        """The thread's side: run the work, post progress and the result."""
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last > 0.1:
                last = now
                app.post_message(JobProgress(self, f"⟳ {self.label}: {done}/{total} "
                                             "(esc cancels)"))

        error = False
        try:
            result = self.work(progress=progress, should_stop=should_stop)
        except (Cancelled, InterruptedError):  # the stepper's and gradcheck's "stopped"
            result = CANCELLED
        except Exception as err:  # shown, not raised: the app stays up
            result, error = f"Stopped: {err}", True
        try:
            app.post_message(JobDone(self, result, error))
        except RuntimeError:  # the event loop is closed: the app has ended
            pass


class JobProgress(Message):
    def __init__(self, job: Job, text: str) -> None:
        super().__init__()
        self.job, self.text = job, text


class JobDone(Message):
    def __init__(self, job: Job, result: Result, error: bool) -> None:
        super().__init__()
        self.job, self.result, self.error = job, result, error


# ------------------------------------------------------------ the jobs


def goto(stepper: Stepper, pos: Position) -> Work:
    def work(**kw: object) -> None:
        stepper.goto(pos, **kw)  # type: ignore[arg-type]

    return work


def goto_epoch(stepper: Stepper, n: int) -> Work:
    def work(**kw: object) -> None:
        stepper.goto_epoch(n, **kw)  # type: ignore[arg-type]

    return work


def until(stepper: Stepper, find: Callable[..., Position | None], what: str,
          limit: int) -> Work:
    """Run until ``find(stepper, max_epochs=limit, **kw)`` finds a position;
    say so either way (``what``: what was looked for)."""
    def work(**kw: object) -> str:
        found = find(stepper, max_epochs=limit, **kw)
        if found is None:
            return f"{what}: not found within {limit} epochs (--run-limit sets it)."
        return f"{what}: found at epoch {found.epoch}, {stepper.layout.label(found)}."

    return work


def switch_mode(stepper: Stepper, then: Callable[[], object] = lambda: None) -> Work:
    """Switch the dE convention, then ``then()`` (the comparison's report in
    the new mode) while still off the event loop."""
    mode: EmbeddingRows = "x_t" if stepper.mode == "x_k" else "x_k"

    def work(**kw: object) -> str:
        stepper.set_mode(mode)
        then()
        return "Mode: the handout's dE (term (t,k) into row x_t)" if mode == "x_t" else (
            "Mode: exact dE (term (t,k) into row x_k)")

    return work


def gradcheck(app: App[int], stepper: Stepper) -> Work:
    """This chunk's gradients against finite differences, shown in a report.
    With seq_length the current chunk is checked from its carried h_0 (a
    constant), as ``rnn-tui gradcheck`` does; without it the chunk is the
    whole text from h_0 = 0."""
    def work(should_stop: Callable[[], bool], **kw: object) -> Result:
        from rnn_tui.core import gradcheck
        from rnn_tui.tui.screens.report import ReportScreen

        ep, layout = stepper.current, stepper.layout
        results = gradcheck.check(ep.params, ep.fwd.inputs, ep.fwd.targets, stepper.mode,
                                  should_stop=should_stop, h0=ep.h0,
                                  grads=ep.grads)
        lines = partial(gradcheck.report, results, stepper.mode, stepper.spec.alphabet)
        where = ""
        if layout.chunks > 1:
            j = stepper.position.chunk
            where = (f", chunk {j + 1}/{layout.chunks} (text {layout.start(j) + 1}.."
                     f"{layout.start(j) + layout.size(j)}, its carried h_0)")
        title = (f"Gradient check, epoch {ep.number}{where}: central differences (eps 1e-5) "
                 "vs backward, up to 64 entries per parameter")
        return lambda: app.push_screen(ReportScreen(title, lines))

    return work


class LongJobs(App[int]):
    """The app's long jobs: their keys, and the one thread worker that runs
    them (both debuggers derive from this, through debugger.Debugger;
    Textual's workers and message handlers belong to a DOM node)."""

    if TYPE_CHECKING:
        stepper: Stepper
        player: Player
        quiz: QuizMode
        comparison: ActiveComparison
        run_limit: int

        def _guard(self) -> bool: ...
        def show_activity(self, text: str) -> None: ...
        def moved(self) -> None: ...

    job: Job | None = None  # the job whose thread has not ended

    @property
    def busy(self) -> bool:
        """A long job's thread is running: stepping keys wait."""
        return self.job is not None

    def action_goto_epoch(self) -> None:
        from rnn_tui.core.stepper import MAX_EPOCH
        from rnn_tui.tui.screens.prompt import PromptScreen, whole_number

        if self._guard():
            self.push_screen(PromptScreen("Go to epoch:", "e.g. 100", whole_number(1, MAX_EPOCH)),
                             lambda text: text is not None and self.start_job(
                                 f"epoch {int(text)}", goto_epoch(self.stepper, int(text))))

    def action_until_correct(self) -> None:
        if self._guard():
            self.run_until("until all right", "Every prediction right",
                           lambda st, **kw: st.run_until_correct(**kw))

    def run_until(self, label: str, what: str, find: Callable[..., Position | None]) -> None:
        """A job that runs until ``find`` finds a position (see ``until``)."""
        self.start_job(label, until(self.stepper, find, what, self.run_limit))

    def action_until_loss(self) -> None:
        from rnn_tui.tui.screens.prompt import PromptScreen, finite_number

        def go(text: str | None) -> None:
            if text is not None:
                x = float(text)
                self.run_until(f"until loss < {x}", f"Total loss below {x}",
                               lambda st, **kw: st.run_until_loss_below(x, **kw))

        if self._guard():
            self.push_screen(PromptScreen("Run until the total loss is below:", "e.g. 2.5",
                                          finite_number), go)

    def action_until_nonfinite(self) -> None:
        if self._guard():
            self.run_until("until not finite", "A value that is not finite",
                           lambda st, **kw: st.run_until_nonfinite(**kw))

    def action_toggle_mode(self) -> None:
        """The exact dE or the handout's (the row of x_t): later epochs change,
        recomputed in a thread."""
        if self._guard():
            self.start_job("switching mode", switch_mode(self.stepper, self.mode_switched))

    def mode_switched(self) -> None:
        """In the job's thread, after a mode switch (the RNN app's comparison
        prepares its report in the new mode)."""

    def action_gradcheck(self) -> None:
        if self._guard():
            self.start_job("gradient check", self.gradcheck_job())

    def gradcheck_job(self) -> Work:
        """The gradient check of the stepper's current chunk (the cells' is cells/jobs.py's)."""
        return gradcheck(self, self.stepper)

    def action_next_difference(self) -> None:
        if self._guard():
            self.comparison.jump()  # the active comparison's (tui/comparison.py)

    def start_job(self, label: str, work: Work) -> None:
        if self.job is not None:  # one at a time (a prompt answered as another started)
            return
        self.player.stop()
        self.job = Job(label, work)
        self.show_activity(f"⟳ {label}… (esc cancels)")
        self.job.worker = self.run_job(self.job)

    @work(thread=True, exclusive=True, group="long", exit_on_error=False)
    def run_job(self, job: Job) -> None:
        worker = get_current_worker()
        if job.begin():
            job.run(self, lambda: worker.is_cancelled)

    def action_cancel(self) -> None:
        self.player.stop()
        job = self.job
        if job is not None and job.worker is not None:
            job.worker.cancel()  # a running job stops at the stepper's next check
            if job.drop():  # its thread had not started: it never will
                self._job_ended(CANCELLED, False)

    def on_job_progress(self, message: JobProgress) -> None:
        if message.job is self.job:
            self.show_activity(message.text)

    def on_job_done(self, message: JobDone) -> None:
        if message.job is self.job:
            self._job_ended(message.result, message.error)

    def _job_ended(self, result: Result, error: bool) -> None:
        self.job = None
        self.show_activity(self.quiz.label())
        if callable(result):
            result()
        elif result:
            self.notify(result, severity="error" if error else "information",
                        timeout=6 if error else 4)
        self.moved()
