"""The active comparison: someone else's numbers against ours, on screen.

Two sources are compared with what the debugger computes, by one mechanism
(a :class:`~rnn_tui.core.compare.Report`): a student's trace
(``rnn-tui MODEL --compare THEIRS.json``, :class:`Trace`) and, for the
handout's model, the handout's printed numbers (:class:`Handout`, from
:mod:`rnn_tui.core.conformance`). The active one is the student's file
while the model is the one it was read for, else the handout's for the
handout's model, else none.

Everything the screen shows of it comes from :class:`ActiveComparison`:
the marks on the panels' cells (widgets/marks.py), the strip
(widgets/handout.py), the count in the status bar, and ``j``, the jump to
the next difference (a long job: it may compute epochs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rnn_tui.core import conformance
from rnn_tui.core.compare import Comparison, Report, compare_theirs
from rnn_tui.core.diagnosis import diagnose
from rnn_tui.core.maths import EmbeddingRows
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.stepper import Position, Stepper
from rnn_tui.core.text import printable
from rnn_tui.core.theirs import load as load_theirs
from rnn_tui.tui.jobs import goto
from rnn_tui.tui.widgets.handout import ComparedHere
from rnn_tui.tui.widgets.marks import NO_MARKS, Marks
from rnn_tui.tui.widgets.status import Count

if TYPE_CHECKING:
    from rnn_tui.core.theirs import Theirs
    from rnn_tui.tui.app import RnnApp


class Source:
    """Numbers to compare with ours; reports are kept per mode (the exact
    and the handout's dE give different values of ours)."""

    kind = ""  # the status bar's name: "handout", "compare"
    title = ""  # the strip's: "handout", "compare theirs.json"
    theirs = ""  # their number's name: "printed", "theirs"

    def __init__(self) -> None:
        self._reports: dict[EmbeddingRows, Report] = {}

    def cached(self, stepper: Stepper) -> Report | None:
        return self._reports.get(stepper.mode)

    def report(self, stepper: Stepper) -> Report:
        if stepper.mode not in self._reports:
            self._reports[stepper.mode] = self.make_report(stepper)
        return self._reports[stepper.mode]

    def make_report(self, stepper: Stepper) -> Report:
        raise NotImplementedError

    def reason(self, stepper: Stepper, c: Comparison) -> str:
        """Why theirs differs here, as far as it is known."""
        raise NotImplementedError


class Handout(Source):
    """The handout's printed numbers, for the handout's model."""

    kind = title = "handout"
    theirs = "printed"

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def make_report(self, stepper: Stepper) -> Report:
        # A stepper of its own: the figures reach epoch 100, and the app's
        # stepper may belong to a long job's thread (and keeps its caches).
        return conformance.report(Stepper(self.spec, stepper.mode))

    def reason(self, stepper: Stepper, c: Comparison) -> str:
        return conformance.reason(stepper, conformance.figures_by_label()[c.quantity], c.entry)


class Trace(Source):
    """A student's trace (the schema of ``rnn-tui trace --format json``)."""

    kind = "compare"
    theirs = "theirs"

    def __init__(self, spec: ModelSpec, theirs: Theirs, path: Path, tol: float) -> None:
        super().__init__()
        self.spec, self.their_trace, self.tol = spec, theirs, tol
        self.title = f"compare {printable(path.name)}"
        self._diagnoses: dict[EmbeddingRows, str] = {}

    @classmethod
    def open(cls, spec: ModelSpec, path: Path, tol: float, mode: EmbeddingRows) -> Trace:
        """Read and compare the file now, before the app opens: InputError
        (one line) when it cannot be compared."""
        trace = cls(spec, load_theirs(path, spec), path, tol)
        trace._reports[mode] = compare_theirs(spec, trace.their_trace, tol, mode)
        return trace

    def make_report(self, stepper: Stepper) -> Report:
        return compare_theirs(self.spec, self.their_trace, self.tol, stepper.mode)

    def reason(self, stepper: Stepper, c: Comparison) -> str:
        if stepper.mode not in self._diagnoses:
            found = diagnose(self.report(stepper), self.spec.learning_rate)
            self._diagnoses[stepper.mode] = (
                f"diagnosis: {found.text}" if found else
                "diagnosis: no known pattern; start from the first difference")
        return self._diagnoses[stepper.mode]


class ActiveComparison:
    """The app's comparison: which source applies, and what it shows."""

    def __init__(self, app: RnnApp, trace: Trace | None = None) -> None:
        self.app = app
        self.trace = trace
        self._handout: Handout | None = None
        self._not_handout: ModelSpec | None = None

    def source(self) -> Source | None:
        spec = self.app.stepper.spec
        if self.trace is not None and self.trace.spec is spec:
            return self.trace
        if self._handout is not None and self._handout.spec is spec:
            return self._handout
        if self._not_handout is spec:
            return None
        if conformance.is_handout_model(spec):
            self._handout = Handout(spec)
            return self._handout
        self._not_handout = spec
        return None

    def report(self) -> Report | None:
        """The active report; while a long job runs (it may be switching the
        mode), only one already made: the job's thread owns the stepper."""
        src, stepper = self.source(), self.app.stepper
        if src is None:
            return None
        return src.cached(stepper) if self.app.busy else src.report(stepper)

    def prepare(self) -> None:
        """Make the report of the stepper's mode (in a long job's thread,
        after switching the mode)."""
        src = self.source()
        if src is not None:
            src.report(self.app.stepper)

    # ----------------------------------------------------------- shown

    def marks(self, pos: Position) -> Marks:
        report = self.report()
        return NO_MARKS if report is None else Marks(report.blocks_at(pos))

    def here(self, pos: Position) -> ComparedHere | None:
        """What the strip shows at a step (None: nothing compared there)."""
        src, report = self.source(), self.report()
        if src is None or report is None or not report.blocks_at(pos):
            return None
        blocks = report.blocks_at(pos)
        differ = [c for b in blocks if b.differ for c in b.differences(8)]
        reason = src.reason(self.app.stepper, differ[0]) if differ else ""
        return ComparedHere(src.title, src.theirs, sum(b.size for b in blocks),
                            sum(b.differ for b in blocks), differ, reason)

    def status(self, pos: Position) -> Count:
        """The status bar's count, long and short: ``compare: 3 differ here ·
        325 in all``, ``≠ 3/325``; empty without a comparison."""
        src, report = self.source(), self.report()
        if src is None or report is None:
            return Count()
        if report.all_agree:
            return Count(f"{src.kind}: all {report.compared} agree", "≠ 0")
        here = sum(b.differ for b in report.blocks_at(pos))
        verb = "differs" if here == 1 else "differ"
        return Count(f"{src.kind}: {here} {verb} here · {report.differ} in all",
                     f"≠ {here}/{report.differ}", here > 0)

    # ------------------------------------------------------------ j

    def jump(self) -> None:
        """Go to the next step where a value differs (j)."""
        app, src, report = self.app, self.source(), self.report()
        if src is None or report is None:
            app.notify("Nothing to compare with: the handout's model has its printed numbers; "
                       "another model needs --compare THEIRS.json.", timeout=4)
        elif report.all_agree:
            app.notify(f"No difference: all {report.compared} values agree ({src.title}).",
                       timeout=4)
        elif (pos := report.next_difference(app.stepper.position)) is None:
            app.notify(f"No more differences ({src.title}) after this step.", timeout=3)
        else:
            app.start_job("next difference", goto(app.stepper, pos))
