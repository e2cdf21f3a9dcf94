"""Screenshots from the command palette, written without ever losing a file."""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import App


def served() -> bool:
    """Running for someone else (ssh-serve, web-serve): no files on the server."""
    return bool(os.environ.get("RNN_TUI_SERVED"))


def save_screenshot(app: App[object], filename: str | None = None, path: str | None = None,
                    time_format: str | None = None) -> str | None:
    """Save an SVG of the screen (ctrl+p, Screenshot): written atomically,
    never over an existing file, one-line errors. Returns the path saved."""
    if served():  # it would write a file on the server
        app.notify("Screenshots are disabled in a served session.", severity="warning")
        return None
    from platformdirs import user_downloads_path
    from textual._files import generate_datetime_filename

    from rnn_tui.core.files import WriteError, write_atomic

    name = filename or generate_datetime_filename(app.title, ".svg", time_format)
    target = Path(path).expanduser() if path else user_downloads_path()
    try:
        write_atomic(target / name, app.export_screenshot())
    except WriteError as err:
        app.notify(str(err), severity="error", timeout=8)
        return None
    app.notify(f"Screenshot saved to {target / name}", timeout=5)
    return str(target / name)
