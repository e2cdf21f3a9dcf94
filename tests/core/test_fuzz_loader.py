"""The model loader under fuzzed input (property-based, with hypothesis).

Every input either loads into a model that works (a Stepper steps through it,
forwards and back) or fails with ModelFileError whose str() is exactly one
printable line that names the field (or, for a file that is not UTF-8 TOML at
all, says so). Nothing else may escape: no RecursionError, OverflowError,
ValueError, KeyError or traceback, and nothing hangs.

Inputs come from four sources:

- a valid random model with exactly one mutation (a key dropped, an unknown
  key, a value of the wrong type, NaN/inf/huge numbers, a wrong shape, a
  value out of range); the error must name the mutated field (or one that
  depends on it, e.g. init.E when the vocabulary changed). Each such model
  goes in twice: as a Python dict (``validate``) and as TOML text written
  with tomli-w (``parse_bytes``), and both must agree;
- random documents: random keys (known and unknown, unicode, control
  characters, empty), values of every TOML type nested at random;
- raw text and bytes: random bytes, random text, and valid TOML files with
  bytes cut out, inserted or replaced, plus hand-made invalid files
  (deep nesting, 5,000-digit numbers, BOM, NUL, bad UTF-8, megabytes);
- a few of the above through the real ``rnn-tui check FILE`` in a
  subprocess (exit 0, or exit 2 with one stderr line and no traceback).

The loader's size bounds (model_file.py), which are what make every valid
file cheap enough to step through (checked at the limits below):

- ``text``: 2 to MAX_TEXT = 5,000 characters (so T <= 4,999 and at most
  12.5 million BPTT terms per epoch, computed lazily);
- vocabulary: 2 to MAX_VOCAB = 256 distinct characters, given or implied;
- ``embedding_dim`` (D) and ``hidden_size`` (H): 1 to MAX_DIM = 1,024;
- ``learning_rate``: finite and > 0; every matrix entry finite;
- ``init.seed``: 0 to 2**63 - 1; ``init.scale``: > 0 and <= 100;
- ``name``: 1 to 64 characters.
- keys: at most MAX_KEY_PARTS = 16 dotted parts, refused before parsing
  (tomllib takes time quadratic in them: 50,000 parts took minutes).
The file itself has no size limit: TOML parsing is otherwise linear (the
largest explicit model, 55 MB of numbers, parses in about 15 s), and a
seeded model at every limit at once (K=256, D=H=1,024, T=4,999) loads and
steps in seconds.

Example counts (max_examples): 12 kinds of mutation x 40 = 480 mutated
models (960 loads: dict and TOML), 200 random documents, 200 raw inputs,
30 CLI runs (910 in all), plus 52 fixed cases; the whole file takes about
25-50 s on a 2-core machine (more when it is shared). The examples are
random each run (no database is written); a failure prints the example and
how to reproduce it.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_tui.core.model_file import (
    MAX_DIM,
    MAX_TEXT,
    MAX_VOCAB,
    InitSpec,
    ModelFileError,
    ModelSpec,
    load,
    parse_bytes,
    validate,
)
from rnn_tui.core.params import FILE_ORDER
from rnn_tui.core.stepper import Phase, Position, Stepper

from helpers.cli import GOOD as CLI_GOOD
from helpers.cli import run  # the suite's subprocess helper (the installed rnn-tui)
from helpers.marks import slow_after

FUZZ = settings(
    deadline=None,
    database=None,  # nothing written into the work tree; failures print their example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)

SOURCE = "fuzz.toml"
TOP_KEYS = tuple(ModelSpec.model_fields)
INIT_KEYS = tuple(InitSpec.model_fields)
MATRICES = ("E", "U", "W", "V")
VECTORS = ("b", "c")
REQUIRED = ("text", "embedding_dim", "hidden_size", "learning_rate", "init")
KNOWN_FIELDS = {*TOP_KEYS, *(f"init.{k}" for k in INIT_KEYS), "bptt.embedding_rows"}

# Any character a UTF-8 file can hold: unicode, astral, control characters,
# NUL, newlines, U+2028 (a line break to str.splitlines).
CHARS = st.characters(codec="utf-8")
AWKWARD = ["", " ", "\n", "\r\n", "\t", "\x00", "\x1b[31m", "\u2028", "\ufeff", "é", "😀",
           "a.b", '"', "'", "\\", "[init]", "hidden size", "x" * 200]
HUGE_INTS = [2**63 - 1, 2**63, -(2**63), 2**64, 10**30, 10**400, -(10**400)]
ODD_FLOATS = [math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308, -1e308, 1e-300]


def toml_key(key: str) -> str:
    """How an error must show a key: bare when TOML allows it, else quoted;
    past 40 characters, shortened."""
    shown = key if len(key) <= 40 else key[:37] + "..."
    return shown if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(
        shown, ensure_ascii=False)


# ------------------------------------------------------------- strategies

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(HUGE_INTS),
    st.floats(),  # includes NaN, inf, -0.0, subnormals
    st.sampled_from(ODD_FLOATS),
    st.text(CHARS, max_size=20),
    st.sampled_from(AWKWARD),
    st.sampled_from(["x_k", "x_t", "hello", "helo", "2"]),
    st.dates(),
    st.datetimes(),
    st.times(),
)
any_keys = st.one_of(st.sampled_from([*TOP_KEYS, *INIT_KEYS, "embedding_rows"]),
                     st.text(CHARS, max_size=12), st.sampled_from(AWKWARD))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(any_keys, inner, max_size=4),
    max_leaves=16,
)
finite = st.one_of(st.floats(-10, 10), st.floats(allow_nan=False, allow_infinity=False),
                   st.integers(-5, 5))


@st.composite
def valid_docs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid model as a TOML document: awkward characters, any sizes that
    keep stepping cheap, seeded or explicit initial values."""
    k = draw(st.integers(2, 8))
    alphabet = draw(st.lists(CHARS, min_size=k, max_size=k, unique=True))
    length = draw(st.integers(2, 14))
    text = draw(st.lists(st.sampled_from(alphabet), min_size=length, max_size=length))
    text[0], text[1] = alphabet[0], alphabet[1]  # at least 2 distinct characters
    text = "".join(draw(st.permutations(text)))
    doc: dict[str, Any] = {"text": text}
    if draw(st.booleans()):
        doc["vocab"] = "".join(draw(st.permutations(alphabet)))
        K = k
    else:
        K = len(set(text))
    D, H = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    doc["embedding_dim"], doc["hidden_size"] = D, H
    doc["learning_rate"] = draw(st.one_of(
        st.floats(0, 10, exclude_min=True), st.floats(1e-300, 1e308), st.integers(1, 10**6),
        st.sampled_from([5e-324, 1e308, 0.1])))
    if draw(st.booleans()):
        init: dict[str, Any] = {"seed": draw(st.integers(0, 2**63 - 1))}
        if draw(st.booleans()):
            init["scale"] = draw(st.one_of(st.floats(0, 100, exclude_min=True),
                                           st.integers(1, 100)))
    else:
        shapes = {"E": (K, D), "U": (H, D), "W": (H, H), "V": (K, H), "b": (H,), "c": (K,)}
        init = {}
        for name, shape in shapes.items():
            if len(shape) == 1:
                init[name] = draw(st.lists(finite, min_size=shape[0], max_size=shape[0]))
            else:
                row = st.lists(finite, min_size=shape[1], max_size=shape[1])
                init[name] = draw(st.lists(row, min_size=shape[0], max_size=shape[0]))
    doc["init"] = init
    if draw(st.booleans()):
        doc["bptt"] = draw(st.sampled_from([{}, {"embedding_rows": "x_k"},
                                            {"embedding_rows": "x_t"}]))
    if draw(st.booleans()):
        doc["name"] = draw(st.text(CHARS, min_size=1, max_size=64))
    return doc


