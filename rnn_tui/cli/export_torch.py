"""`rnn-tui export-torch`: a model as PyTorch weights (model.safetensors) and
a short PyTorch program (model.py) that trains it one epoch and prints the
numbers rnn-tui computes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnn_tui.cli.args import PROG, UsageError, handout_training_only
from rnn_tui.cli.interop import need
from rnn_tui.core.files import WriteError, write_atomic
from rnn_tui.core.model_file import load

HELP = "a model as PyTorch weights (.safetensors) and a PyTorch script that trains it"
DESCRIPTION = """Write DIR/model.safetensors (nn.Embedding + nn.RNN + nn.Linear weights, float64;
nn.LSTM for an LSTM model, its gates stacked i, f, g, o) and DIR/model.py, a PyTorch program that
builds the same network, runs one epoch of training and prints the total loss, the gradients and
the updated parameters, equal to `rnn-tui trace MODEL`. A GRU is refused: nn.GRU is a different
cell. Never overwrites a file without --force."""
COMMAND = "export-torch"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                   help="directory for model.safetensors and model.py (made if missing)")
    p.add_argument("--exact", action="store_true",
                   help="export a model whose file asks for the handout's dE: PyTorch "
                   "computes the exact one (and so does rnn-tui with --exact)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")


def run(args: argparse.Namespace) -> int:
    spec, _ = load(args.model)
    if spec.cell == "gru":
        from rnn_tui.core.torch_lstm import GRU_REFUSAL

        raise UsageError(f"{PROG} {COMMAND}: {args.model} is a GRU; not exported: {GRU_REFUSAL}")
    handout_training_only(spec, "export-torch")
    if spec.bptt.embedding_rows == "x_t" and not args.exact:
        raise UsageError(
            f"{args.model}: bptt.embedding_rows: \"x_t\" is the handout's dE, which is not "
            "the gradient autograd computes; export with --exact and compare with "
            f"`{PROG} trace {args.model} --exact`")
    need("safetensors.numpy", COMMAND)
    from rnn_tui.core.torch_script import torch_script
    from rnn_tui.core.torch_weights import safetensors_bytes

    out: Path = args.output
    if spec.cell == "lstm":  # nn.LSTM: the same cell, gates stacked i, f, g, o
        from rnn_tui.core import torch_lstm

        files = {out / "model.safetensors":
                 torch_lstm.safetensors_bytes(spec.initial_cell_params()),
                 out / "model.py": torch_lstm.torch_script(spec).encode("utf-8")}
    else:
        files = {out / "model.safetensors": safetensors_bytes(spec.initial_params()),
                 out / "model.py": torch_script(spec).encode("utf-8")}
    if out.exists() and not out.is_dir():
        raise WriteError(f"{out}: is not a directory")
    if not args.force:
        for target in files:
            if target.exists() or target.is_symlink():
                raise WriteError(f"{target}: already exists; use --force to overwrite it")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WriteError(f"{out}: cannot make the directory: {err.strerror or err}") from None
    for target, data in files.items():
        write_atomic(target, data, force=args.force)
    print(f"wrote {out / 'model.safetensors'} and {out / 'model.py'} (run: python "
          f"{out / 'model.py'}; needs torch and safetensors)", file=sys.stderr)
    return 0
