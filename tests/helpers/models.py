"""Random valid models of any size, for tests."""

from __future__ import annotations

import string

import numpy as np

from rnn_tui.core.model_file import ModelSpec, validate

ALPHABET = string.ascii_letters + string.digits + string.punctuation + " "


def random_spec(
    K: int, D: int, H: int, T: int, seed: int, lr: float = 0.1, scale: float = 0.5,
    mode: str = "x_k",
) -> ModelSpec:
    """A valid random model: random text over K characters, seeded weights
    with nonzero biases (so every parameter's gradient is exercised)."""
    rng = np.random.default_rng(seed)
    chars = "".join(dict.fromkeys(ALPHABET))[:K] if K <= len(ALPHABET) else "".join(
        chr(0x100 + i) for i in range(K)
    )
    text = "".join(rng.choice(list(chars), T + 1))
    doc = {
        "name": f"random-{K}-{D}-{H}-{T}",
        "text": text,
        "vocab": chars,
        "embedding_dim": D,
        "hidden_size": H,
        "learning_rate": lr,
        "init": {
            "E": rng.normal(0, scale, (K, D)).tolist(),
            "U": rng.normal(0, scale, (H, D)).tolist(),
            "W": rng.normal(0, scale, (H, H)).tolist(),
            "b": rng.normal(0, scale, H).tolist(),
            "V": rng.normal(0, scale, (K, H)).tolist(),
            "c": rng.normal(0, scale, K).tolist(),
        },
        "bptt": {"embedding_rows": mode},
    }
    return validate(doc, "random model")


def random_cell(cell: str, K: int, D: int, H: int, T: int, seed: int, scale: float = 0.5):
    """A random GRU or LSTM (rnn_tui.core.cells) with nonzero biases and a random
    text of T + 1 characters: (params, inputs, targets)."""
    from rnn_tui.core.cells import CellParams, shapes

    rng = np.random.default_rng(seed)
    arrays = {n: rng.normal(0, scale, s) for n, s in shapes(cell, K, D, H).items()}
    text = rng.integers(0, K, T + 1).astype(np.intp)
    return CellParams(cell, arrays), text[:-1], text[1:]
