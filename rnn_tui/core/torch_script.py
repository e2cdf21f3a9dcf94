"""The PyTorch script ``rnn-tui export-torch`` writes beside the weights.

A short program a student can read: the same network from nn modules in
float64, the weights loaded from ``model.safetensors``, one epoch of the
handout's training (forward, summed cross-entropy, backward, one SGD step)
and every number printed, to compare with ``rnn-tui trace``.

Two conventions make PyTorch's numbers rnn-tui's:
- autograd's gradient of E is the exact one (each BPTT term (t, k) into the
  row of x_k); the handout's dE (row of x_t) is no gradient of L, so a model
  in that mode is refused (or exported with --exact);
- nn.RNN has two biases, b_ih and b_hh, and SGD would move each by eta * db,
  so b = b_ih + b_hh by 2 eta db. The script keeps b_hh at zero and out of
  the optimiser: b_ih is rnn-tui's b, with the same update.
"""

from __future__ import annotations

from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.text import printable

# The script prints one line per value: ``NAME JSON`` (JSON floats are
# Python's repr, which round-trips float64).
PRINTED = ("total_loss", "losses", "dE", "dU", "dW", "db", "dV", "dc",
           "E_new", "U_new", "W_new", "b_new", "V_new", "c_new")

SKELETON = '''\
"""{title}

Written by rnn-tui export-torch. {network}
Needs: pip install torch safetensors
"""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

TEXT = {text}
VOCAB = {vocab}
K, D, H = {K}, {D}, {H}
LEARNING_RATE = {lr}
{constants}

class {cls}(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(K, D)
        self.{layer} = {module}
        self.linear = nn.Linear(H, K)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # inputs (1, T) indices
        x = self.embedding(inputs)  # (1, T, D)
        h, _ = self.{layer}(x)  # (1, T, H), {start}
        return self.linear(h)  # (1, T, K): Omega_t


def show(name: str, value: torch.Tensor) -> None:
    print(name, json.dumps(value.detach().tolist()))


{helpers}model = {cls}().double()
model.load_state_dict(load_file(Path(__file__).with_name("model.safetensors")))
# rnn-tui has {biases} = b_ih + b_hh: keep b_hh (zero) out of the
# update, or SGD would move b by 2 * eta * db.
model.{layer}.bias_hh_l0.requires_grad_(False)

index = {{ch: i for i, ch in enumerate(VOCAB)}}
ids = torch.tensor([[index[ch] for ch in TEXT]])
inputs, targets = ids[:, :-1], ids[0, 1:]  # x_t^o = TEXT[t - 1], y_t = TEXT[t]

optimizer = torch.optim.SGD(
    [p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE
)
optimizer.zero_grad()
omega = model(inputs)[0]  # (T, K)
losses = nn.functional.cross_entropy(omega, targets, reduction="none")  # (T,) L_t
loss = losses.sum()  # L = sum_t L_t
loss.backward()
print("total_loss", repr(loss.item()))
show("losses", losses)
{printed}'''
"""The program of every network export-torch writes (nn.RNN, nn.LSTM): the
sizes, an nn.Module of embedding, recurrent layer and linear output, the
weights loaded, b_hh frozen, one epoch of SGD, the printed values; each
network fills in its own fields (see :func:`script`)."""

RNN_NETWORK = """\
The network of the handout, from PyTorch's
nn modules in float64, with the weights of model.safetensors (beside this file):

    x_t = E[x_t^o]                             nn.Embedding(K, D)      E = embedding.weight
    h_t = tanh(U x_t + W h_(t-1) + b)          nn.RNN(D, H)            U = rnn.weight_ih_l0
                                                                       W = rnn.weight_hh_l0
                                                                       b = rnn.bias_ih_l0
                                                                           + rnn.bias_hh_l0
    Omega_t = V h_t + c                        nn.Linear(H, K)         V = linear.weight
                                                                       c = linear.bias
    L = sum_t -ln softmax(Omega_t)[y_t]        cross_entropy(reduction="sum")

It runs one epoch of training (forward, backward, one SGD step) and prints
the total loss, the gradients and the updated parameters, one per line
(NAME JSON), equal to `rnn-tui trace` of the same model to 1e-9."""

RNN_PRINTED = """\
params = {
    "E": model.embedding.weight,
    "U": model.rnn.weight_ih_l0,
    "W": model.rnn.weight_hh_l0,
    "b": model.rnn.bias_ih_l0,
    "V": model.linear.weight,
    "c": model.linear.bias,
}
for name, p in params.items():
    show("d" + name, p.grad)
optimizer.step()
params["b"] = model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0
for name, p in params.items():
    show(name + "_new", p)
"""


def script(spec: ModelSpec, title: str, **parts: str) -> str:
    """model.py from :data:`SKELETON`: the model's text, vocabulary, sizes and
    learning rate, and the network's ``parts``: network (the docstring's
    middle), constants, cls, layer, module, start (the comment on h_0),
    helpers, biases (the comment on b), printed (the code after the losses)."""
    return SKELETON.format(
        title=title.replace("\\", "\\\\").replace('"""', '\\"\\"\\"'),
        text=repr(spec.text), vocab=repr(spec.alphabet),
        K=spec.K, D=spec.embedding_dim, H=spec.hidden_size, lr=repr(spec.learning_rate),
        **parts,
    )


def torch_script(spec: ModelSpec) -> str:
    """model.py for this model (its text, vocabulary, sizes and learning rate)."""
    return script(spec, f"rnn-tui model {printable(spec.name)!r} as a PyTorch program.",
                  network=RNN_NETWORK, constants="", cls="CharRNN", layer="rnn",
                  module='nn.RNN(D, H, nonlinearity="tanh", batch_first=True)',
                  start="starting from h_0 = 0", helpers="", biases="one hidden bias b",
                  printed=RNN_PRINTED)
