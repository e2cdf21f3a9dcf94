"""A model whose name carries terminal escapes, under the real app: the
header shows the name escaped, and no escape reaches the terminal."""

from __future__ import annotations

from rnn_tui.core.model_file import load, validate

from helpers.scenarios import make_app, settle
from helpers.screen import text_of

EVIL = "\x1b]0;PWNED\x07\x1b[2J\u202eevil\nname"


async def test_the_header_shows_an_escaped_name() -> None:
    doc = load("hello")[0].model_dump()
    doc["name"] = EVIL
    app = make_app(validate(doc, "evil"))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        header = text_of(app, "#status")
        assert header.startswith("\\x1b]0;PWNED\\x07\\x1b[2J\\u202eevil\\x0aname │ epoch 1")
        for raw in ("\x1b", "\x07", "\u202e", "\n"):
            assert raw not in header
        screen = app.export_screenshot()
        assert "PWNED" in screen and "\x1b" not in screen and "\u202e" not in screen
