"""Baseline (b): a tight PyTorch float64 autograd loop, when torch is installed.

Forward over T (the embedding and the output layer batched, the recurrence
one step at a time), one ``backward()``, SGD under ``no_grad``. One intra-op
thread, like the NumPy side. torch is never a dependency of rnn-tui: this
module is imported only if ``import torch`` works.
"""

from __future__ import annotations


def available() -> str | None:
    """None if torch imports, else why not (one line)."""
    try:
        import torch  # noqa: F401
    except Exception as err:  # ImportError, or a broken install
        return f"{type(err).__name__}: {err}"
    return None


def version() -> str:
    import torch

    return torch.__version__


class TorchRnn:
    def __init__(self, spec) -> None:  # spec: rnn_tui.core.model_file.ModelSpec
        import torch

        from rnn_tui.core.params import FILE_ORDER

        if spec.bptt.embedding_rows != "x_k":
            raise ValueError("the torch baseline computes the exact dE (x_k) only")
        torch.set_num_threads(1)
        self.torch = torch
        p = spec.initial_params()
        self.params = [torch.tensor(p.get(n), dtype=torch.float64, requires_grad=True)
                       for n in FILE_ORDER]
        inputs, targets = spec.indices()
        self.inputs = torch.as_tensor(inputs, dtype=torch.long)
        self.targets = torch.as_tensor(targets, dtype=torch.long)
        self.lr = spec.learning_rate
        self.T = len(inputs)

    def epoch(self) -> float:
        torch = self.torch
        E, U, W, b, V, c = self.params
        Uxb = E[self.inputs] @ U.T + b  # (T, H)
        h = torch.zeros(W.shape[0], dtype=torch.float64)
        hs = []
        for t in range(self.T):
            h = torch.tanh(Uxb[t] + W @ h)
            hs.append(h)
        omega = torch.stack(hs) @ V.T + c  # (T, K)
        loss = torch.nn.functional.cross_entropy(omega, self.targets, reduction="sum")
        loss.backward()
        with torch.no_grad():
            for param in self.params:
                param -= self.lr * param.grad
                param.grad = None
        return float(loss.item())

    def train(self, n: int) -> list[float]:
        return [self.epoch() for _ in range(n)]


def losses(spec, n: int) -> list[float]:
    return TorchRnn(spec).train(n)
