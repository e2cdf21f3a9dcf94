"""Predict, then reveal: the question a step answers, asked before it runs.

Before the debugger shows a forward step, an output gradient or an update,
quiz mode asks the student for one of its values (h_t, the predicted
character, δ_t at the target, an updated parameter), checks the answer at
the precision the screen shows (4 decimals), and explains the right one
with the step's own formula. Works for any model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnn_tui.core import why_train
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.sample import Generation
from rnn_tui.core.stepper import Phase
from rnn_tui.core.text import char, fmt
from rnn_tui.core.view import StepView
from rnn_tui.core.why import Explainer

HALF_UNIT = 0.5e-4  # what "equal at 4 decimals" allows


@dataclass(frozen=True)
class Question:
    prompt: str
    answer: float | str
    explanation: str

    def check(self, text: str) -> tuple[bool | None, str]:
        """(right?, what to tell the student); None when the text is not an
        answer at all (not a number), so the student is asked again."""
        given = text.strip()
        if isinstance(self.answer, str):
            guess = given.strip("'\"")
            guess = {"␣": " ", "space": " ", "↵": "\n"}.get(guess, guess)
            ok = guess == self.answer
            return ok, f"{'Right' if ok else 'Not quite'}: it predicts {char(self.answer)!r}."
        try:
            value = float(given)
        except ValueError:
            return None, f"{given!r} is not a number: try again (esc skips)."
        ok = math.isfinite(self.answer) and abs(value - self.answer) <= HALF_UNIT + 1e-9 * abs(
            self.answer)
        verdict = "Right" if ok else "Not quite"
        return ok, f"{verdict}: {fmt(self.answer)} (you said {given})."


def question_for(view: StepView) -> Question | None:
    """The question the step at ``view`` answers, or None (BPTT terms)."""
    if getattr(view, "cell", "rnn") != "rnn":  # a GRU's or an LSTM's step (core/cells/why.py)
        from rnn_tui.core.cells.why import cell_question

        return cell_question(view)  # type: ignore[arg-type]
    why = Explainer(view)
    f = view.fwd
    if view.phase is Phase.FORWARD:
        t = view.pos.index + 1
        if t % 2 == 0:
            pred = int(f.predictions[t - 1])
            return Question(
                f"Step {t}: input {char(view.spec.alphabet[int(f.inputs[t - 1])])!r}. "
                f"Which character will the model predict (the argmax of ŷ_{t})?",
                view.spec.alphabet[pred],
                why.y_hat_vec(t).label + " = [" + " ".join(fmt(v) for v in f.y_hat[t - 1][:8])
                + (" …" if f.y_hat.shape[1] > 8 else "") + "]",
            )
        if t == 1 and view.pos.chunk:  # truncated BPTT: is h_0 reset or carried?
            return Question(f"Chunk {view.pos.chunk + 1} starts: what is its h_0[1]?",
                            float(f.h[0, 0]), why.h(0, 0).label)
        return Question(f"Step {t}: what is h_{t}[1]?  (h_{t} = tanh(U x_{t} + W h_{t - 1} + b))",
                        float(f.h[t, 0]), why.h(t, 0).label)
    if view.phase is Phase.OUTPUT:
        t = view.pos.index + 1
        j = int(f.targets[t - 1])
        return Question(
            f"δ_{t} = ŷ_{t} − y_{t}: what is δ_{t}[{j + 1}], at the target "
            f"{char(view.spec.alphabet[j])!r}?",
            float(view.delta[t - 1, j]), why.delta(t, j).label)
    if view.phase is Phase.UPDATE:
        name = UPDATE_ORDER[view.pos.index]
        value = view.params.get(name)
        cell = (0,) * value.ndim
        at = ",".join("1" for _ in cell)
        if not why_train.is_handout(view.epoch):
            return train_question(view, why, name, cell, at)
        entry = why.update_tree(name).open()[0].label
        return Question(f"Update {name}: what is {name}_new[{at}]?  "
                        f"({name}_new = {name} − η·d{name}, η = {view.spec.learning_rate:g})",
                        float(value[cell]), entry)
    return None


def train_question(view: StepView, why: Explainer, name: str, cell: tuple[int, ...],
                   at: str) -> Question:
    """An update with a [train] table: in turn the clipped gradient (when
    clipping is on), the optimizer's state, and the new value."""
    ep = view.epoch
    tree = why.update_tree(name)
    entry = tree.open()[0]
    parts = entry.open()  # [g (clipped), the state's entries...]
    clipping = ep.options.clip_value is not None or ep.options.clip_norm is not None
    turn = view.pos.index % 3
    if turn == 0 and clipping:
        return Question(f"Update {name}: what is the clipped gradient g[{at}]?  "
                        f"(d{name}[{at}] = {fmt(float(ep.grads.get(name)[cell]))})",
                        float(ep.clipped.grads.get(name)[cell]), parts[0].label)
    s1 = ep.state_after
    state = {"momentum": ("v", "v"), "adagrad": ("m", "m"), "adam": ("m", "m")}
    if turn in (0, 1) and ep.options.optimizer in state:
        key, attr = state[ep.options.optimizer]
        new = float(getattr(s1, attr).get(name)[cell])
        return Question(f"Update {name} ({ep.options.optimizer}): what is {key}[{at}] after "
                        "this update?", new, parts[1].label)
    return Question(f"Update {name}: what is {name}_new[{at}]?  ({tree.label}, "
                    f"η = {view.spec.learning_rate:g})",
                    float(view.params.get(name)[cell]), entry.label)


def generation_question(g: Generation, k: int, vocab: str, primed: int) -> Question:
    """Before the generation panel shows character k: greedy, which
    character comes next; at a temperature, its probability ŷ."""
    roots = why_train.generation_roots(g, k, vocab, primed)
    s, t = g.steps[k], primed + k
    if g.temperature == 0:
        return Question(f"Generation, input {char(vocab[s.input])!r}: which character comes "
                        f"next (greedy: the argmax of Ω_{t})?", vocab[s.next], roots[0].label)
    c = char(vocab[s.next])
    return Question(f"Generation, input {char(vocab[s.input])!r}: the draw picks {c!r}. What "
                    f"is ŷ_{t}[{c!r}] = softmax(Ω_{t}/τ)[{c!r}], τ = {g.temperature:g}?",
                    float(s.y_hat[s.next]), roots[1].open()[s.next].label)
