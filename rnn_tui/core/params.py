"""The six parameters' names, shapes and the two orders the handout uses.

The one place these are spelled: everything else (the maths, the model
file, the trace, the export, the panels, the tests) imports them.

Shapes (K = vocabulary size, D = embedding size, H = hidden size):
    E (K, D)   U (H, D)   W (H, H)   b (H,)   V (K, H)   c (K,)
"""

from __future__ import annotations

FILE_ORDER: tuple[str, ...] = ("E", "U", "W", "b", "V", "c")
"""The order of the forward pass: model files, traces, exports and Params."""

UPDATE_ORDER: tuple[str, ...] = ("V", "c", "W", "U", "b", "E")
"""The handout's update order (sections 6.2 to 6.7): the six update steps."""

OUTPUT_PARAMS: tuple[str, ...] = ("V", "c")
"""The output layer's parameters: their gradients come from the output steps."""

BPTT_PARAMS: tuple[str, ...] = ("W", "U", "b", "E")
"""The parameters whose gradients are summed term by term in BPTT."""

SHAPES: dict[str, tuple[str, ...]] = {
    "E": ("K", "D"),
    "U": ("H", "D"),
    "W": ("H", "H"),
    "b": ("H",),
    "V": ("K", "H"),
    "c": ("K",),
}
"""Each parameter's shape in the handout's size letters, in FILE_ORDER."""


def shape_text(name: str) -> str:
    """``K x D`` for E, ``H`` for b: the shape as a model file's comment says it."""
    return " x ".join(SHAPES[name])


def by_char(name: str) -> bool:
    """Whether the parameter's rows (E, V) or entries (c) are the vocabulary's
    characters: the screen names them by character (``E['e']``)."""
    return SHAPES[name][0] == "K"
