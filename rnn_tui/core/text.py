"""The one way numbers and user text become characters.

Everything that shows a number (the TUI, the text trace, ``train``, export,
the why view, the quiz, gradcheck) formats it with :func:`fmt`; everything
that shows a string the user controls (a model name, a file name, a
vocabulary character, an error message) passes it through :func:`printable`
or :func:`char`, so that no escape sequence, bidi override or line break in
it ever reaches the terminal.
"""

from __future__ import annotations

import functools
import math
import unicodedata

import numpy as np
from numpy.typing import NDArray

PLACES = 4


@functools.lru_cache(maxsize=1 << 14)
def fmt(x: float) -> str:
    """The handout's 4 decimals; magnitudes from 1e5 in scientific notation;
    ``NaN``, ``inf``, ``-inf`` spelled out; never ``-0.0000``.

    Memoised: a screen formats the same numbers many times over (eliding a
    long vector first measures a sample of its cells, a formula line is tried
    at several widths), and a key changes few of them."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if abs(x) >= 1e5:
        return f"{x:.3e}"
    s = f"{x:.{PLACES}f}"
    return s[1:] if s.startswith("-") and float(s) == 0.0 else s


def padded(x: float) -> str:
    """:func:`fmt` with a space where a minus sign would be: a column of
    numbers lines up whatever their signs, and a number keeps its columns
    from one step to the next."""
    s = fmt(float(x))
    return s if s.startswith("-") else " " + s


def aligned(values: NDArray[np.float64], width: int = 0) -> list[str]:
    """The values :func:`padded`, right-aligned to one width (the widest, or
    ``width`` if wider): the columns of a matrix line up row under row
    (``[ 0.8175  0.4613]`` over ``[-0.3599 -0.4824]``)."""
    cells = [padded(float(v)) for v in np.ravel(values)]
    w = max([width, *map(len, cells)])
    return [c.rjust(w) for c in cells]


def vec(a: NDArray[np.float64]) -> str:
    """``[a b c]``, every entry (for text output, not fitted to a width)."""
    return "[" + " ".join(fmt(float(v)) for v in np.ravel(a)) + "]"


def mat(a: NDArray[np.float64]) -> str:
    """A matrix on one line, rows split by ``;``."""
    if a.ndim == 1:
        return vec(a)
    return "[" + "; ".join(" ".join(fmt(float(v)) for v in row) for row in a) + "]"


VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥"}


def _escape(ch: str) -> str:
    o = ord(ch)
    return f"\\x{o:02x}" if o < 256 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def _unsafe(ch: str) -> bool:
    """Control, format (bidi overrides, zero-width), separator and unassigned
    characters: what could move the cursor, reorder text or hide it."""
    return not ch.isprintable() or unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cs", "Cn")


def char(c: str) -> str:
    """A vocabulary character as the screen shows it: blanks visible, control
    and format characters escaped."""
    if c in VISIBLE:
        return VISIBLE[c]
    return _escape(c) if _unsafe(c) else c


def printable(text: str) -> str:
    """User text on one line, safe for a terminal: control characters
    (ESC, BEL, CR, LF, ...), bidi overrides and other format characters are
    written as ``\\x1b``-style escapes; everything else is kept."""
    if text.isprintable() and not any(_unsafe(ch) for ch in text):
        return text
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in text)


def fmt_apart(a: float, b: float) -> tuple[str, str]:
    """Two numbers by :func:`fmt`'s rules, with as many more digits as it
    takes for two different numbers to look different (``expected 0.0123,
    got 0.0123`` would say nothing)."""
    sa, sb = fmt(a), fmt(b)
    if sa != sb or a == b or not (math.isfinite(a) and math.isfinite(b)):
        return sa, sb
    for places in range(PLACES + 1, 21):
        if max(abs(a), abs(b)) >= 1e5:
            sa, sb = f"{a:.{places - 1}e}", f"{b:.{places - 1}e}"
        else:
            sa, sb = f"{a:.{places}f}", f"{b:.{places}f}"
        if sa != sb:
            return sa, sb
    return repr(a), repr(b)


@functools.lru_cache(maxsize=1 << 14)
def sci(x: float) -> str:
    """A magnitude in two significant digits, for numbers that span many
    decades (the BPTT norms of issue 17's triangles): ``1.2e-3``, ``3.4e0``,
    ``5.0e12``; ``0``, ``NaN``, ``inf``, ``-inf`` as :func:`fmt` spells them."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


SMALL = 1e-3  # below it, fmt's 4 decimals show a number's first digit at most


def factored(a: NDArray[np.float64]) -> tuple[str, NDArray[np.float64]]:
    """``("1e-5·", a / 1e-5)`` when every entry of ``a`` is finite and the
    largest is nonzero but below 1e-3 (Adam's v is ~1e-5: :func:`fmt` would
    show ``0.0000``): a power of ten factored out, so that the entries keep
    their digits (``1e-5·[ 1.2345  0.0213]``); else ``("", a)``."""
    top = float(np.max(np.abs(a))) if np.size(a) else 0.0
    if not (0.0 < top < SMALL) or not np.all(np.isfinite(a)):
        return "", a
    e = math.floor(math.log10(top))
    return f"1e{e}·", a / 10.0**e


def json_number(x: float) -> float | str:
    """A float for JSON at full precision (repr); JSON has no NaN or inf, so
    they are named as JavaScript and the trace files name them."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def json_array(a: NDArray[np.float64]) -> list[object]:
    """An array as nested JSON lists of json_number."""
    return [json_array(r) for r in a] if a.ndim > 1 else [json_number(float(v)) for v in a]