def _deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v) for v in value]
    return value


K_SHAPED = {"init.E", "init.V", "init.c"}
H_SHAPED = {"init.U", "init.W", "init.b", "init.V"}
D_SHAPED = {"init.E", "init.U"}
# When a value changes, which other fields may then be the first one wrong.
DEPENDENT = {
    "text": K_SHAPED,
    "vocab": {"text"} | K_SHAPED,
    "embedding_dim": D_SHAPED,
    "hidden_size": H_SHAPED,
}


MUTATIONS = ("none", "drop", "drop_optional", "drop_init", "unknown", "retype", "nonfinite",
             "reshape", "range_dim", "range_text", "range_vocab", "range_other")


@st.composite
def mutants(draw: st.DrawFn, kind: str | None = None
            ) -> tuple[str, dict[str, Any], set[str], bool]:
    """(what was done, the document, the fields an error may name, whether
    it may still be valid): a valid model with exactly one thing changed."""
    doc = _deep(draw(valid_docs()))
    init = doc["init"]
    explicit = "E" in init
    kind = kind or draw(st.sampled_from(MUTATIONS))
    if kind == "none":
        return kind, doc, set(), True
    if kind == "drop":
        key = draw(st.sampled_from(REQUIRED))
        del doc[key]
        return f"drop {key}", doc, {key}, False
    if kind == "drop_optional":
        key = draw(st.sampled_from(["name", "vocab", "bptt", "scale"]))
        if key == "scale":
            init.pop("scale", None)
            return "drop init.scale", doc, set(), True
        doc.pop(key, None)
        # Without a vocab, K is the text's distinct characters: shapes may break.
        return f"drop {key}", doc, ({"text"} | K_SHAPED) if key == "vocab" else set(), True
    if kind == "drop_init":
        key = draw(st.sampled_from(list(init)))
        del init[key]
        if key == "scale":
            return "drop init.scale", doc, set(), True
        # Missing values are reported in the order E, U, W, b, V, c.
        return f"drop init.{key}", doc, {"init.E" if key == "seed" else f"init.{key}"}, False
    if kind == "unknown":
        where = draw(st.sampled_from(["top", "init", "bptt"]))
        allowed = {"top": TOP_KEYS, "init": INIT_KEYS, "bptt": ("embedding_rows",)}[where]
        key = draw(st.one_of(st.text(CHARS, max_size=12), st.sampled_from(AWKWARD),
                             st.sampled_from(["hiden_size", "Text", "seeds", "embedding-dim"]))
                   .filter(lambda k: k not in allowed))
        value = draw(values)
        if where == "top":
            doc[key] = value
            return f"unknown {key!r}", doc, {toml_key(key)}, False
        table = doc.setdefault("bptt", {}) if where == "bptt" else init
        table[key] = value
        return f"unknown {where}.{key!r}", doc, {f"{where}.{toml_key(key)}"}, False
    if kind == "retype":
        paths = [k for k in doc] + [f"init.{k}" for k in init]
        if isinstance(doc.get("bptt"), dict) and "embedding_rows" in doc["bptt"]:
            paths.append("bptt.embedding_rows")
        path = draw(st.sampled_from(paths))
        value = draw(values)
        parent, _, key = path.rpartition(".")
        (doc[parent] if parent else doc)[key] = value
        related = {f for f in KNOWN_FIELDS if f.startswith(path + ".")}
        if path == "init" and isinstance(value, dict):
            related |= {f"init.{toml_key(k)}" for k in value}
        if path == "bptt" and isinstance(value, dict):
            related |= {f"bptt.{toml_key(k)}" for k in value}
        return f"retype {path} = {value!r}"[:200], doc, {path} | related | DEPENDENT.get(
            path, set()), True
    if kind == "nonfinite":
        bad = draw(st.sampled_from([math.nan, math.inf, -math.inf, 10**400, -(10**400)]))
        targets = ["learning_rate"] + (["scale"] if "scale" in init else [])
        targets += list(MATRICES + VECTORS) if explicit else []
        target = draw(st.sampled_from(targets))
        if target == "learning_rate":
            doc["learning_rate"] = bad
            return f"learning_rate = {bad}"[:80], doc, {"learning_rate"}, False
        if target == "scale":
            init["scale"] = bad
            return f"scale = {bad}"[:80], doc, {"init.scale"}, False
        cells = init[target]
        i = draw(st.integers(0, len(cells) - 1))
        if target in MATRICES:
            j = draw(st.integers(0, len(cells[i]) - 1))
            cells[i][j] = bad
        else:
            cells[i] = bad
        return f"init.{target}[{i}] = {bad}"[:80], doc, {f"init.{target}"}, False
    if kind == "reshape":
        if not explicit:
            init.pop("seed")
            init.pop("scale", None)
            init["E"] = [[0.0]]
            return "seed replaced by E alone", doc, {"init.E", "init.U"}, False
        name = draw(st.sampled_from(MATRICES + VECTORS))
        m = init[name]
        if name in VECTORS:
            how = draw(st.sampled_from(["append", "pop", "nest", "empty"]))
            if how == "append":
                m.append(0.5)
            elif how == "pop":
                m.pop()
            elif how == "nest":
                init[name] = [m]
            else:
                init[name] = []
            return f"{how} init.{name}", doc, {f"init.{name}"}, False
        how = draw(st.sampled_from(["add_row", "drop_row", "add_col", "drop_col", "ragged",
                                    "flat", "empty", "deep"]))
        if how == "add_row":
            m.append(list(m[0]))
        elif how == "drop_row":
            m.pop()
        elif how == "add_col":
            for row in m:
                row.append(0.25)
        elif how == "drop_col":
            for row in m:
                row.pop()
        elif how == "ragged":
            m[draw(st.integers(0, len(m) - 1))].append(1.0)
        elif how == "flat":
            init[name] = [x for row in m for x in row]
        elif how == "empty":
            init[name] = []
        else:
            init[name] = [[row] for row in m]
        return f"{how} init.{name}", doc, {f"init.{name}"}, False
    if kind == "range_dim":
        key = draw(st.sampled_from(["embedding_dim", "hidden_size"]))
        doc[key] = draw(st.sampled_from([0, -1, MAX_DIM + 1, 2**63, 10**400, -(10**400),
                                         True, 2.0, "2", 1e308, math.nan]))
        return f"{key} = {doc[key]!r}"[:80], doc, {key}, False
    if kind == "range_text":
        how = draw(st.sampled_from(["short", "empty", "long", "very_long", "not_in_vocab",
                                    "too_many_kinds"]))
        if how == "short":
            doc["text"] = doc["text"][0]
        elif how == "empty":
            doc["text"] = ""
        elif how == "long":
            doc["text"] = (doc["text"] * (MAX_TEXT // len(doc["text"]) + 1))[: MAX_TEXT + 1]
        elif how == "very_long":
            doc["text"] = doc["text"] * (100_000 // len(doc["text"]))
        elif how == "not_in_vocab":
            vocab = doc.setdefault("vocab", "".join(dict.fromkeys(doc["text"])))
            stranger = next(chr(c) for c in range(0x4E00, 0x9FFF) if chr(c) not in vocab)
            i = draw(st.integers(0, len(doc["text"]) - 1))
            doc["text"] = doc["text"][:i] + stranger + doc["text"][i + 1:]
        else:
            doc.pop("vocab", None)
            doc["text"] = "".join(chr(0x4E00 + i) for i in range(MAX_VOCAB + 1))
        return f"text {how}", doc, {"text"}, False
    if kind == "range_vocab":
        vocab = doc.get("vocab") or "".join(dict.fromkeys(doc["text"]))
        how = draw(st.sampled_from(["one", "empty", "duplicate", "too_many"]))
        if how == "one":
            doc["vocab"] = vocab[0]
        elif how == "empty":
            doc["vocab"] = ""
        elif how == "duplicate":
            doc["vocab"] = vocab + vocab[draw(st.integers(0, len(vocab) - 1))]
        else:
            extra = [chr(c) for c in range(0x4E00, 0x9FFF) if chr(c) not in vocab]
            doc["vocab"] = vocab + "".join(extra[: MAX_VOCAB + 1 - len(vocab)])
        return f"vocab {how}", doc, {"vocab"}, False
    # range_other
    which = draw(st.sampled_from(["name", "learning_rate", "seed", "scale", "rows",
                                  "seed_and_values", "scale_without_seed"]))
    if which == "name":
        doc["name"] = draw(st.sampled_from(["", "n" * 65, "é" * 1000]))
        return "name length", doc, {"name"}, False
    if which == "learning_rate":
        doc["learning_rate"] = draw(st.sampled_from([0, 0.0, -0.0, -5e-324, -1, -(10**400)]))
        return f"learning_rate = {doc['learning_rate']}"[:80], doc, {"learning_rate"}, False
    if which == "rows":
        doc["bptt"] = {"embedding_rows": draw(st.text(CHARS, max_size=10).filter(
            lambda s: s not in ("x_k", "x_t")))}
        return "bptt.embedding_rows", doc, {"bptt.embedding_rows"}, False
    if explicit:
        if which in ("seed", "seed_and_values"):
            init["seed"] = 1
            return "seed and values", doc, {"init.E"}, False
        init["scale"] = 0.5
        return "scale without seed", doc, {"init.scale"}, False
    if which in ("seed", "seed_and_values"):
        init["seed"] = draw(st.sampled_from([-1, 2**63, 10**400, 1.5, True, "1", math.nan]))
        return f"seed = {init['seed']!r}"[:80], doc, {"init.seed"}, False
    init["scale"] = draw(st.sampled_from([0, -1, 100.0001, 1e300, "0.5", False]))
    return f"scale = {init['scale']!r}", doc, {"init.scale"}, False


# ----------------------------------------------------------------- oracle


def assert_one_line(err: ModelFileError, source: str = SOURCE) -> None:
    line = str(err)
    assert line.splitlines() == [line], repr(line)
    assert line.isprintable(), repr(line)
    assert line.startswith(f"{source}: "), line
    if err.field is None:
        assert err.message.startswith(("not UTF-8", "invalid TOML")), line
    else:
        assert err.field, line
        shown = err.field if err.field.isprintable() else None
        if shown is not None:
            assert line.startswith(f"{source}: {shown}: "), line
    assert len(line) < 600, line  # one readable line, not a dump of the input


def check_usable(spec: ModelSpec, doc: dict[str, Any] | None = None) -> None:
    """The model is what the document says, and a Stepper can step it."""
    if doc is not None:
        assert spec.text == doc["text"]
        assert spec.alphabet == doc.get("vocab", "".join(dict.fromkeys(doc["text"])))
        assert spec.name == doc.get("name", "model")
        assert (spec.embedding_dim, spec.hidden_size) == (doc["embedding_dim"],
                                                          doc["hidden_size"])
        assert spec.learning_rate == float(doc["learning_rate"])
        if "E" in doc["init"]:
            p = spec.initial_params()
            for name in (*MATRICES, *VECTORS):
                np.testing.assert_array_equal(p.get(name),
                                              np.array(doc["init"][name], dtype=np.float64))
    K, D, H, T = spec.K, spec.embedding_dim, spec.hidden_size, spec.T
    p = spec.initial_params()
    assert [p.get(n).shape for n in FILE_ORDER] == [
        (K, D), (H, D), (H, H), (H,), (K, H), (K,)]
    stepper = Stepper(spec)
    start = stepper.position
    lay = stepper.layout
    assert lay.steps_per_epoch == 2 * T + T * (T + 1) // 2 + 6
    for i in range(1, 6):
        pos = stepper.next()
        assert lay.step_of(pos) + (pos.epoch - 1) * lay.steps_per_epoch == i
        assert isinstance(stepper.view().finite, bool)
    for _ in range(4):  # through BPTT and the updates into epoch 2 (may diverge: fine)
        stepper.next_phase()
        view = stepper.view()
        assert isinstance(view.finite, bool) and view.label
    pos = stepper.position
    assert pos.epoch == 2
    for _ in range(lay.step_of(pos) + 1):  # back across the epoch boundary
        stepper.prev()
    assert stepper.position == Position(epoch=1, phase=Phase.UPDATE, index=5)
    assert stepper.reset() == start


def outcome(make: Any) -> ModelSpec | ModelFileError:
    """The loader's answer; anything but a spec or ModelFileError fails the test."""
    try:
        return make()
    except ModelFileError as err:
        return err


def check_outcome(result: ModelSpec | ModelFileError, allowed: set[str], may_be_valid: bool,
                  doc: dict[str, Any] | None, what: str) -> None:
    if isinstance(result, ModelFileError):
        assert_one_line(result)
        assert result.field in allowed, (what, str(result), allowed)
    else:
        assert may_be_valid, (what, "loaded, but should have been rejected")
        check_usable(result, doc)


# ------------------------------------------------------------------ tests


def test_bounds_are_the_documented_ones() -> None:
    assert (MAX_TEXT, MAX_VOCAB, MAX_DIM) == (5000, 256, 1024)  # as the docstring says


@pytest.mark.parametrize("kind", slow_after(1, MUTATIONS))
@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_one_mutation_names_its_field(kind: str, data: st.DataObject) -> None:
    what, doc, allowed, may_be_valid = data.draw(mutants(kind), label="mutant")
    as_dict = outcome(lambda: validate(_deep(doc), SOURCE))
    check_outcome(as_dict, allowed, may_be_valid, doc, what)
    data = tomli_w.dumps(doc).encode("utf-8")
    as_toml = outcome(lambda: parse_bytes(data, SOURCE))
    check_outcome(as_toml, allowed, may_be_valid, doc, what + " (as TOML)")
    # The file and the dict are the same document: the same answer.
    assert type(as_toml) is type(as_dict), (what, as_dict, as_toml)
    if isinstance(as_dict, ModelSpec):
        assert as_toml == as_dict


@st.composite
def random_docs(draw: st.DrawFn) -> dict[str, Any]:
    """Known keys with plausible or random values, plus random keys."""
    base = draw(valid_docs())
    doc: dict[str, Any] = {}
    for key in TOP_KEYS:
        choice = draw(st.sampled_from(["keep"] * 6 + ["random"] * 3 + ["absent"]))
        if choice == "keep" and key in base:
            doc[key] = base[key]
        elif choice == "random":
            doc[key] = draw(values)
    doc.update(draw(st.dictionaries(any_keys, values, max_size=3)))
    return doc


def fields_of(doc: dict[str, Any]) -> set[str]:
    """Every field an error about this document could name."""
    out = set(KNOWN_FIELDS)
    for key, value in doc.items():
        out.add(toml_key(key))
        if isinstance(value, dict):
            out |= {f"{toml_key(key)}.{toml_key(k)}" for k in value}
    return out


@pytest.mark.slow
@settings(FUZZ, max_examples=200)
@given(random_docs())
def test_random_documents(doc: dict[str, Any]) -> None:
    allowed = fields_of(doc)
    result = outcome(lambda: validate(doc, SOURCE))
    check_outcome(result, allowed, True, doc, "dict")
    try:
        data = tomli_w.dumps(doc).encode("utf-8")
    except (TypeError, ValueError):  # tomli-w cannot write every dict
        return
    as_toml = outcome(lambda: parse_bytes(data, SOURCE))
    check_outcome(as_toml, allowed, True, doc, "TOML")
    assert type(as_toml) is type(result)


@st.composite
def damaged_files(draw: st.DrawFn) -> bytes:
    """A valid model's TOML with bytes cut, inserted, replaced or lines moved."""
    data = bytearray(tomli_w.dumps(draw(valid_docs())).encode("utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["cut", "insert", "replace", "truncate", "swap_lines",
                                    "duplicate_line"]))
        if how == "cut":
            del data[i: i + draw(st.integers(1, 8))]
        elif how == "insert":
            data[i:i] = draw(st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from(
                [b"[", b"]", b"=", b'"', b"\n", b"\x00", b"\xff", b"[init]\n", b"\r", b"#"])))
        elif how == "replace" and i < len(data):
            data[i] = draw(st.integers(0, 255))
        elif how == "truncate":
            del data[i:]
        else:
            lines = bytes(data).split(b"\n")
            a, b = (draw(st.integers(0, len(lines) - 1)) for _ in range(2))
            if how == "swap_lines":
                lines[a], lines[b] = lines[b], lines[a]
            else:
                lines.insert(a, lines[b])
            data = bytearray(b"\n".join(lines))
    return bytes(data)


raw_inputs = st.one_of(
    st.binary(max_size=300),
    st.text(CHARS, max_size=300).map(lambda s: s.encode("utf-8")),
    damaged_files(),
)


@settings(FUZZ, max_examples=200)
@given(raw_inputs)
def test_raw_bytes(data: bytes) -> None:
    result = outcome(lambda: parse_bytes(data, SOURCE))
    if isinstance(result, ModelFileError):
        assert_one_line(result)
    else:
        check_usable(result)


GOOD = CLI_GOOD.encode()  # the small valid model of the CLI tests

# (id, bytes, field (None: the file as a whole), words the line must contain)
HANDMADE: list[tuple[str, bytes, str | None, list[str]]] = [
    ("deep-arrays", b"x = " + b"[" * 100_000 + b"]" * 100_000, None, ["nested too deeply"]),
    ("deep-inline-tables", b"x = " + b"{a = " * 20_000 + b"1" + b"}" * 20_000, None,
     ["nested too deeply"]),
    # tomllib is quadratic in a dotted key's parts (50,000: minutes); refused first.
    ("deep-dotted-key", b".".join([b"a"] * 50_000) + b" = 1\n" + GOOD, None,
     ["more than 16 dotted parts", "line 1"]),
    ("deep-table-header", GOOD + b"[" + b".".join([b"a"] * 500_000) + b"]\n", None,
     ["more than 16 dotted parts", "line 8"]),
    ("deep-quoted-key", b"x = {" + b".".join([b'"a"'] * 50_000) + b" = 1}\n", None,
     ["more than 16 dotted parts"]),
    ("dotted-17", GOOD + b".".join([b"k"] * 17) + b" = 1\n", None, ["16 dotted parts"]),
    ("dotted-16", GOOD + b".".join([b"k"] * 16) + b" = 1\n", "init.k", ["unknown key"]),
    ("dots-in-strings-ok", GOOD.replace(b'"abca"', b'"' + b"a." * 2000 + b'b"').replace(
        b'"tiny"', b"'''" + b"x." * 30 + b"'''") + b"# " + b"y." * 100 + b"\n", None, []),
    ("huge-key", b"k" * 1_000_000 + b" = 1\n" + GOOD, "k" * 37 + "...", ["unknown key"]),
    ("5000-digit-number", GOOD.replace(b"0.5", b"1" * 5000), None, ["too many digits"]),
    ("400-digit-lr", GOOD.replace(b"0.5", b"9" * 400), "learning_rate", ["finite"]),
    ("400-digit-dim", GOOD.replace(b"= 2\nh", b"= " + b"9" * 400 + b"\nh"), "embedding_dim",
     ["<= 1024", "..."]),
    ("float-overflow", GOOD.replace(b"0.5", b"1e999"), "learning_rate", ["finite", "inf"]),
    ("lr-nan", GOOD.replace(b"0.5", b"-nan"), "learning_rate", ["finite"]),
    ("bom", b"\xef\xbb\xbf" + GOOD, None, ["invalid TOML", "line 1"]),
    ("nul-byte", GOOD + b"\x00", None, ["invalid TOML"]),
    ("nul-in-string", GOOD.replace(b"abca", b"ab\x00ca"), None, ["invalid TOML"]),
    ("escaped-nul-in-text", GOOD.replace(b'"abca"', b'"ab\\u0000ca"'), None, []),
    ("latin-1", GOOD.replace(b"tiny", b"t\xefny"), None, ["not UTF-8", "line 1"]),
    ("utf8-surrogate", GOOD.replace(b"tiny", b"t\xed\xa0\x80y"), None, ["not UTF-8"]),
    ("overlong-utf8", GOOD.replace(b"tiny", b"t\xc0\xafy"), None, ["not UTF-8"]),
    ("unterminated-string", b'text = "abc\nembedding_dim = 1\n', None, ["invalid TOML"]),
    ("unterminated-multiline", b'text = """abc\n' * 3, None, ["invalid TOML"]),
    ("duplicate-key", GOOD + b"seed = 2\n", None, ["invalid TOML"]),
    ("table-twice", GOOD + b"[init]\nscale = 1\n", None, ["invalid TOML"]),
    ("bare-cr", GOOD.replace(b"\n", b"\r"), None, ["invalid TOML"]),
    ("crlf-ok", GOOD.replace(b"\n", b"\r\n"), None, []),
    ("only-comments", b"# " + b"x" * 1_000_000 + b"\n", "text", ["missing"]),
    ("empty", b"", "text", ["missing"]),
    ("whitespace", b" \n\t\n", "text", ["missing"]),
    ("text-megabyte", GOOD.replace(b'"abca"', b'"' + b"ab" * 500_000 + b'"'), "text",
     ["at most 5000"]),
    ("text-newlines", GOOD.replace(b'"abca"', b'"""\na\nb\n"""'), None, []),
    ("vocab-space-newline", GOOD.replace(b'text = "abca"', b'text = "a b\\na"\nvocab = " \\nab"'),
     None, []),
    ("vocab-257", GOOD.replace(b"[init]", "vocab = \"{}\"\n[init]".format(
        "".join(chr(0x4E00 + i) for i in range(257))).encode()), "vocab", ["at most 256"]),
    ("array-of-tables-init", GOOD.replace(b"[init]", b"[[init]]"), "init",
     ["expected a table", "list of 1"]),
    ("init-dotted", GOOD.replace(b"[init]\nseed = 1", b"init.seed = 1"), None, []),
    ("10k-unknown-keys", GOOD + b"".join(b"k%d = %d\n" % (i, i) for i in range(10_000)),
     "init.k0", ["unknown key"]),
    ("date-as-lr", GOOD.replace(b"0.5", b"1979-05-27T07:32:00Z"), "learning_rate",
     ["expected a number", "datetime"]),
    ("key-with-newline", GOOD + b'"a\\nb" = 1\n', 'init."a\\nb"', ["unknown key"]),
    ("key-u2028", b'"a\xe2\x80\xa8b" = 1\n' + GOOD, '"a\u2028b"', ["unknown key"]),
    ("empty-key", b'"" = 1\n' + GOOD, '""', ["unknown key"]),
    ("key-with-escape-sequence", b'"\\u001b[2J" = 1\n' + GOOD, '"\\u001b[2J"', ["unknown key"]),
    ("control-in-value", GOOD.replace(b'"tiny"', b'"\\u001b[2J\\u0007"'), None, []),
    ("string-for-matrix", b'text = "ab"\nembedding_dim = 1\nhidden_size = 1\n'
     b'learning_rate = 1\n[init]\nE = "__import__(\'os\')"\nU = [[1]]\nW = [[1]]\nb = [0]\n'
     b"V = [[1], [1]]\nc = [0, 0]\n", "init.E", ["expected a list of rows"]),
]


@pytest.mark.parametrize(("data", "field", "words"), [c[1:] for c in HANDMADE],
                         ids=[c[0] for c in HANDMADE])
def test_handmade_files(data: bytes, field: str | None, words: list[str]) -> None:
    started = time.perf_counter()
    result = outcome(lambda: parse_bytes(data, SOURCE))
    assert time.perf_counter() - started < 20  # linear, not stuck
    if not words and field is None:  # these are valid files
        assert isinstance(result, ModelSpec), str(result)
        check_usable(result)
        return
    assert isinstance(result, ModelFileError), result
    assert_one_line(result)
    assert result.field == field, str(result)
    for word in words:
        assert word in str(result), (word, str(result))


def seeded(text: str, D: int, H: int) -> dict[str, Any]:
    return {"text": text, "embedding_dim": D, "hidden_size": H, "learning_rate": 0.1,
            "init": {"seed": 3}}


WIDE = "".join(chr(0x100 + i) for i in range(MAX_VOCAB))


@pytest.mark.parametrize(("past", "field", "at"), [
    (seeded("ab" * (MAX_TEXT // 2 + 1), 1, 1), "text", seeded("ab" * (MAX_TEXT // 2), 1, 1)),
    (seeded(WIDE + "x", 1, 1), "text", seeded(WIDE, 1, 1)),
    ({**seeded(WIDE[:2], 1, 1), "vocab": WIDE + "x"}, "vocab",
     {**seeded(WIDE[:2], 1, 1), "vocab": WIDE}),
    (seeded("ab", MAX_DIM + 1, 1), "embedding_dim", seeded("ab", MAX_DIM, 1)),
    (seeded("ab", 1, MAX_DIM + 1), "hidden_size", seeded("ab", 1, MAX_DIM)),
], ids=["text", "distinct", "vocab", "D", "H"])
def test_one_past_each_bound_is_rejected(past: dict[str, Any], field: str,
                                          at: dict[str, Any]) -> None:
    with pytest.raises(ModelFileError) as caught:
        validate(past, SOURCE)
    assert caught.value.field == field
    assert_one_line(caught.value)
    validate(at, SOURCE)  # the bound itself is fine


@pytest.mark.slow
def test_a_model_at_every_bound_at_once_loads_and_steps(tmp_path: Path) -> None:
    text = (WIDE * (MAX_TEXT // MAX_VOCAB + 1))[:MAX_TEXT]
    path = tmp_path / "biggest.toml"
    path.write_text(tomli_w.dumps(seeded(text, MAX_DIM, MAX_DIM)), encoding="utf-8")
    spec, _ = load(str(path))
    assert (spec.K, spec.T, spec.embedding_dim, spec.hidden_size) == (
        MAX_VOCAB, MAX_TEXT - 1, MAX_DIM, MAX_DIM)
    started = time.perf_counter()
    stepper = Stepper(spec)
    for _ in range(3):
        stepper.next()
    stepper.next_phase()
    stepper.next_phase()  # into BPTT: term (1, 1) of 12.5 million
    assert stepper.view().term == (1, 1)
    assert time.perf_counter() - started < 60


# -------------------------------------------------------------- real CLI


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-cli")


cli_inputs = st.one_of(
    mutants().map(lambda c: tomli_w.dumps(c[1]).encode("utf-8")),
    damaged_files(),
    st.binary(max_size=100),
)


@pytest.mark.slow
@settings(FUZZ, max_examples=30)
@given(data=cli_inputs)
def test_cli_check(cli_dir: Path, data: bytes) -> None:
    path = cli_dir / "model.toml"
    path.write_bytes(data)
    expected = outcome(lambda: load(str(path))[0])
    r = run("check", str(path), timeout=60)
    assert "Traceback" not in r.stderr, r.stderr
    if isinstance(expected, ModelFileError):
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert r.stderr.splitlines() == [f"rnn-tui: error: {expected}"], r.stderr
        assert r.stdout == ""
    else:
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"{path}: ok\n") and r.stderr == ""
    assert path.read_bytes() == data  # check never touches the file
