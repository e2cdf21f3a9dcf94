"""The README and docs/ point only at things a user of this repository has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(page: Path) -> list[str]:
    return [t for t in LINK.findall(page.read_text("utf-8"))
            if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def test_there_are_links_to_check() -> None:
    assert relative_links(ROOT / "README.md")  # else the next test checks nothing


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    missing = [t for t in relative_links(page) if not (page.parent / t.split("#")[0]).exists()]
    assert not missing, f"{page.name} links to files not in the repository: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_no_reference_to_files_outside_the_repository(page: Path) -> None:
    text = page.read_text("utf-8")
    for name in ("NOTES.md", "hello-rnn-worked-example.md", "hello-overflow"):
        assert name not in text, f"{page.name} mentions {name}, which a user cannot open"
