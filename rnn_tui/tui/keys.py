"""The app's keys: one table for the bindings, the footer, the help screen
and the command palette.

Every binding has an id, so a keymap can move it (``App.set_keymap``, e.g.
``{"next": "x"}``); the help screen and the palette read the keys from the
running app, so they show the keys as they are then.
"""

from __future__ import annotations

from textual.binding import Binding


def _b(keys: str, action: str, description: str, tooltip: str, show: bool = True,
       id: str | None = None) -> Binding:
    """A binding whose id is its action's name unless given (``step(1)`` is ``next``)."""
    return Binding(keys, action, description, show=show, id=id or action, tooltip=tooltip)


KEYS: list[Binding] = [
    _b("space,n,right", "step(1)", "Next", "Next step", id="next"),
    _b("p,left,backspace", "step(-1)", "Prev",
       "Previous step, exactly the same numbers as before", id="prev"),
    _b("right_square_bracket", "phase(1)", "Phase",
       "Next phase (forward, output gradients, BPTT, update)", id="next_phase"),
    _b("left_square_bracket", "phase(-1)", "Phase back",
       "Start of this phase, or of the previous one", show=False, id="prev_phase"),
    _b("right_curly_bracket,shift+down", "scroll_formula(1)", "Formula down",
       "Show the formula lines hidden below (⋮ N more)", show=False, id="formula_down"),
    _b("left_curly_bracket,shift+up", "scroll_formula(-1)", "Formula up",
       "Show the formula lines hidden above", show=False, id="formula_up"),
    _b("e", "next_epoch", "Epoch", "Start of the next epoch"),
    _b("g", "goto_epoch", "Go to", "Go to epoch N", show=False),
    _b("r", "play", "Run", "Run (play) or pause"),
    _b("plus,equals_sign", "speed(1)", "Faster", "Play faster", show=False, id="faster"),
    _b("minus", "speed(-1)", "Slower", "Play slower", show=False, id="slower"),
    _b("c", "until_correct", "Until right",
       "Run until every prediction of an epoch is right", show=False),
    _b("l", "until_loss", "Until loss <", "Run until the total loss is below a value", show=False),
    _b("f", "until_nonfinite", "Until NaN",
       "Run until the first value that is not finite (NaN, inf)", show=False),
    _b("0,home", "reset", "Reset", "Back to epoch 1, forward t=1", show=False),
    _b("m", "toggle_mode", "Mode", "Toggle exact dE / the handout's dE"),
    _b("d", "gradcheck", "Grad check",
       "Check the gradients against finite differences (with seq_length: this chunk's)",
       show=False),
    _b("v", "generate", "Generate",
       "Generation: what the model writes now from the prime, greedy and at temperature τ "
       "(in the formula panel's place; v again hides it)", show=False),
    _b("full_stop", "generate_step(1)", "Gen. next",
       "Generation: the next generated character, its h, Ω, Ω/τ, ŷ and the choice",
       show=False, id="generate_next"),
    _b("comma", "generate_step(-1)", "Gen. back", "Generation: the previous generated character",
       show=False, id="generate_prev"),
    _b("a", "generate_settings", "Gen. from",
       "Generation: set the prime, the temperature τ and the seed", show=False),
    _b("w", "why", "Why", "Why: break the current step's values down into what made them"),
    _b("b", "compare_cells", "Cells",
       "The RNN's BPTT triangle beside a GRU's and an LSTM's for this text",
       show=False),
    _b("o", "open_model", "Open",
       "Open another model file (or a built-in model by name)", show=False),
    _b("k", "quiz", "Quiz", "Quiz mode: predict each value before the step reveals it", show=False),
    _b("j", "next_difference", "Next difference",
       "Next difference: from --compare's file, or the handout's printed numbers", show=False),
    _b("s", "sync", "Sync",
       "Follow mode: jump back to the lecturer's position and keep following", show=False),
    _b("z", "presenter", "Present",
       "Presenter mode: the network, the formula and the step's result in large type",
       show=False),
    _b("t", "cycle_theme", "Theme", "Next theme: dark, light, projector, mono", show=False),
    _b("escape", "cancel", "Cancel", "Stop playing or cancel a long run", show=False),
    _b("question_mark", "help", "Help", "This help"),
    _b("q", "quit", "Quit", "Quit"),
    _b("ctrl+c", "interrupt", "Interrupt", "Stop now (exit status 130)", show=False),
]
