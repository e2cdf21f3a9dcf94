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


def exploding(
    T: int, gain: float, seed: int, mode: str = "x_k", tiny: float = 0.0, H: int = 4
) -> ModelSpec:
    """A model whose BPTT chain grows by ``gain`` per step: W = gain * Q with
    Q orthogonal, b = 0 and embeddings of size ``tiny`` (0 or subnormal), so
    h stays at or near 0 (1 - h^2 near 1) until W^t x saturates it. The
    forward pass stays finite; a row's terms overflow once gain^(t - k)
    passes the largest float, so the first non-finite term is near row
    308 / log10(gain)."""
    doc = random_spec(4, 2, H, T, seed=seed, mode=mode).model_dump()
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    doc["init"].update(
        W=(gain * q).tolist(),
        E=(tiny * rng.normal(size=(4, 2))).tolist(),
        b=[0.0] * H,
    )
    return validate(doc, "exploding")
