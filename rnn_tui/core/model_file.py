"""Model files: TOML in, a validated :class:`ModelSpec` out, or one clear line.

Every way a model file can be wrong ends in :class:`ModelFileError`, whose
``str`` is the one line the CLI prints: ``FILE: FIELD: what is wrong``. The
checks are pydantic's (types, ranges, unknown keys) plus the cross-field ones
only a whole model can answer (shapes against K, D, H; text inside vocab).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.files import ReadError, read_regular
from rnn_tui.core.maths import Params
from rnn_tui.core.model_errors import (
    MAX_KEY_PARTS,
    ModelFileError,
    SpecError,
    by_character,
    describe,
    kind,
    long_key_line,
    one_line,
)
from rnn_tui.core.model_init import (  # noqa: F401  (Matrix, Number, Vector: re-exported)
    DEFAULT_SCALE,
    InitSpec,
    Matrix,
    Number,
    Strict,
    Vector,
    check_names,
    check_shapes,
    initial_cell_params,
)
from rnn_tui.core.params import FILE_ORDER
from rnn_tui.core.text import printable
from rnn_tui.core.train_options import TrainOptions

MAX_VOCAB = 256
MAX_DIM = 1024
MAX_TEXT = 5000
CELL_KINDS = ("rnn", "gru", "lstm")


class BpttSpec(Strict):
    """How BPTT assigns the gradient of E."""

    embedding_rows: Literal["x_k", "x_t"] = "x_k"
    """x_k: the exact gradient; x_t: the handout's printed dE (see docs/handout.md)."""


class ModelSpec(Strict):
    """One model file, validated. K = len(vocab), D, H as named below."""

    name: str = Field(min_length=1, max_length=64)
    """Shown in the header; defaults to the file's stem."""
    text: str = Field(min_length=2, max_length=MAX_TEXT)
    """Training sequence: inputs text[:-1], targets text[1:]."""
    text_file: str | None = Field(default=None, exclude=True)  # a dump has the text inline
    """Where ``text`` was read from (UTF-8, relative to the model file), if not given inline."""
    vocab: str | None = None
    """Order of the one-hot encoding; default: characters by first appearance."""
    embedding_dim: int = Field(ge=1, le=MAX_DIM)
    """D."""
    hidden_size: int = Field(ge=1, le=MAX_DIM)
    """H."""
    cell: Literal["rnn", "gru", "lstm"] = "rnn"
    """The recurrent cell: the handout's RNN, or a GRU or LSTM (docs/cells.md)."""
    learning_rate: Number = Field(gt=0)
    """eta, the SGD step."""
    init: InitSpec
    bptt: BpttSpec = BpttSpec()
    train: TrainOptions = TrainOptions()
    """Optimizer, clipping and truncated BPTT; without it, the handout's training."""

    @field_validator("cell", mode="before")
    @classmethod
    def _known_cell(cls, cell: Any) -> Any:
        if not isinstance(cell, str):
            raise ValueError(f"expected a string, got {kind(cell)}")
        if cell not in CELL_KINDS:
            close = difflib.get_close_matches(cell.lower(), CELL_KINDS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"expected 'rnn', 'gru' or 'lstm', got {printable(repr(cell))}"
                             f"{hint}")
        return cell

    @field_validator("vocab")
    @classmethod
    def _distinct(cls, vocab: str | None) -> str | None:
        if vocab is None:
            return None
        seen: set[str] = set()
        for ch in vocab:
            if ch in seen:
                raise ValueError(f"character {ch!r} appears twice")
            seen.add(ch)
        if len(vocab) < 2:
            raise ValueError(f"needs at least 2 characters, got {len(vocab)}")
        if len(vocab) > MAX_VOCAB:
            raise ValueError(f"at most {MAX_VOCAB} characters, got {len(vocab)}")
        return vocab

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        vocab = self.alphabet
        if self.vocab is None and len(vocab) < 2:
            raise SpecError("text", "needs at least 2 distinct characters (K >= 2)")
        if self.vocab is None and len(vocab) > MAX_VOCAB:
            raise SpecError("text", f"has {len(vocab)} distinct characters, max {MAX_VOCAB}")
        for i, ch in enumerate(self.text):
            if ch not in vocab:
                raise SpecError("text", f"character {ch!r} at position {i} is not in vocab")
        check_names(self.init, self.cell)  # again: a spec built without validate()'s context
        check_shapes(self.init, self.cell, len(vocab), self.embedding_dim, self.hidden_size)
        return self

    @property
    def alphabet(self) -> str:
        """The vocabulary: given, or the text's characters in order of appearance."""
        return self.vocab if self.vocab is not None else "".join(dict.fromkeys(self.text))

    @property
    def K(self) -> int:
        return len(self.alphabet)

    @property
    def T(self) -> int:
        return len(self.text) - 1

    def indices(self) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, targets) as vocabulary indices, each of length T."""
        lookup = {ch: i for i, ch in enumerate(self.alphabet)}
        idx = np.array([lookup[ch] for ch in self.text], dtype=np.intp)
        return idx[:-1], idx[1:]

    def initial_params(self) -> Params:
        """The RNN's: exact values when given; otherwise a reproducible seeded draw."""
        init = self.init
        if self.cell != "rnn":
            raise ValueError(f"a {self.cell} model has no RNN parameters: use "
                             "initial_cell_params()")
        if init.seed is None:
            return Params(**{n: np.array(getattr(init, n), dtype=np.float64) for n in FILE_ORDER})
        return seeded_params(self.K, self.embedding_dim, self.hidden_size, init.seed, init.scale)

    def initial_cell_params(self) -> CellParams:
        """A GRU's or LSTM's: exact values when given; otherwise cells.seeded_params."""
        if self.cell == "rnn":
            raise ValueError("an RNN model has no gated cell: use initial_params()")
        return initial_cell_params(self.init, self.cell, self.K, self.embedding_dim,
                                   self.hidden_size)


