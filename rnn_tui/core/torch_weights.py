"""PyTorch weights in and out, as data only: safetensors files, read and
written with the ``safetensors`` package's NumPy API (never ``torch.load``,
never pickle; torch itself is not needed).

The network is ``nn.Embedding(K, D)`` + ``nn.RNN(D, H)`` (tanh, one layer,
unidirectional; batch_first does not change the weights) + ``nn.Linear(H, K)``.
PyTorch's nn.RNN computes, with row vectors,

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

which with column vectors is the handout's h_t = tanh(U x_t + W h_{t-1} + b)
for U = W_ih, W = W_hh and b = b_ih + b_hh. nn.Embedding's row c is x_t for
character c (E), and nn.Linear computes h V^T + c (V = weight, c = bias).

Tensors are found by the last part of their names and by their shapes,
whatever the modules are called (``emb.weight``, ``model.rnn.weight_ih_l0``);
a prefix chooses between two candidates that fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.maths import Array, Params
from rnn_tui.core.model_file import MAX_DIM, validate
from rnn_tui.core.model_init import file_order
from rnn_tui.core.model_writer import model_toml
from rnn_tui.core.text import printable

# rnn-tui's symbol -> the tensor export-torch writes (bias_hh_l0 is written as zeros).
TORCH_NAMES = {
    "E": "embedding.weight",
    "U": "rnn.weight_ih_l0",
    "W": "rnn.weight_hh_l0",
    "b": "rnn.bias_ih_l0",
    "V": "linear.weight",
    "c": "linear.bias",
}
ZERO_BIAS = "rnn.bias_hh_l0"
FLOAT_DTYPES = {"F16": "float16", "F32": "float32", "F64": "float64"}
METADATA = {"format": "pt", "nonlinearity": "tanh", "written_by": "rnn-tui export-torch"}


class InteropError(Exception):
    """A weights file that cannot be used; str() is one line naming the file
    and, where there is one, the tensor."""

    def __init__(self, source: str | Path, tensor: str | None, message: str) -> None:
        where = f"{source}: {tensor}" if tensor else str(source)
        super().__init__(printable(f"{where}: {message}"))


@dataclass(frozen=True)
class Imported:
    """The six parameters (float64) and which tensors they came from."""

    params: Params | CellParams  # an nn.LSTM's as rnn-tui's LSTM
    sources: dict[str, str]  # symbol -> tensor name(s), e.g. "b" -> "rnn.bias_ih_l0 + ..."
    unused: list[str] = field(default_factory=list)  # tensors not part of the network


def _prefix(text: str | None) -> str | None:
    """``rnn`` and ``rnn.`` name the same module; ``""`` is the top level."""
    if text is None or text == "" or text.endswith("."):
        return text
    return text + "."


def _split(name: str) -> tuple[str, str]:
    """``model.rnn.weight_ih_l0`` -> (``model.rnn.``, ``weight_ih_l0``)."""
    head, dot, last = name.rpartition(".")
    return head + dot, last


def _x(shape: tuple[int, ...]) -> str:
    return " x ".join(str(n) for n in shape) if shape else "a scalar"


class _Reader:
    """The names, shapes and dtypes of a file, before any data is read."""

    def __init__(self, source: str, shapes: dict[str, tuple[int, ...]],
                 dtypes: dict[str, str], K: int) -> None:
        self.source, self.shapes, self.dtypes, self.K = source, shapes, dtypes, K

    def fail(self, tensor: str | None, message: str) -> InteropError:
        return InteropError(self.source, tensor, message)

    def rnn(self, wanted: str | None) -> tuple[str, int, int, bool, int]:
        """The nn.RNN's (or nn.LSTM's) prefix, D, H, whether it has biases, and
        its gates stacked in the weights: 1 (nn.RNN) or 4 (nn.LSTM)."""
        found = sorted(_split(n)[0] for n in self.shapes if _split(n)[1] == "weight_ih_l0")
        if wanted is not None:
            if wanted not in found:
                raise self.fail(f"{wanted}weight_ih_l0", "no such tensor; nn.RNN weights here: "
                                + (", ".join(f"{p}weight_ih_l0" for p in found) or "none"))
            found = [wanted]
        if not found:
            cells = sorted(n for n in self.shapes if _split(n)[1] == "weight_ih")
            hint = f" ({cells[0]} looks like an nn.RNNCell, which is not read)" if cells else ""
            raise self.fail(None, "no nn.RNN weights (no tensor named ...weight_ih_l0)" + hint)
        if len(found) > 1:
            raise self.fail(None, f"{len(found)} nn.RNN candidates fit ("
                            + ", ".join(f"{p}weight_ih_l0" for p in found)
                            + "); choose one with --prefix-rnn")
        p = found[0]
        for name in sorted(self.shapes, key=lambda n: ("weight_ih" not in n, n)):
            if not name.startswith(p) or "." in name[len(p):]:
                continue
            last = name[len(p):]
            if last.endswith("_reverse"):
                raise self.fail(name, "a bidirectional RNN; rnn-tui's RNN reads left to right "
                                "only (bidirectional=False)")
            if last.startswith(("weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l")) and \
                    not last.endswith("_l0"):
                raise self.fail(name, "a second layer: an RNN with num_layers > 1; rnn-tui "
                                "has one layer")
            if last.startswith("weight_hr_l"):
                raise self.fail(name, "an LSTM with proj_size (h projected to a smaller size); "
                                "rnn-tui's LSTM has none (proj_size=0)")
        wih, whh = p + "weight_ih_l0", p + "weight_hh_l0"
        if whh not in self.shapes:
            raise self.fail(whh, "missing (nn.RNN's recurrent weight W_hh, H x H)")
        s_hh, s_ih = self.shapes[whh], self.shapes[wih]
        if len(s_hh) != 2 or len(s_ih) != 2:
            bad = whh if len(s_hh) != 2 else wih
            raise self.fail(bad, f"is {_x(self.shapes[bad])}, expected a matrix")
        H = s_hh[1]
        if s_hh[0] == 3 * H and H > 0:
            from rnn_tui.core.torch_lstm import GRU_REFUSAL

            raise self.fail(whh, f"is {_x(s_hh)}: an nn.GRU (3 gates: 3H x H); not imported: "
                            + GRU_REFUSAL.replace("this model's", "rnn-tui's GRU's"))
        rows = 4 * H if s_hh[0] == 4 * H and H > 0 else H  # nn.LSTM: i, f, g, o stacked
        if s_hh[0] != rows:
            raise self.fail(whh, f"is {_x(s_hh)}, expected H x H (nn.RNN's W_hh) or 4H x H "
                            "(nn.LSTM's)")
        if s_ih[0] != rows:
            shape = "H x D" if rows == H else "4H x D (nn.LSTM)"
            raise self.fail(wih, f"is {_x(s_ih)}, expected {shape} with H = {H} (from {whh})")
        if max(s_ih) > MAX_DIM:
            raise self.fail(wih, f"is {_x(s_ih)}: H and D must be at most {MAX_DIM}")
        biases = [n for n in (p + "bias_ih_l0", p + "bias_hh_l0") if n in self.shapes]
        for n in biases:
            if self.shapes[n] != (rows,):
                raise self.fail(n, f"is {_x(self.shapes[n])}, expected {rows} numbers "
                                f"({'H' if rows == H else '4H'})")
        if len(biases) == 1:
            other = ({p + "bias_ih_l0", p + "bias_hh_l0"} - set(biases)).pop()
            raise self.fail(other, f"missing (nn.RNN has both biases or neither; {biases[0]} "
                            "is here)")
        return p, s_ih[1], H, bool(biases), rows // H

    def module(self, kind: str, option: str, wanted: str | None, cols: int,
               taken: set[str], what: str) -> tuple[str, bool]:
        """A weight K x ``cols`` (and whether it has a bias K beside it)."""
        K = self.K
        weights = sorted(n for n in self.shapes if _split(n)[1] == "weight"
                         and len(self.shapes[n]) == 2 and n not in taken)
        if wanted is not None:
            name = wanted + "weight"
            if name not in self.shapes:
                raise self.fail(name, f"no such tensor (the {kind}'s weight)")
            if self.shapes[name] != (K, cols):
                raise self.fail(name, f"is {_x(self.shapes[name])}, but the {kind} weight must "
                                f"be K x {what} = {K} x {cols}")
            weights = [name]

        def has_bias(n: str) -> bool:
            return _split(n)[0] + "bias" in self.shapes

        fits = [n for n in weights if self.shapes[n] == (K, cols)]
        if kind == "nn.Embedding":
            fits = [n for n in fits if not has_bias(n) or wanted is not None]
        else:
            biased = [n for n in fits if has_bias(n)]
            fits = biased or fits
        if not fits:
            near = [n for n in weights if self.shapes[n][1] == cols]
            if near:
                n = near[0]
                raise self.fail(n, f"is {_x(self.shapes[n])}, but the {kind} weight must be "
                                f"K x {what} = {K} x {cols}: --vocab has {K} characters")
            raise self.fail(None, f"no {kind} weight of K x {what} = {K} x {cols} (K from --vocab)")
        if len(fits) > 1:
            raise self.fail(None, f"{len(fits)} {kind} candidates fit ({', '.join(fits)}); "
                            f"choose one with {option}")
        name = fits[0]
        bias = _split(name)[0] + "bias"
        if bias in self.shapes and kind == "nn.Linear" and self.shapes[bias] != (K,):
            raise self.fail(bias, f"is {_x(self.shapes[bias])}, expected {K} numbers (K)")
        return name, bias in self.shapes


def read_weights(path: Path, K: int, prefixes: dict[str, str | None] | None = None
                 ) -> Imported:
    """The six parameters of the Embedding + RNN + Linear in a safetensors
    file, for a vocabulary of K characters. ``prefixes`` may name the
    ``embedding``, ``rnn`` and ``linear`` modules (``"rnn"`` or ``"rnn."``)."""
    from safetensors import SafetensorError, safe_open

    want = {k: _prefix(v) for k, v in (prefixes or {}).items()}
    source = str(path)
    if path.is_dir():
        raise InteropError(source, None, "is a directory, not a safetensors file")
    try:
        with safe_open(str(path), framework="np") as f:
            metadata = f.metadata() or {}
            names = list(f.keys())
            shapes = {n: tuple(f.get_slice(n).get_shape()) for n in names}
            dtypes = {n: f.get_slice(n).get_dtype() for n in names}
            r = _Reader(source, shapes, dtypes, K)
            _check_metadata(r, metadata)
            p, D, H, biased, gates = r.rnn(want.get("rnn"))
            rnn_names = {p + s for s in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                         "bias_hh_l0")}
            emb_wanted = {want["embedding"] + "weight"} if want.get("embedding") is not None \
                else set()
            lin, lin_bias = r.module("nn.Linear", "--prefix-linear", want.get("linear"), H,
                                     rnn_names | emb_wanted, "H")
            emb, _ = r.module("nn.Embedding", "--prefix-embedding", want.get("embedding"), D,
                              rnn_names | {lin}, "D")
            chosen = {"E": emb, "U": p + "weight_ih_l0", "W": p + "weight_hh_l0", "V": lin}
            if biased:
                chosen |= {"b_ih": p + "bias_ih_l0", "b_hh": p + "bias_hh_l0"}
            if lin_bias:
                chosen["c"] = _split(lin)[0] + "bias"
            for name in chosen.values():
                if dtypes[name] not in FLOAT_DTYPES:
                    raise r.fail(name, f"has dtype {dtypes[name]}; expected float16, float32 "
                                 "or float64")
            data = {k: _finite(r, n, np.asarray(f.get_tensor(n), dtype=np.float64))
                    for k, n in chosen.items()}
    except FileNotFoundError:
        raise InteropError(source, None, "no such file") from None
    except PermissionError:
        raise InteropError(source, None, "permission denied") from None
    except SafetensorError as err:
        raise InteropError(source, None, "not a safetensors file ("
                           + " ".join(str(err).split()) + ")") from None
    except OSError as err:
        raise InteropError(source, None, f"cannot read: {err.strerror or err}") from None
    with np.errstate(all="ignore"):
        b = data["b_ih"] + data["b_hh"] if biased else np.zeros(gates * H)  # (H,) or (4H,)
    if not np.isfinite(b).all():
        raise InteropError(source, chosen["b_ih"], "bias_ih_l0 + bias_hh_l0 overflows float64")
    c = data["c"] if lin_bias else np.zeros(K)
    if gates == 4:  # nn.LSTM: rnn-tui's LSTM, gates unstacked from i, f, g, o
        from rnn_tui.core.torch_lstm import from_tensors, sources_of

        cell = from_tensors(data["E"], data["U"], data["W"], b, data["V"], c)
        return Imported(cell, sources_of(emb, p, lin, biased, chosen.get("c")),
                        sorted(n for n in names if n not in set(chosen.values())))
    params = Params(E=data["E"], U=data["U"], W=data["W"], b=b, V=data["V"], c=c)
    sources = {"E": emb, "U": chosen["U"], "W": chosen["W"],
               "b": f"{chosen['b_ih']} + {chosen['b_hh']}" if biased else "0 (bias=False)",
               "V": lin, "c": chosen.get("c", "0 (bias=False)")}
    used = set(chosen.values())
    return Imported(params, sources, sorted(n for n in names if n not in used))


def _check_metadata(r: _Reader, metadata: dict[str, str]) -> None:
    """A ReLU RNN's weights look like a tanh RNN's; only metadata can tell."""
    for key, value in sorted(metadata.items()):
        if key.lower().endswith("nonlinearity") and value.strip().lower() != "tanh":
            raise r.fail(f"metadata {key}", f"is {value!r}; rnn-tui's cell is tanh "
                         "(nn.RNN(nonlinearity='tanh'), the default)")


def _finite(r: _Reader, name: str, a: Array) -> Array:
    bad = np.argwhere(~np.isfinite(a))
    if bad.size:
        at = ", ".join(str(int(i) + 1) for i in bad[0])
        raise r.fail(name, f"entry [{at}] (1-based) is {a[tuple(bad[0])]}; every number "
                     "must be finite")
    return a


def model_file_text(imp: Imported, source: str, text: str, vocab: str, learning_rate: float,
                    name: str) -> str:
    """A complete model file (TOML, every number at full float64 precision)."""
    p = imp.params
    cell = p.cell if isinstance(p, CellParams) else "rnn"
    names = file_order(cell)
    doc = {
        "name": name, "text": text, "vocab": vocab,
        "embedding_dim": int(p.get("E").shape[1]), "hidden_size": int(p.get("V").shape[1]),
        **({"cell": cell} if cell != "rnn" else {}),
        "learning_rate": learning_rate,
        "init": {n: p.get(n).tolist() for n in names},
        "bptt": {"embedding_rows": "x_k"},  # autograd's gradient: the exact one
    }
    spec = validate(doc, source)
    head = [f"# imported by rnn-tui import-torch from {printable(Path(source).name)}"]
    head += [f"#   {n} = {printable(imp.sources[n])}" for n in names]
    return "\n".join(head) + "\n" + model_toml(spec)


# ------------------------------------------------------------ writing


def state_dict(p: Params) -> dict[str, Array]:
    """PyTorch's names for the six parameters: b goes to bias_ih_l0 and
    bias_hh_l0 is zero, so that b_ih + b_hh = b exactly."""
    out = {TORCH_NAMES[n]: np.ascontiguousarray(p.get(n), dtype=np.float64)
           for n in ("E", "U", "W", "b", "V", "c")}
    out[ZERO_BIAS] = np.zeros_like(p.b)
    return out


def safetensors_bytes(p: Params) -> bytes:
    from safetensors.numpy import save

    return save(state_dict(p), metadata=METADATA)
