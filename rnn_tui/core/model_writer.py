"""Model files out: a validated spec as TOML with every number explicit.

Strings go through tomli-w, which knows TOML's escaping rules for any text
a user can type; numbers are written with repr, which round-trips float64
exactly, one matrix row per line so the file stays readable.
"""

from __future__ import annotations

import tomli_w

from rnn_tui.core.maths import Array
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.model_init import file_order, size_label
from rnn_tui.core.text import printable


def _row(values: Array) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def _value(a: Array) -> str:
    if a.ndim == 1:
        return _row(a)
    if a.shape[0] == 1:
        return "[" + _row(a[0]) + "]"
    return "[\n" + "".join(f"    {_row(r)},\n" for r in a) + "]"


def model_toml(spec: ModelSpec, origin: str | None = None) -> str:
    """The whole model file, with the initial parameters spelled out
    (``origin``: the comment saying where they came from)."""
    p = spec.initial_params() if spec.cell == "rnn" else spec.initial_cell_params()
    origin = origin or (
        f"# initial values drawn with seed {spec.init.seed}"
        + (f", scale {spec.init.scale}" if spec.init.scale is not None else "")
        if spec.init.seed is not None
        else "# initial values"
    )
    head = tomli_w.dumps(
        {
            "name": spec.name,
            "text": spec.text,
            "vocab": spec.alphabet,
            "embedding_dim": spec.embedding_dim,
            "hidden_size": spec.hidden_size,
            **({"cell": spec.cell} if spec.cell != "rnn" else {}),
            "learning_rate": spec.learning_rate,
        }
    )
    # tomli_w escapes control characters but writes bidi overrides, zero-width
    # and other invisible characters as they are: escaped here too (\uXXXX is
    # valid in the basic strings tomli_w writes), so the file is safe to print.
    head = "".join(ch if ch == "\n" or printable(ch) == ch else
                   f"\\u{ord(ch):04X}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08X}"
                   for ch in head)
    lines = [
        f"# rnn-tui model: K={spec.K} (vocab), D={spec.embedding_dim} (embedding), "
        f"H={spec.hidden_size} (hidden), T={spec.T} (steps)",
        head.rstrip("\n"),
        "",
        "[init]",
        origin,
    ]
    for name in file_order(spec.cell):
        lines.append(f"# {size_label(name)}")
        lines.append(f"{name} = {_value(p.get(name))}")
    lines += ["", "[bptt]", f'embedding_rows = "{spec.bptt.embedding_rows}"', ""]
    train = spec.train.model_dump(exclude_defaults=True)
    if train:  # only what differs from the handout's training
        lines += ["[train]", tomli_w.dumps(train).rstrip("\n"), ""]
    return "\n".join(lines)