def seeded_params(
    K: int, D: int, H: int, seed: int, scale: float | None = None, fan_in: bool = False
) -> Params:
    """N(0, scale^2) draws for E, U, W, V in that order; zero biases.

    With ``fan_in`` (``rnn-tui new`` without --scale) each matrix's scale is
    divided by the square root of its fan-in: U by sqrt(D), W and V by
    sqrt(H) (E, a row lookup, keeps it), so W's spectral radius stays near
    ``scale`` at any H and a large model does not overflow in epoch 1."""
    s = DEFAULT_SCALE if scale is None else scale
    over = (lambda n: s / math.sqrt(n)) if fan_in else (lambda n: s)
    rng = np.random.default_rng(seed)
    E = rng.normal(0.0, s, (K, D))
    U = rng.normal(0.0, over(D), (H, D))
    W = rng.normal(0.0, over(H), (H, H))
    V = rng.normal(0.0, over(H), (K, H))
    return Params(E=E, U=U, W=W, b=np.zeros(H), V=V, c=np.zeros(K))


# ---------------------------------------------------------------- loading


def builtin_dir() -> Path:
    """Where the shipped models live: inside the installed package, or the
    repository's models/ when running from a source checkout."""
    packaged = Path(str(resources.files("rnn_tui"))) / "models"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "models"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.toml"))


def resolve(model: str) -> Path:
    """A path if it looks like one or exists, else a built-in model's name."""
    path = Path(model)
    try:
        exists = path.exists()
    except OSError:  # e.g. a name too long for the file system: reading it says so
        exists = True
    looks_like_path = path.suffix == ".toml" or "/" in model or exists
    if looks_like_path:
        return path
    candidate = builtin_dir() / f"{model}.toml"
    if candidate.is_file():
        return candidate
    names = builtin_names()
    hint = difflib.get_close_matches(model, names, n=1)
    more = f" (did you mean {hint[0]!r}?)" if hint else ""
    raise ModelFileError(
        model,
        None,
        f"no such file, and not a built-in model{more}; built-ins: {', '.join(names)}",
    )


