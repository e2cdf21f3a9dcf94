"""An LSTM as PyTorch's nn.Embedding + nn.LSTM + nn.Linear, as data only
(safetensors), both ways, and the script export-torch writes beside it.

nn.LSTM is the same cell as rnn-tui's (docs/cells.md). It stacks the gates
in the order i, f, g, o and has two biases:

    weight_ih_l0 = [U_i; U_f; U_g; U_o]   (4H x D)
    weight_hh_l0 = [W_i; W_f; W_g; W_o]   (4H x H)
    b_gate       = bias_ih_l0[gate] + bias_hh_l0[gate]

export-torch writes each b_gate into bias_ih_l0 and zeros into bias_hh_l0
(so the sum is b exactly), and its script keeps bias_hh_l0 out of SGD (else
b would move by 2 eta db). nn.GRU is not read or written: it applies r after
W_hn (n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))), a different cell.
"""

from __future__ import annotations

import numpy as np

from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.maths import Array
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.text import printable
from rnn_tui.core.torch_script import script

TORCH_GATES = ("i", "f", "g", "o")  # nn.LSTM's order of the stacked gates
METADATA = {"format": "pt", "cell": "lstm", "written_by": "rnn-tui export-torch"}
GRU_REFUSAL = ("PyTorch's nn.GRU is a different cell: it applies r after W_hn "
               "(n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_(t-1) + b_hn))), where rnn-tui's "
               "GRU applies it to h_(t-1) before W_h, so no nn.GRU weights give this model's "
               "numbers (docs/cells.md); LSTM models are exported and imported")


def stacked(p: CellParams, kind: str) -> Array:
    """[X_i; X_f; X_g; X_o] for kind X in U, W, b: nn.LSTM's stacked tensor."""
    return np.concatenate([p[f"{kind}_{g}"] for g in TORCH_GATES], axis=0)


def unstacked(a: Array, kind: str, H: int) -> dict[str, Array]:
    """The inverse of :func:`stacked`: rows gH..(g+1)H are gate g's."""
    return {f"{kind}_{g}": np.array(a[n * H:(n + 1) * H], dtype=np.float64)
            for n, g in enumerate(TORCH_GATES)}


def state_dict(p: CellParams) -> dict[str, Array]:
    """PyTorch's names and layout; bias_hh_l0 is zeros (b_ih + b_hh = b exactly)."""
    out = {"embedding.weight": p["E"], "lstm.weight_ih_l0": stacked(p, "U"),
           "lstm.weight_hh_l0": stacked(p, "W"), "lstm.bias_ih_l0": stacked(p, "b"),
           "lstm.bias_hh_l0": np.zeros(4 * p.H), "linear.weight": p["V"],
           "linear.bias": p["c"]}
    return {n: np.ascontiguousarray(a, dtype=np.float64) for n, a in out.items()}


def safetensors_bytes(p: CellParams) -> bytes:
    from safetensors.numpy import save

    return save(state_dict(p), metadata=METADATA)


def from_tensors(E: Array, w_ih: Array, w_hh: Array, b: Array, V: Array, c: Array
                 ) -> CellParams:
    """An LSTM's parameters from nn.LSTM's stacked tensors (b = b_ih + b_hh, 4H)."""
    H = int(w_hh.shape[1])
    return CellParams("lstm", {"E": E, **unstacked(w_ih, "U", H), **unstacked(w_hh, "W", H),
                               **unstacked(b, "b", H), "V": V, "c": c})


def sources_of(emb: str, prefix: str, lin: str, biased: bool, bias: str | None
               ) -> dict[str, str]:
    """Which tensor (and rows) each parameter of an imported LSTM came from."""
    out = {"E": emb, "V": lin, "c": bias or "0 (bias=False)"}
    for n, g in enumerate(TORCH_GATES):
        rows = f"[{n}H:{n + 1}H]" if n else "[0:H]"
        out[f"U_{g}"] = f"{prefix}weight_ih_l0{rows}"
        out[f"W_{g}"] = f"{prefix}weight_hh_l0{rows}"
        out[f"b_{g}"] = (f"{prefix}bias_ih_l0{rows} + {prefix}bias_hh_l0{rows}" if biased
                         else "0 (bias=False)")
    return out


LSTM_NETWORK = """\
The LSTM of docs/cells.md, from PyTorch's nn
modules in float64, with the weights of model.safetensors (beside this file):

    x_t = E[x_t^o]                              nn.Embedding(K, D)   E = embedding.weight
    i, f, g, o gates, C_t, h_t (docs/cells.md)  nn.LSTM(D, H)        [U_i; U_f; U_g; U_o]
                                                  = lstm.weight_ih_l0, [W_i; W_f; W_g; W_o]
                                                  = lstm.weight_hh_l0, b_gate = bias_ih_l0
                                                  + bias_hh_l0 (the same rows)
    Omega_t = V h_t + c                         nn.Linear(H, K)      V = linear.weight
                                                                     c = linear.bias
    L = sum_t -ln softmax(Omega_t)[y_t]         cross_entropy(reduction="sum")

It runs one epoch of training (forward, backward, one SGD step) and prints
the total loss, the gradients and the updated parameters, one per line
(NAME JSON) by rnn-tui's names, equal to `rnn-tui trace` of the same model."""

LSTM_HELPERS = '''\
def by_gate(kind: str, stacked: torch.Tensor) -> dict:
    """rnn-tui's names for nn.LSTM's stacked rows: U_i = weight_ih_l0[0:H], ..."""
    return {f"{kind}_{g}": stacked[n * H:(n + 1) * H] for n, g in enumerate(GATES)}


'''

LSTM_PRINTED = '''

def named(get) -> dict:
    """E, then U_g, W_g, b_g gate by gate (i, f, o, g), then V, c: the model file's order."""
    parts = {"E": get(model.embedding.weight), "V": get(model.linear.weight),
              "c": get(model.linear.bias)}
    for kind, p in (("U", model.lstm.weight_ih_l0), ("W", model.lstm.weight_hh_l0),
                    ("b", model.lstm.bias_ih_l0)):
        parts.update(by_gate(kind, get(p)))
    order = ["E"] + [f"{k}_{g}" for g in "ifog" for k in "UWb"] + ["V", "c"]
    return {n: parts[n] for n in order}


for name, g in named(lambda p: p.grad).items():
    show("d" + name, g)
optimizer.step()
for name, p in named(lambda p: p.detach().clone()).items():
    show(name + "_new", p)
'''


def torch_script(spec: ModelSpec) -> str:
    """model.py for an LSTM model: torch_script.SKELETON with nn.LSTM's parts."""
    return script(spec, f"rnn-tui model {printable(spec.name)!r} (an LSTM) as a PyTorch program.",
                  network=LSTM_NETWORK,
                  constants="GATES = \"ifgo\"  # nn.LSTM's order of the stacked gates\n",
                  cls="CharLSTM", layer="lstm", module="nn.LSTM(D, H, batch_first=True)",
                  start="from h_0 = C_0 = 0", helpers=LSTM_HELPERS, biases="one bias per gate, b",
                  printed=LSTM_PRINTED)
