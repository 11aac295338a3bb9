"""The dashboard's files: static assets served from memory and the HTML page templates.

Everything ships inside the package (``static/`` and ``templates/``); nothing comes from a CDN.
Assets are read once and served with an ETag so a reload costs a 304.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
}
#: The only asset served without a session: the sign-in page's stylesheet.
PUBLIC_ASSETS = frozenset({"login.css"})


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file held in memory with its content type and ETag."""

    body: bytes
    content_type: str
    etag: str


def _package_dir(name: str) -> resources.abc.Traversable:
    return resources.files("heron.dashboard").joinpath(name)


def load_assets() -> dict[str, Asset]:
    """Every file under ``static/`` by name."""
    out: dict[str, Asset] = {}
    for entry in _package_dir("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if not entry.is_file() or suffix not in CONTENT_TYPES:
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        out[entry.name] = Asset(body, CONTENT_TYPES[suffix], etag)
    return out


def load_templates() -> dict[str, str]:
    """Every page template under ``templates/`` by name."""
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in _package_dir("templates").iterdir()
        if entry.is_file() and entry.name.endswith(".html")
    }


def render(template: str, **values: str) -> str:
    """Fill ``{{name}}`` placeholders with HTML-escaped values."""
    out = template
    for key, value in values.items():
        out = out.replace("{{" + key + "}}", html.escape(value, quote=True))
    return out


def asset_response(asset: Asset, request: Request) -> Response:
    """The asset, or 304 when the browser already holds this version."""
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)
