"""What the interop commands share: the optional packages they need, and
`rnn-tui export --format ipynb` (the export command's notebook branch)."""

from __future__ import annotations

import argparse
import importlib
from types import ModuleType

from rnn_tui.cli.args import PROG, UsageError, write_output

# package -> the extra of pyproject.toml that installs it
EXTRAS = {"safetensors": "torch", "nbformat": "notebook"}


def need(module: str, command: str) -> ModuleType:
    """Import an optional package, or one line naming the pip command."""
    package = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(f"{PROG} {command} needs the {package} package: "
                         f"pip install 'rnn-tui[{EXTRAS[package]}]' (or pip install {package})"
                         ) from None


def export_notebook(args: argparse.Namespace, spec, mode: str, minima: list[int]) -> int:
    need("nbformat", "export --format ipynb")
    from rnn_tui.core.notebook import worked_notebook

    return write_output(worked_notebook(spec, mode=mode, minima=minima), args.output, args.force)
