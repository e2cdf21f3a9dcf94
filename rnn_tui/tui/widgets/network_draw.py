"""The unrolled network as a lecturer draws it, as a pure function.

:func:`draw` turns a :class:`Scene` (what to draw: labels per step, the
phase, the step in focus, the BPTT term, the parameter being updated) and a
size into Rich Text lines, one per row, no line wider than the width::

    L_1 1.3904   L_2 1.3950 ◀ ...          a column per step t, h_0 at the left
      ▲            ┃
    ŷ_1 'h' ✗    ŷ_2 'h' ✗
      ▲ V          ┃ V
    h_0 ──W──▶ h_1 ━━W━━▶ h_2 ──W──▶ …     ━: the path of the current BPTT term
    0.0000     0.0111       0.0538
      ▲ U          ▲ U
    x_1 'h'      x_2 'e'

Labels are placed whole or not at all: when the columns do not fit, the
labels get shorter (values only, then marks only), then a window of columns
around the step in focus is shown with ``…`` at the sides. Below 8 rows the
arrow rows go first, then the values; at 1 row only the chain of h_t is
left. Styles are the semantic names of :mod:`numbers` (themed by the panel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

from rich.cells import cell_len
from rich.text import Span, Text

from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.stepper import Phase
from rnn_tui.tui.widgets.numbers import CHANGED, CURRENT, LABEL, MUTED, NONFINITE, RIGHT, WRONG

ELLIPSIS = "…"
MAX_COLUMN = 20  # columns wider than this look sparse: the rest of the row stays blank


@dataclass(frozen=True)
class Step:
    """What the picture shows of step t (strings as the screen shows them)."""

    x: str  # the input character x°_t, through core.text.char
    y: str  # the predicted character (argmax of ŷ_t)
    ok: bool  # the prediction is the target y_t
    h: str  # h_t's value: fmt(h_t) when H = 1, else ‖h_t‖ (Scene.norm)
    loss: str  # fmt(L_t)


@dataclass(frozen=True)
class Scene:
    """Everything :func:`draw` needs; build it with ``network.scene_of(view)``."""

    steps: tuple[Step, ...]  # t = 1..T
    h0: str = "0.0000"  # h_0's value label
    computed: int = 0  # steps 1..computed have values (the forward pass so far)
    phase: Phase = Phase.FORWARD
    t: int = 1  # the step in focus (BPTT: the term's t)
    k: int = 0  # BPTT: the term (t, k); 0 otherwise
    param: str = ""  # update: the parameter being updated (V, c, W, U, b, E)
    optimizer: str = "sgd"  # [train] optimizer: the update caption's rule
    clipped: bool = False  # [train] clips the gradients before the update
    norm: bool = False  # h labels are norms ‖h_t‖ (H > 1)

    @property
    def T(self) -> int:
        return len(self.steps)


Piece = tuple[str, str]  # (text, style)

# Row kinds, top to bottom: L_t, its arrow, ŷ_t, V's arrow, the chain of h_t,
# h_t's values, U's arrow, x_t, a caption. Which rows a height gets:
ROWS: dict[int, tuple[str, ...]] = {
    1: ("h",),
    2: ("h", "x"),
    3: ("y", "h", "x"),
    4: ("L", "y", "h", "x"),
    5: ("L", "y", "h", "v", "x"),
    6: ("L", "y", "aV", "h", "v", "x"),
    7: ("L", "y", "aV", "h", "v", "aU", "x"),
    8: ("L", "aL", "y", "aV", "h", "v", "aU", "x"),
    9: ("L", "aL", "y", "aV", "h", "v", "aU", "x", "cap"),
}
LABELLED = ("L", "y", "v", "x")


def _bad(value: str) -> bool:
    return "NaN" in value or "inf" in value


def _value(value: str, style: str) -> Piece:
    return (value, NONFINITE if _bad(value) else style)


class _Draw:
    """One drawing: the scene, the rows, and the styles of each column."""

    def __init__(self, scene: Scene, width: int, height: int,
                 widths: dict[tuple[str, int, int, bool], int] | None = None) -> None:
        self.s = scene
        self.widths = {} if widths is None else widths  # see width_of
        self.width = width
        self.rows = ROWS[max(1, min(height, 9))]
        self.height = height
        T = scene.T
        self.t = max(1, min(scene.t, T))
        self.k = max(1, min(scene.k, self.t)) if scene.phase is Phase.BPTT else 0

    # ----------------------------------------------------------- styles

    def on_path(self, t: int) -> bool:
        """h_t lies on the path of the current BPTT term (h_t, ..., h_k)."""
        return self.k > 0 and self.k <= t <= self.t

    def base(self, t: int, kind: str) -> str:
        """The style of the label of row ``kind`` in column t."""
        if t > self.s.computed:
            return MUTED
        ph, focus = self.s.phase, t == self.t
        if ph is Phase.FORWARD and focus:
            return CHANGED
        if ph in (Phase.OUTPUT, Phase.BPTT) and focus and kind in "Ly":
            return CHANGED
        return CHANGED if kind == "v" and self.on_path(t) else ""

    def arrow_style(self, kind: str, t: int) -> str:
        """The style of the arrow into a node of column t: "W" (h_{t-1} →
        h_t), "U" (x_t → h_t), "V" (h_t → ŷ_t), "L" (ŷ_t → L_t)."""
        if t > self.s.computed:
            return MUTED
        ph, focus = self.s.phase, t == self.t
        if ph is Phase.FORWARD and focus and kind in "WU":
            return CHANGED
        if ph is Phase.OUTPUT and focus and kind in "VL":
            return CHANGED
        if ph is Phase.BPTT and (
            (kind == "W" and self.k < t <= self.t)
            or (kind == "U" and t == self.k)
            or (kind in "VL" and t == self.t)
        ):
            return CHANGED
        return ""

    def heavy(self, kind: str, t: int) -> bool:
        """Drawn ━/┃: the backward path of the term, or δ_t in output."""
        ph = self.s.phase
        if ph is Phase.BPTT:
            return self.arrow_style(kind, t) == CHANGED
        return ph is Phase.OUTPUT and kind in "VL" and t == self.t

    def letter(self, name: str) -> str:
        return CURRENT if self.s.phase is Phase.UPDATE and self.s.param == name else ""

    # ----------------------------------------------------------- labels

    def label(self, kind: str, t: int, level: int) -> list[Piece]:
        """The label of row ``kind`` in column t at a level of detail:
        0 names and values, 1 values only, 2 marks only."""
        st = self.s.steps[t - 1]
        base = self.base(t, kind)
        done = t <= self.s.computed
        if kind == "L":
            if not done:
                return [(f"L_{t}", MUTED)] if level == 0 else []
            if level == 2:
                return []
            head = [(f"L_{t} ", base)] if level == 0 else []
            return [*head, _value(st.loss, base)]
        if kind == "y":
            if not done:
                return [(f"ŷ_{t}", MUTED)] if level == 0 else []
            mark = ("✓", RIGHT) if st.ok else ("✗", WRONG)
            if self.s.phase is Phase.OUTPUT and t == self.t:
                base = CURRENT
            if level == 2:
                return [mark]
            head = f"ŷ_{t} " if level == 0 else ""
            return [(f"{head}'{st.y}'", base), (" ", ""), mark]
        if kind == "v":
            if not done or level == 2:
                return []
            return [_value(st.h, base)]
        if kind == "x":
            style = MUTED if not done else CHANGED if self.arrow_style("U", t) == CHANGED else ""
            if level == 2:
                return [(st.x, style)]
            head = f"x_{t} " if level == 0 else ""
            return [(f"{head}'{st.x}'", style)]
        return []

    def node_style(self, t: int) -> str:
        ph = self.s.phase
        if t > self.s.computed:
            return MUTED
        if (ph is Phase.FORWARD and t == self.t) or (ph is Phase.BPTT and t == self.k):
            return CURRENT
        return CHANGED if self.on_path(t) else LABEL if t == 0 else ""

    def width_of(self, kind: str, t: int, level: int) -> int:
        """The label's cells: its text (not its style) depends only on the
        step's strings and on whether the step is computed, so a caller that
        keeps the scene's steps may keep these too (``widths``)."""
        key = (kind, t, level, t <= self.s.computed)
        got = self.widths.get(key)
        if got is None:
            got = self.widths[key] = sum(cell_len(text) for text, _ in self.label(kind, t, level))
        return got

    # ----------------------------------------------------------- geometry

    def column(self, level: int, ts: Sequence[int]) -> int:
        """The column width at a level for columns ``ts``: the widest label
        and two spaces, and room for ``h_t ──W──▶`` (``h_t ─▶`` at level 2)."""
        node = cell_len(f"h_{self.s.T}")
        arrow = 5 if level == 0 else 2
        widest = max(
            (self.width_of(kind, t, level) for kind in self.rows if kind in LABELLED
             for t in ts),
            default=0,
        )
        if "v" in self.rows and 1 in ts and level < 2:
            widest = max(widest, cell_len(self.s.h0))
        return max(widest + 2, node + 2 + arrow)

    def window(self, n: int) -> tuple[int, int]:
        """Columns lo..hi (n of them) around the step in focus: the whole
        path of a BPTT term when it fits, else t at the right."""
        T = self.s.T
        if n >= T:
            return 1, T
        if self.k and self.t - self.k + 1 <= n:
            lo = (self.t + self.k) // 2 - (n - 1) // 2
            lo = min(max(lo, self.t - n + 1), self.k)
        elif self.k:
            lo = self.t - n + 1
        else:
            lo = self.t - (n - 1) // 2
        lo = max(1, min(lo, T - n + 1))
        return lo, lo + n - 1

    def layout(self, avail: int) -> tuple[int, int, int, int, int]:
        """(level, column width, first column's offset, lo, hi)."""
        T, t = self.s.T, self.t
        near = range(max(1, t - avail // 4 - 1), min(T, t + avail // 4 + 1) + 1)
        if self.k and t - self.k <= avail:  # the whole path may fit: size for it too
            near = range(max(1, min(near.start, self.k)), near.stop)
        want = min(T, 3)
        for level in (0, 1, 2):
            cw = self.column(level, near)
            if cw * (T + 1) - 1 <= avail:  # everything, with h_0
                return level, cw, cw, 1, T
            n = (avail - cw - 1) // cw
            if n >= want or level == 2:
                break
        w0 = cw
        n = max(1, n)
        lo, hi = self.window(n)
        if w0 + n * cw + 1 > avail:  # very narrow: "… ─▶ " or "h_0 ─▶ " first
            w0 = 7 if lo == 1 else 5
        return level, cw, w0, lo, hi


class _Canvas:
    """Rows of cells; a wide character takes its cell and blanks the next."""

    def __init__(self, rows: int, width: int) -> None:
        self.width = width
        self.chars = [[" "] * width for _ in range(rows)]
        self.styles = [[""] * width for _ in range(rows)]

    def fits(self, x: int, pieces: Sequence[Piece]) -> bool:
        return x >= 0 and x + sum(cell_len(t) for t, _ in pieces) <= self.width

    def put(self, row: int, x: int, pieces: Sequence[Piece]) -> None:
        """Write pieces at x, or nothing if they do not fit whole."""
        if not self.fits(x, pieces):
            return
        for text, style in pieces:
            if text.isascii() and text.isprintable():  # one cell a character
                self.chars[row][x:x + len(text)] = text
                self.styles[row][x:x + len(text)] = [style] * len(text)
                x += len(text)
                continue
            for ch in text:
                w = cell_len(ch)
                self.chars[row][x] = ch
                self.styles[row][x] = style
                for i in range(1, w):
                    self.chars[row][x + i] = ""
                x += w

    def text(self, row: int) -> Text:
        chars, styles = self.chars[row], self.styles[row]
        end = len(chars)
        while end and chars[end - 1] == " " and not styles[end - 1]:
            end -= 1
        spans: list[Span] = []
        at = 0
        narrow = "" not in chars[:end]  # else a wide character: the cell after it is ""
        for style, run in groupby(zip(chars[:end], styles[:end], strict=True), itemgetter(1)):
            cells = [ch for ch, _ in run]
            n = len(cells) if narrow else len("".join(cells))
            if style:
                if spans and spans[-1].end == at and spans[-1].style == style:
                    spans[-1] = Span(spans[-1].start, at + n, style)
                else:
                    spans.append(Span(at, at + n, style))
            at += n
        return Text("".join(chars[:end]), spans=spans)


def _legend(d: _Draw, kind: str) -> list[Piece]:
    """The formula beside a row, its parameters marked during their update."""
    L = d.letter
    if kind == "L":
        return [("L_t = −ln ŷ_t[y_t]", LABEL)]
    if kind == "y":
        return [("ŷ_t = softmax(", LABEL), ("V", L("V") or LABEL), (" h_t + ", LABEL),
                ("c", L("c") or LABEL), (")", LABEL)]
    if kind == "h":
        return [("h_t = tanh(", LABEL), ("U", L("U") or LABEL), (" x_t + ", LABEL),
                ("W", L("W") or LABEL), (" h_{t−1} + ", LABEL), ("b", L("b") or LABEL),
                (")", LABEL)]
    if kind == "v" and d.s.norm:
        return [("‖h_t‖: the norm of h_t", LABEL)]
    if kind == "x":
        return [("x_t = x°_t ", LABEL), ("E", L("E") or LABEL)]
    return []


def _captions(d: _Draw) -> list[list[Piece]]:
    """What the picture shows now, longest first; the first that fits is used."""
    s, t, k = d.s, d.t, d.k
    if s.phase is Phase.BPTT:
        path = f"L_{t} → h_{t}" + (f" → h_{t - 1}" if t - 1 >= k else "")
        path += (" → …" if t - 2 > k else "") + (f" → h_{k}" if t - 1 > k else "")
        return [[("━", CHANGED), (f" the path of term ({t}, {k}): {path} ← U x_{k}", LABEL)],
                [("━", CHANGED), (f" term ({t}, {k})", LABEL)]]
    if s.phase is Phase.FORWARD:
        return [[(f"forward t={t}: h_{t} = tanh(U x_{t} + W h_{t - 1} + b), ŷ_{t}, L_{t}"
                  f"{'; later steps not computed yet' if t < s.T else ''}", LABEL)],
                [(f"forward t={t}", LABEL)]]
    if s.phase is Phase.OUTPUT:
        return [[(f"output gradient t={t}: δ_{t} = ŷ_{t} − y_{t}; "
                  f"dV += δ_{t} h_{t}ᵀ, dc += δ_{t}", LABEL)], [(f"δ_{t}", LABEL)]]
    p = s.param
    i = UPDATE_ORDER.index(p) if p in UPDATE_ORDER else 0
    done, later = " ".join(UPDATE_ORDER[:i]) or "none", " ".join(UPDATE_ORDER[i + 1:]) or "none"
    step = {"sgd": f"η d{p}", "momentum": "η v", "adagrad": f"η d{p}/√(m + 1e-8)",
            "adam": "η m̂/(√v̂ + ε)"}.get(s.optimizer, f"η d{p}")
    rule: list[Piece] = [("update ", LABEL), (p, CURRENT),
                         (f" ← {p} − {step}{' (d' + p + ' clipped)' if s.clipped else ''}", LABEL)]
    return [[*rule, (f"   updated: {done} · next: {later}", LABEL)], rule,
            [("update ", LABEL), (p, CURRENT)]]


def draw(scene: Scene, width: int, height: int,
         widths: dict[tuple[str, int, int, bool], int] | None = None) -> list[Text]:
    """The picture of ``scene`` in at most ``height`` lines of at most
    ``width`` cells. Never raises for a scene with T >= 1. ``widths``: the
    label widths of earlier drawings of scenes with the same steps (kept by
    the caller, filled in here)."""
    width, height = max(1, width), max(1, height)
    if scene.T == 0:
        return [Text("no steps", style=MUTED)][:height]
    d = _Draw(scene, width, height, widths)
    level, cw, w0, lo, hi = d.layout(width)
    T = scene.T
    used = w0 + (hi - lo + 1) * cw - 1 + (2 if hi < T else 0)
    # The formulas beside the rows, when the whole sequence fits with them.
    legend = {kind: _legend(d, kind) for kind in d.rows}
    lw = max((sum(cell_len(t) for t, _ in p) for p in legend.values()), default=0)
    show_legend = lo == 1 and hi == T and used + 3 + lw <= width
    if lo == 1 and hi == T:  # spread the columns over the room there is
        room = width - (lw + 3 if show_legend else 0)
        cw = max(cw, min(MAX_COLUMN, (room + 1) // (T + 1)))
        w0 = cw
        used = w0 + T * cw - 1
    canvas = _Canvas(len(d.rows), width)
    row_of = {kind: i for i, kind in enumerate(d.rows)}
    levels = range(level, 3)

    def anchor(t: int) -> int:
        return w0 + (t - lo) * cw

    def arrow(row: int, x0: int, x1: int, t: int) -> None:
        """h_{t-1} → h_t from cell x0 to x1 (inclusive), ▶ at x1."""
        style = d.arrow_style("W", t)
        bar = "━" if d.heavy("W", t) else "─"
        n = x1 - x0 + 1
        if n < 1:
            return
        cells = [bar] * (n - 1) + ["▶"]
        if n >= 3 and level < 2:
            cells[(n - 1) // 2] = "W"
        for i, ch in enumerate(cells):
            style_i = d.letter("W") if ch == "W" and d.letter("W") else style
            canvas.put(row, x0 + i, [(ch, style_i)])

    for kind, row in row_of.items():
        if kind == "h":
            first = ("h_0", d.node_style(0)) if lo == 1 else (ELLIPSIS, MUTED)
            canvas.put(row, 0, [first])
            prev_end = cell_len(first[0])
            for t in range(lo, hi + 1):
                x = anchor(t)
                arrow(row, prev_end + 1, x - 2, t)
                node = f"h_{t}"
                canvas.put(row, x, [(node, d.node_style(t))])
                prev_end = x + cell_len(node)
            if hi < T:
                x = anchor(hi + 1)
                x = min(x, width - 1)
                arrow(row, prev_end + 1, x - 2, hi + 1)
                canvas.put(row, x, [(ELLIPSIS, MUTED)])
        elif kind in ("aL", "aV", "aU"):
            what = kind[1]
            for t in range(lo, hi + 1):
                style = d.arrow_style(what, t)
                bar = "┃" if d.heavy(what, t) else "▲"
                pieces: list[Piece] = [(bar, style)]
                if what != "L":
                    pieces += [(" ", ""), (what, d.letter(what) or style or LABEL)]
                canvas.put(row, anchor(t) + 1, pieces)
        elif kind in LABELLED:
            if kind == "v" and lo == 1 and level < 2:
                canvas.put(row, 0, [_value(scene.h0, LABEL)])
            for t in range(lo, hi + 1):
                room = cw - 1 if t < hi or hi < T else width - anchor(t)
                for lv in levels:  # the most detailed label that fits whole
                    pieces = d.label(kind, t, lv)
                    if sum(cell_len(p) for p, _ in pieces) <= room:
                        canvas.put(row, anchor(t), pieces)
                        break
        elif kind == "cap":
            for pieces in _captions(d):
                if canvas.fits(0, pieces):
                    canvas.put(row, 0, pieces)
                    break
        if show_legend and legend.get(kind):
            canvas.put(row, width - lw, legend[kind])
    lines = [canvas.text(i) for i in range(len(d.rows))]
    pad = (height - len(lines)) // 2
    return [Text("") for _ in range(pad)] + lines
