"""The app's keys: one table for the bindings, the footer, the help screen
and the command palette.

Every binding has an id, so a keymap can move it (``App.set_keymap``, e.g.
``{"next": "x"}``); the help screen and the palette read the keys from the
running app, so they show the keys as they are then.
"""

from __future__ import annotations

from textual.binding import Binding


def _b(keys: str, action: str, description: str, id: str, tooltip: str,
       show: bool = True) -> Binding:
    return Binding(keys, action, description, show=show, id=id, tooltip=tooltip)


KEYS: list[Binding] = [
    _b("space,n,right", "step(1)", "Next", "next", "Next step"),
    _b("p,left,backspace", "step(-1)", "Prev", "prev",
       "Previous step, exactly the same numbers as before"),
    _b("right_square_bracket", "phase(1)", "Phase", "next_phase",
       "Next phase (forward, output gradients, BPTT, update)"),
    _b("left_square_bracket", "phase(-1)", "Phase back", "prev_phase",
       "Start of this phase, or of the previous one", show=False),
    _b("e", "next_epoch", "Epoch", "next_epoch", "Start of the next epoch"),
    _b("g", "goto_epoch", "Go to", "goto_epoch", "Go to epoch N", show=False),
    _b("r", "play", "Run", "play", "Run (play) or pause"),
    _b("plus,equals_sign", "speed(1)", "Faster", "faster", "Play faster", show=False),
    _b("minus", "speed(-1)", "Slower", "slower", "Play slower", show=False),
    _b("c", "until_correct", "Until right", "until_correct",
       "Run until every prediction of an epoch is right", show=False),
    _b("l", "until_loss", "Until loss <", "until_loss",
       "Run until the total loss is below a value", show=False),
    _b("f", "until_nonfinite", "Until NaN", "until_nonfinite",
       "Run until the first value that is not finite (NaN, inf)", show=False),
    _b("0,home", "reset", "Reset", "reset", "Back to epoch 1, forward t=1", show=False),
    _b("m", "toggle_mode", "Mode", "toggle_mode", "Toggle exact dE / the handout's dE"),
    _b("d", "gradcheck", "Grad check", "gradcheck",
       "Check this epoch's gradients against finite differences", show=False),
    _b("w", "why", "Why", "why",
       "Why: break the current step's values down into what made them"),
    _b("o", "open_model", "Open", "open_model",
       "Open another model file (or a built-in model by name)", show=False),
    _b("k", "quiz", "Quiz", "quiz",
       "Quiz mode: predict each value before the step reveals it", show=False),
    _b("j", "next_difference", "Next difference", "next_difference",
       "Handout model: jump to the next printed number that differs from ours", show=False),
    _b("s", "sync", "Sync", "sync",
       "Follow mode: jump back to the lecturer's position and keep following", show=False),
    _b("z", "presenter", "Present", "presenter",
       "Presenter mode: the network, the formula and the step's result in large type", show=False),
    _b("t", "cycle_theme", "Theme", "cycle_theme",
       "Next theme: dark, light, projector, mono", show=False),
    _b("escape", "cancel", "Cancel", "cancel", "Stop playing or cancel a long run",
       show=False),
    _b("question_mark", "help", "Help", "help", "This help"),
    _b("q", "quit", "Quit", "quit", "Quit"),
    _b("ctrl+c", "interrupt", "Interrupt", "interrupt", "Stop now (exit status 130)",
       show=False),
]