def load(model: str | Path) -> tuple[ModelSpec, Path]:
    """Resolve, read, parse and validate a model; any failure is one line.

    Errors name the file as the user wrote it (or the built-in's path)."""
    path = resolve(str(model))
    source = str(model) if path == Path(str(model)) else str(path)
    spec = parse_bytes(_read(path, source), source, default_name=path.stem, base=path.parent)
    return spec, path


# The largest valid model as `new` writes it (K = 256, D = H = 1,024: 2.6 million
# numbers of up to 24 characters) is about 70 MB; anything past this limit is
# refused before it is read (it would take minutes and gigabytes to parse).
MAX_MODEL_BYTES = 128 * 2**20


def _read(path: Path, source: str) -> bytes:
    try:
        return read_regular(path, MAX_MODEL_BYTES, "a model file")
    except ReadError as err:
        raise ModelFileError(source, None, str(err)) from None
    except FileNotFoundError:
        raise ModelFileError(source, None, "no such file") from None
    except PermissionError:
        raise ModelFileError(source, None, "permission denied") from None
    except OSError as err:
        raise ModelFileError(source, None, f"cannot read: {err.strerror or err}") from None


def parse_bytes(
    data: bytes, source: str, default_name: str = "model", base: Path | None = None
) -> ModelSpec:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ModelFileError(source, None, f"not UTF-8 text (bad byte at line {line})") from None
    line = long_key_line(text)
    if line is not None:
        raise ModelFileError(
            source, None, f"invalid TOML for a model: a key of more than {MAX_KEY_PARTS} "
            f"dotted parts (at line {line})"
        )
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ModelFileError(source, None, f"invalid TOML: {one_line(str(err))}") from None
    except ValueError:  # tomllib's int() refuses a number past Python's digit limit (4300)
        raise ModelFileError(source, None, "invalid TOML: a number with too many digits") from None
    except RecursionError:  # tomllib reads nested arrays and tables recursively
        raise ModelFileError(
            source, None, "invalid TOML: arrays or tables nested too deeply"
        ) from None
    return validate(doc, source, default_name, base)


def validate(
    doc: dict[str, Any], source: str, default_name: str = "model", base: Path | None = None
) -> ModelSpec:
    """``base``: the directory a ``text_file`` is relative to (default: the current one)."""
    data = doc if "name" in doc else {"name": default_name[:64] or "model", **doc}
    from_file = data.get("text_file") is not None
    if from_file:
        data = {**data, "text": read_text_file(data, source, base or Path("."))}
    try:
        return ModelSpec.model_validate(data, context={"cell": data.get("cell", "rnn")})
    except ValidationError as err:
        field, message = describe(err, ModelSpec)
        message = by_character(field, message, data)
        if from_file and field == "text":  # the text is the file's: name the file
            field, message = "text_file", f"{printable(data['text_file'])}: {message}"
        raise ModelFileError(source, field, message) from None


def read_text_file(doc: dict[str, Any], source: str, base: Path) -> str:
    """The training text of ``text_file`` (UTF-8, relative to ``base``), or one line."""
    name = doc["text_file"]
    if "text" in doc:
        raise ModelFileError(source, "text_file", "give text or text_file, not both")
    if not isinstance(name, str):
        raise ModelFileError(source, "text_file", f"expected a string, got {kind(name)}")
    if not name:
        raise ModelFileError(source, "text_file", "needs a file name")
    path = base / name

    def fail(why: str) -> ModelFileError:
        return ModelFileError(source, "text_file", f"{printable(str(path))}: {why}")

    try:  # UTF-8 takes at most 4 bytes a character
        data = read_regular(path, 4 * MAX_TEXT, "a text file")
    except ReadError as err:
        raise fail(str(err)) from None
    except FileNotFoundError:
        raise fail("no such file") from None
    except PermissionError:
        raise fail("permission denied") from None
    except (OSError, ValueError) as err:  # ValueError: a NUL in the name
        raise fail(f"cannot read: {getattr(err, 'strerror', None) or err}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise fail(f"not UTF-8 text (bad byte at line {line})") from None
