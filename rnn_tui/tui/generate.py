"""Generation in the debugger (issue 16): what the model writes right now.

The generation panel (widgets/generation.py) takes the formula panel's
place while it is on (key ``v``); it is rebuilt from the parameters of every
step, so a student watches "hello" emerge as they step and jump epochs.
``.`` and ``,`` move through the generated characters one at a time; ``a``
sets the prime, the temperature and the seed. The numbers are
:func:`rnn_tui.core.sample.records`, the walk ``rnn-tui sample`` takes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rnn_tui.core.maths import Params
from rnn_tui.core.sample import Generation, records
from rnn_tui.core.text import char

if TYPE_CHECKING:
    from rnn_tui.core.model_file import ModelSpec
    from rnn_tui.tui.debugger import Debugger

MAX_LENGTH = 64


class GenerationMode:
    """The generation panel's settings and the one walk it shows (cached per
    parameters: the same step's repaints do not walk again)."""

    def __init__(self, app: Debugger) -> None:
        self.app = app
        self.on = False
        self.prime_text: str | None = None  # None: the model text's first character
        self.temperature = 1.0
        self.seed = 0
        self.cursor = 0  # the generated character the step-through is at (0-based)
        self._cache: tuple[object, ...] | None = None
        self._walks: tuple[Generation, Generation] | None = None
        self._params: Params | None = None
        self._asked: set[tuple[int, int]] = set()  # (walk, character) the quiz asked

    def prime(self, spec: ModelSpec) -> str:
        text = self.prime_text
        if text is None or any(c not in spec.alphabet for c in text):
            return spec.text[0]
        return text

    @staticmethod
    def length(spec: ModelSpec) -> int:
        """Characters generated: the text's length, at least 16, at most 64."""
        return min(max(spec.T, 16), MAX_LENGTH)

    def walks(self, spec: ModelSpec, p: Params) -> tuple[Generation, Generation]:
        """(greedy, at the temperature) from the prime, with these parameters."""
        prime = [spec.alphabet.index(c) for c in self.prime(spec)]
        key = (id(spec), tuple(prime), self.temperature, self.seed)
        if self._walks is None or self._cache != key or self._params is not p:
            n = self.length(spec)
            greedy = records(p, prime, n)
            drawn = greedy if self.temperature == 0 else records(p, prime, n, self.temperature,
                                                                 self.seed)
            self._cache, self._params, self._walks = key, p, (greedy, drawn)
        return self._walks

    # ------------------------------------------------------------- keys

    def toggle(self) -> None:
        self.on = not self.on
        self.app.screen.set_class(self.on, "-generate")
        self.repaint()

    def step(self, delta: int) -> None:
        """The next (previous) generated character; turns the panel on."""
        if not self.on:
            self.toggle()
            return
        n = self.length(self.app.stepper.spec)
        cursor = max(0, min(n - 1, self.cursor + delta))
        if delta > 0 and cursor != self.cursor and self.app.quiz.on and self._ask(cursor):
            return
        self.cursor = cursor
        self.repaint()

    def current(self) -> tuple[Generation, int, int] | None:
        """(the walk at τ, the character the step-through is at, the prime's
        length), or None when the panel is off or nothing was generated."""
        if not self.on:
            return None
        spec = self.app.stepper.spec
        _, drawn = self.walks(spec, self.app.stepper.view().params)
        if not drawn.steps:
            return None
        return drawn, min(self.cursor, len(drawn.steps) - 1), len(self.prime(spec))

    def _ask(self, cursor: int) -> bool:
        """Quiz mode: ask about character ``cursor`` before showing it (once
        per walk and character); True if a question is up."""
        from rnn_tui.core.quiz import generation_question
        from rnn_tui.tui.screens.quiz import QuizScreen

        here = self.current()
        if here is None or cursor >= len(here[0].steps):
            return False
        drawn, _, primed = here
        key = (id(self._walks), cursor)
        if key in self._asked:
            return False
        self._asked.add(key)
        quiz = self.app.quiz
        question = generation_question(drawn, cursor, self.app.stepper.spec.alphabet, primed)

        def answered(result: bool | None) -> None:
            if result is not None:
                quiz.asked += 1
                quiz.right += int(result)
            self.app.show_activity(quiz.label())
            self.cursor = cursor
            self.repaint()

        self.app.push_screen(QuizScreen(question, quiz.score), answered)
        return True

    def ask(self) -> None:
        """Prompt for ``prime | τ | seed`` (parts left out keep their value)."""
        from rnn_tui.tui.screens.prompt import PromptScreen

        spec = self.app.stepper.spec
        now = f"{self.prime(spec)} | {self.temperature:g} | {self.seed}"

        def done(text: str | None) -> None:
            if text is not None:
                self.prime_text, self.temperature, self.seed = parse(text, spec, self)
                if not self.on:
                    self.toggle()
                else:
                    self.repaint()

        self.app.push_screen(PromptScreen(
            "Generate from: prime | temperature τ (0: greedy) | seed", now,
            lambda text: check(text, spec)), done)

    def forget(self) -> None:
        """A new model: back to its first character."""
        self.prime_text, self.cursor, self._walks = None, 0, None

    def repaint(self) -> None:
        from rnn_tui.tui.widgets.generation import GenerationPanel

        self.app.size_rows()
        self.app.query_one(GenerationPanel).show(self.app.stepper.view())


def split(text: str) -> tuple[str, str | None, str | None]:
    """``prime | τ | seed`` from the right, so the prime may hold a ``|``."""
    parts = [s.strip() for s in text.rsplit("|", 2)] if "|" in text else [text]
    if len(parts) == 2:
        return text.rsplit("|", 1)[0].strip(" "), parts[1], None
    if len(parts) == 3:
        return text.rsplit("|", 2)[0].strip(" "), parts[1], parts[2]
    return text.strip(" "), None, None


def check(text: str, spec: ModelSpec) -> str | None:
    prime, tau, seed = split(text)
    if not prime:
        return "The prime needs at least one character."
    for pos, c in enumerate(prime, start=1):
        if c not in spec.alphabet:
            return f"Character {char(c)!r} at {pos} is not in the vocabulary."
    if tau is not None and tau:
        try:
            x = float(tau)
        except ValueError:
            return f"τ: type a number >= 0, got {tau!r}."
        if not (math.isfinite(x) and x >= 0):
            return f"τ must be a finite number >= 0, got {tau}."
    if seed is not None and seed and not (seed.isdigit() and int(seed) < 2**63):
        return f"The seed is a whole number from 0 to {2**63 - 1}, got {seed!r}."
    return None


def parse(text: str, spec: ModelSpec, now: GenerationMode) -> tuple[str, float, int]:
    """(prime, τ, seed) of text that :func:`check` accepted."""
    prime, tau, seed = split(text)
    return (prime, float(tau) if tau else now.temperature, int(seed) if seed else now.seed)
