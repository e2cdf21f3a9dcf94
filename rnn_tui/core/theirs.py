"""A student's trace: read, checked against the model's sizes, as arrays.

The file is JSON in the schema ``rnn-tui trace --format json`` writes (the
README's "The JSON trace"), with any subset of its numeric fields: per step
x, h, omega, y_hat, loss; per epoch total_loss, params, grads,
params_after; and ``trace --terms``'s outputs and terms. Anything that is
not that (malformed JSON, a wrong shape, a string where a number belongs,
an unknown field) is an :class:`InputError` naming the file and the field
with 1-based entries, e.g. ``theirs.json: epochs[1].steps[2].h: expected 3
numbers (H = 3), got 2``.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.core.maths import Array
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.params import SHAPES
from rnn_tui.core.text import printable

MAX_BYTES = 256 * 2**20
MAX_EPOCHS = 100_000
SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# Shapes by dimension name (K vocabulary, D embedding, H hidden).
PARAM_SHAPES = SHAPES  # the one list of names and shapes, from core/params.py
STEP_FIELDS = {"x": ("D",), "h": ("H",), "omega": ("K",), "y_hat": ("K",), "loss": ()}
OUTPUT_FIELDS = {"delta": ("K",), "dV": ("K", "H"), "dc": ("K",)}
TERM_FIELDS = {"term": ("H",), "dW": ("H", "H"), "dU": ("H", "D"), "db": ("H",),
               "dE": ("K", "D")}
PARAM_GROUPS = ("params", "grads", "params_after")
TOP_KEYS = ("model", "vocab", "embedding_rows", "epochs")
EPOCH_KEYS = ("epoch", "total_loss", "steps", *PARAM_GROUPS, "outputs", "terms")
STEP_TEXT = ("input", "target", "prediction")


class InputError(ValueError):
    """A student's file that cannot be compared: one line, exit status 2."""


@dataclass
class TheirEpoch:
    """The values one epoch of the file gives, by where they belong."""

    number: int
    steps: dict[int, dict[str, Array]] = field(default_factory=dict)  # t -> x, h, ...
    total_loss: Array | None = None
    groups: dict[str, dict[str, Array]] = field(default_factory=dict)  # params -> E -> ..
    outputs: dict[int, dict[str, Array]] = field(default_factory=dict)  # t -> delta, ..
    terms: dict[tuple[int, int], dict[str, Array]] = field(default_factory=dict)  # (t, k)


@dataclass
class Theirs:
    source: str  # the file name, printable
    epochs: list[TheirEpoch]


def _show(v: Any) -> str:
    if isinstance(v, str):
        return repr(printable(v[:20]) + ("..." if len(v) > 20 else ""))
    return {dict: "an object", list: "a list", bool: "a boolean", type(None): "null"}.get(
        type(v), printable(repr(v))[:20])


