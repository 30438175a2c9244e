"""The web explorer's static assets (HTML, CSS, JavaScript modules) and where they live.

This package holds files, not logic: the API serves them at ``/explorer/`` (see
``xinlian.api.explorer``). It imports nothing from Xinlian, so every layer may ask it
where the assets are. The operator console (issue 19) will extend the same assets.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

#: The directory holding ``index.html`` and the other assets.
ASSETS = Path(__file__).resolve().parent / "static"

#: Content types of the file kinds the explorer ships; other files are not served.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}


def asset(relative: str) -> tuple[Path, str] | None:
    """The file and content type for ``relative`` (a URL path below ``/explorer/``), or
    None when no such asset exists. Empty means ``index.html``; ``..``, absolute paths,
    hidden files and unknown kinds are refused."""
    if len(relative) > 256 or "\\" in relative or "\x00" in relative:
        return None
    parts = PurePosixPath(relative or "index.html").parts
    if not parts or any(p in ("", ".", "..") or p.startswith(".") or p == "/" for p in parts):
        return None
    path = ASSETS.joinpath(*parts)
    content_type = CONTENT_TYPES.get(path.suffix)
    if content_type is None or not path.is_file():
        return None
    return path, content_type
