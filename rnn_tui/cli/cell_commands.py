"""What the built-in commands do for a GRU or an LSTM model where it differs
from the RNN's (split from cli/__init__.py for its size)."""

from __future__ import annotations

import argparse

from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.text import printable


def gradcheck_cell(spec: ModelSpec, args: argparse.Namespace, mode: str) -> int:
    """gradcheck for a GRU or an LSTM: the parameters at the start of the epoch
    (trained as `train` trains), on the epoch's first chunk from s_0 = 0."""
    from rnn_tui.core import gradcheck
    from rnn_tui.core.cell_report import trained
    from rnn_tui.core.chunk_loop import spans

    p = trained(spec, args.epoch - 1, mode)  # type: ignore[arg-type]
    inputs, targets = spec.indices()
    parts = spans(spec.T, spec.train.seq_length)
    start, stop = parts[0]
    results = gradcheck.check(p, inputs[start:stop], targets[start:stop], mode,  # type: ignore[arg-type]
                              max_entries=args.max_entries)
    where = "" if len(parts) == 1 else f", chunk 1 of {len(parts)} (steps 1..{stop})"
    from rnn_tui.core.cells import forward

    floor = gradcheck.resolution(forward(p, inputs[start:stop], targets[start:stop]).total_loss)
    print(f"{printable(spec.name)} ({spec.cell.upper()}): epoch {args.epoch}{where}, "
          f"dE rows {mode}, eps 1e-5, errors relative to max(|backward|, |numeric|, "
          f"{floor:.1e})")
    print("\n".join(gradcheck.report(results, mode, spec.alphabet)))  # type: ignore[arg-type]
    return 0 if all(r.ok for r in results) else 1
