"""The explorer's files: every one ships in the wheel, and the path helper refuses
anything outside the asset folder (no browser needed)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest

from xinlian.console import ASSETS, CONTENT_TYPES, asset

ROOT = Path(__file__).resolve().parents[2]


def test_every_asset_is_listed_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["xinlian"]
    package = ASSETS.parent.parent
    files = [p for p in ASSETS.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, g) for g in globs), f"{relative} would not ship"
        assert path.suffix in CONTENT_TYPES, f"{relative}: no content type"


def test_no_asset_loads_anything_from_another_origin() -> None:
    for path in ASSETS.rglob("*"):
        if path.suffix in (".html", ".css", ".js"):
            text = path.read_text()
            for url in re.findall(r"https?://[^\s\"'`)]+", text):
                # Only example identifiers in help text and the SVG namespace name.
                assert url.startswith(("https://id.gs1.org/", "http://www.w3.org/2000/svg")), (
                    path.name,
                    url,
                )


@pytest.mark.parametrize(
    ("relative", "found"),
    [
        ("", "index.html"),
        ("index.html", "index.html"),
        ("js/main.js", "main.js"),
        ("js/pages/tx.js", "tx.js"),
        ("../__init__.py", None),
        ("js/../../__init__.py", None),
        ("/etc/passwd", None),
        (".hidden.js", None),
        ("js\\main.js", None),
        ("nothing.js", None),
        ("js", None),
        ("a\x00.js", None),
        ("x" * 300, None),
    ],
)
def test_asset_resolution(relative: str, found: str | None) -> None:
    got = asset(relative)
    if found is None:
        assert got is None
    else:
        assert got is not None and got[0].name == found
        assert got[0].resolve().is_relative_to(ASSETS)