class _Reader:
    def __init__(self, spec: ModelSpec, source: str) -> None:
        self.source = source
        self.dims = {"K": spec.K, "D": spec.embedding_dim, "H": spec.hidden_size}
        self.T = spec.T
        # What a step, the parameter groups and a term hold: the RNN's, or a
        # GRU's or LSTM's (cell_fields: the gates, C, the cell's names).
        self.step_fields, self.param_shapes, self.term_fields = STEP_FIELDS, PARAM_SHAPES, \
            TERM_FIELDS
        if spec.cell != "rnn":
            from rnn_tui.core.cell_compare import cell_fields

            self.step_fields, self.param_shapes, self.term_fields = cell_fields(spec.cell)

    def fail(self, where: str, what: str) -> InputError:
        return InputError(f"{self.source}: {where}: {what}")

    def obj(self, v: Any, where: str, known: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise self.fail(where, f"expected an object, got {_show(v)}")
        for key in v:
            if key not in known:
                near = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else f"; known: {', '.join(known)}"
                raise self.fail(f"{where}.{printable(key)}" if where else printable(key),
                                f"unknown field{hint}")
        return v

    def number(self, v: Any, where: str) -> float:
        if isinstance(v, str) and v in SPECIAL:
            return SPECIAL[v]
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(where, f"expected a number, got {_show(v)}")
        try:
            return float(v)
        except OverflowError:
            raise self.fail(where, "number too large for float64") from None

    def vector(self, v: Any, dim: str, where: str, row: int | None = None) -> Array:
        n = self.dims[dim]
        name = f"{where}, row {row}" if row else where
        if not isinstance(v, list):
            raise self.fail(name, f"expected a list of {n} numbers ({dim} = {n}), got {_show(v)}")
        if len(v) != n:
            raise self.fail(name, f"expected {n} number{'s' * (n != 1)} ({dim} = {n}), "
                            f"got {len(v)}")
        if all(type(x) is float for x in v):
            return np.array(v, dtype=float)
        at = (lambda j: f"{where}[{row},{j}]") if row else (lambda j: f"{where}[{j}]")
        return np.array([self.number(x, at(j)) for j, x in enumerate(v, 1)], dtype=float)

    def array(self, v: Any, shape: tuple[str, ...], where: str) -> Array:
        if not shape:
            return np.asarray(self.number(v, where))
        if len(shape) == 1:
            return self.vector(v, shape[0], where)
        r, c = shape
        n = self.dims[r]
        if not isinstance(v, list) or len(v) != n:
            got = f"{len(v)} rows" if isinstance(v, list) else _show(v)
            raise self.fail(where, f"expected {n} x {self.dims[c]} ({r} x {c}, a list of rows), "
                            f"got {got}")
        return np.stack([self.vector(row, c, where, i) for i, row in enumerate(v, 1)])

    def index(self, v: Any, where: str, lo: int, hi: int) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise self.fail(where, f"expected a whole number in {lo}..{hi}, got {_show(v)}")
        return v

    def fields(self, v: dict[str, Any], spec: dict[str, tuple[str, ...]],
               where: str) -> dict[str, Array]:
        return {k: self.array(v[k], shape, f"{where}.{k}") for k, shape in spec.items() if k in v}

    def listing(self, v: Any, where: str) -> list[Any]:
        if not isinstance(v, list):
            raise self.fail(where, f"expected a list, got {_show(v)}")
        return v

    def epoch(self, v: Any, i: int) -> TheirEpoch:
        where = f"epochs[{i}]"
        v = self.obj(v, where, EPOCH_KEYS)
        T = self.T
        number = self.index(v["epoch"], f"{where}.epoch", 1, MAX_EPOCHS) if "epoch" in v else i
        out = TheirEpoch(number)
        if "total_loss" in v:
            out.total_loss = self.array(v["total_loss"], (), f"{where}.total_loss")
        for j, s in enumerate(self.listing(v.get("steps", []), f"{where}.steps"), 1):
            at = f"{where}.steps[{j}]"
            s = self.obj(s, at, ("t", *STEP_TEXT, *self.step_fields))
            t = self.index(s["t"], f"{at}.t", 1, T) if "t" in s else j
            if t in out.steps or t > T:
                raise self.fail(at, f"step t={t} given twice" if t in out.steps
                                else f"there are only T = {T} steps")
            for key in STEP_TEXT:
                if key in s and not isinstance(s[key], str):
                    raise self.fail(f"{at}.{key}", f"expected a character, got {_show(s[key])}")
            out.steps[t] = self.fields(s, self.step_fields, at)
        for group in PARAM_GROUPS:
            if group in v:
                g = self.obj(v[group], f"{where}.{group}", tuple(self.param_shapes))
                out.groups[group] = self.fields(g, self.param_shapes, f"{where}.{group}")
        for j, o in enumerate(self.listing(v.get("outputs", []), f"{where}.outputs"), 1):
            at = f"{where}.outputs[{j}]"
            o = self.obj(o, at, ("t", *OUTPUT_FIELDS))
            if "t" not in o:
                raise self.fail(at, "missing t (the output step, 1..T)")
            t = self.index(o["t"], f"{at}.t", 1, T)
            if t in out.outputs:
                raise self.fail(at, f"output step t={t} given twice")
            out.outputs[t] = self.fields(o, OUTPUT_FIELDS, at)
        for j, term in enumerate(self.listing(v.get("terms", []), f"{where}.terms"), 1):
            at = f"{where}.terms[{j}]"
            term = self.obj(term, at, ("t", "k", *self.term_fields))
            if "t" not in term or "k" not in term:
                raise self.fail(at, "missing t or k (term (t, k), 1 <= k <= t <= T)")
            t = self.index(term["t"], f"{at}.t", 1, T)
            k = self.index(term["k"], f"{at}.k", 1, t)
            if (t, k) in out.terms:
                raise self.fail(at, f"term t={t} k={k} given twice")
            out.terms[t, k] = self.fields(term, self.term_fields, at)
        return out


def read_json(path: Path) -> Any:
    """The parsed file, or an InputError naming it (missing, not a regular
    file, too large, not UTF-8, not JSON, nested too deeply)."""
    name = printable(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise InputError(f"{name}: {printable(err.strerror or str(err))}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{name}: not a regular file")
        if st.st_size > MAX_BYTES:
            raise InputError(f"{name}: {st.st_size:,} bytes; at most {MAX_BYTES:,} are read")
        data = f.read(MAX_BYTES + 1)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise InputError(f"{name}: not UTF-8 text (byte {err.start + 1})") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{name}: line {err.lineno}, column {err.colno}: invalid JSON "
                         f"({err.msg})") from None
    except RecursionError:
        raise InputError(f"{name}: JSON nested too deeply") from None


def parse(doc: Any, spec: ModelSpec, source: str) -> Theirs:
    """Check a parsed document against the model and keep its numbers."""
    r = _Reader(spec, source)
    if not isinstance(doc, dict) or "epochs" not in doc:
        raise InputError(f"{source}: expected a JSON object with an \"epochs\" list "
                         "(the schema of rnn-tui trace --format json)")
    r.obj(doc, "", TOP_KEYS if spec.cell == "rnn" else (*TOP_KEYS, "cell"))
    if spec.cell != "rnn" and doc.get("cell", spec.cell) != spec.cell:
        raise r.fail("cell", f"the model is {'an' if spec.cell == 'lstm' else 'a'} "
                     f"{spec.cell.upper()} (cell = \"{spec.cell}\"); got {_show(doc['cell'])}")
    if "vocab" in doc:
        vocab = doc["vocab"]
        want = list(spec.alphabet)
        if vocab != want and vocab != spec.alphabet:
            shown = printable(json.dumps(want, ensure_ascii=False))
            raise r.fail("vocab", f"the model's vocabulary, in its order, is {shown}; "
                         f"got {printable(json.dumps(vocab, ensure_ascii=False))[:60]}")
    raw = r.listing(doc["epochs"], "epochs")
    if len(raw) > MAX_EPOCHS:
        raise r.fail("epochs", f"{len(raw)} epochs; at most {MAX_EPOCHS} are compared")
    epochs = [r.epoch(e, i) for i, e in enumerate(raw, 1)]
    seen: set[int] = set()
    for i, e in enumerate(epochs, 1):
        if e.number in seen:
            raise r.fail(f"epochs[{i}].epoch", f"epoch {e.number} given twice")
        seen.add(e.number)
    return Theirs(source, sorted(epochs, key=lambda e: e.number))


def load(path: Path, spec: ModelSpec) -> Theirs:
    return parse(read_json(path), spec, printable(str(path)))
