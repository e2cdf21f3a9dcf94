"""Model files' error wording and the guards that run before TOML parsing.

:class:`ModelFileError` is the one line the CLI prints for a bad model file
(``FILE: FIELD: what is wrong``); :func:`describe` turns pydantic's first
error into that field and message; :func:`long_key_line` refuses keys that
would make tomllib take minutes. model_file.py uses these; so can anything
that reports on a model file.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from rnn_tui.core.text import char, printable


class ModelFileError(Exception):
    """A model file (or model name) that cannot be used; str() is one line."""

    def __init__(self, source: str, field: str | None, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}" if field else source
        super().__init__(printable(f"{where}: {message}"))


class SpecError(ValueError):
    """Raised inside validators to name the exact field that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:17] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, (int, float)):
        return f"a number ({show(value)})"
    return type(value).__name__


def show(value: Any, limit: int = 40) -> str:
    """repr, shortened: a huge number or a long text stays readable (and a
    whole number past Python's digit limit does not make repr raise)."""
    try:
        text = repr(value)
    except ValueError:
        return "a whole number with thousands of digits"
    return text if len(text) <= limit else text[: limit - 3] + "..."



# tomllib takes time quadratic in the parts of one dotted key (a.b.c... = 1,
# [a.b.c...], {a.b.c... = 1}): 50,000 parts, a 100 kB file, take minutes. A
# model's keys have at most 2 parts (init.E), so longer keys are refused first.
MAX_KEY_PARTS = 16
_PART = r"""(?:[\w-]++|"[^"\n]*+"|'[^'\n]*+')"""
_LONG_KEY = re.compile(rf"(?<![\w-]){_PART}(?:[ \t]*+\.[ \t]*+{_PART}){{{MAX_KEY_PARTS}}}")
_TWO_DOTS = re.compile(rf"\.[ \t]*+{_PART}[ \t]*+\.")  # a key of 3 parts or more, or a string
# Strings and comments, each alternative always matching once started (an
# unterminated string runs to its end), so one pass is linear.
_STRING_OR_COMMENT = re.compile(
    r'"""(?:[^"\\]++|\\[\s\S]?|"(?!""))*+(?:"""|\Z)|'
    r"'''[\s\S]*?(?:'''|\Z)|"
    r'"(?:[^"\\\n]++|\\[^\n]?)*+"?|'
    r"'[^'\n]*+'?|"
    r"#[^\n]*+"
)


def long_key_line(text: str) -> int | None:
    """The line of a key with more than MAX_KEY_PARTS dotted parts, if any."""
    if _TWO_DOTS.search(text) is None:  # a quick search settles almost every file
        return None

    def mask(m: re.Match[str]) -> str:  # keep the newlines, for the line number
        return "" if m.group().startswith("#") else "s" + "\n" * m.group().count("\n")

    found = _LONG_KEY.search(_STRING_OR_COMMENT.sub(mask, text))
    return None if found is None else found.string[: found.start()].count("\n") + 1


def describe(err: ValidationError, root: type[BaseModel]) -> tuple[str, str]:
    """The first error, in the user's words: (dotted field, what is wrong)."""
    e = err.errors(include_url=False)[0]
    loc = [str(p) for p in e["loc"] if not isinstance(p, int)]
    field = ".".join(_key(p) for p in loc)
    cause = (e.get("ctx") or {}).get("error")
    if isinstance(cause, SpecError):
        return cause.field, str(cause)
    error_type = e["type"]
    if error_type == "missing":
        return field, "missing (required)" + _misspelt(loc, err)
    if error_type == "extra_forbidden":
        *parent, key = loc
        return field, _unknown_key(key, parent, root)
    if error_type in ("model_type", "model_attributes_type", "dict_type"):
        return field, f"expected a table, got {kind(e['input'])}"
    if error_type in ("string_type",):
        return field, f"expected a string, got {kind(e['input'])}"
    if error_type in ("int_type", "int_from_float", "int_parsing"):
        return field, f"expected a whole number, got {kind(e['input'])}"
    if error_type == "literal_error":
        return field, f"expected one of {e['ctx']['expected']}, got {show(e['input'])}"
    if error_type in ("string_too_short", "string_too_long"):
        limit = e["ctx"].get("min_length", e["ctx"].get("max_length"))
        word = "at least" if error_type == "string_too_short" else "at most"
        return field, f"needs {word} {limit} characters, got {len(e['input'])}"
    if error_type in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
              "less_than_equal": "<="}[error_type]
        limit = next(iter(e["ctx"].values()))
        return field, f"must be {op} {limit}, got {show(e['input'])}"
    message = e["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return field, one_line(message)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(part: str, limit: int = 40) -> str:
    """A key as TOML writes it: bare, or quoted (an empty key, a key with a
    dot, a space or a newline in it); a very long one shortened."""
    shown = part if len(part) <= limit else part[: limit - 3] + "..."
    return shown if _BARE_KEY.fullmatch(part) else json.dumps(shown, ensure_ascii=False)


def _allowed_keys(parent: Sequence[str], root: type[BaseModel]) -> list[str]:
    model = root
    for part in parent:
        annotation = model.model_fields[part].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return list(model.model_fields)


def _misspelt(loc: Sequence[str], err: ValidationError) -> str:
    """"; did you mean 'hidden_size' for 'hiden_size'?" when a key unknown
    next to the missing one is close to it; else ""."""
    *parent, key = loc
    for e in err.errors(include_url=False):
        other = [str(p) for p in e["loc"] if not isinstance(p, int)]
        if e["type"] == "extra_forbidden" and other[:-1] == parent and \
                difflib.get_close_matches(other[-1], [key], n=1):
            return f"; did you mean {key!r} for {_key(other[-1])!r}?"
    return ""


def _unknown_key(key: str, parent: Sequence[str], root: type[BaseModel]) -> str:
    allowed = _allowed_keys(parent, root)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    where = f"[{'.'.join(parent)}]" if parent else "the top level"
    return f"unknown key; {hint}allowed in {where}: {', '.join(allowed)}"


def one_line(text: str) -> str:
    return " ".join(text.split())


_BY_CHARACTER = {"init.E": re.compile(r"\brow (\d+)\b"), "init.V": re.compile(r"\brow (\d+)\b"),
                 "init.c": re.compile(r"^entry \[(\d+)\]")}


def by_character(field: str, message: str, doc: dict[str, Any]) -> str:
    """The message with the rows of E and V and the entries of c, which are
    the vocabulary's characters, named as the screen names them: ``row 'e'
    (2)``, ``entry 'l' (3)`` (1-based), when the vocabulary is known."""
    found = _BY_CHARACTER.get(field)
    vocab = doc.get("vocab") if doc.get("vocab") is not None else doc.get("text")
    if found is None or not isinstance(vocab, str):
        return message
    alphabet = "".join(dict.fromkeys(vocab))

    def name(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if not 1 <= n <= len(alphabet):
            return m.group()
        word = m.group().split()[0]
        return f"{word} {char(alphabet[n - 1])!r} ({n})"

    return found.sub(name, message)
