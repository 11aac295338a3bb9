"""The dashboard's files: static assets served from memory and the HTML page templates (Jinja).

Everything ships inside the package (``static/`` and ``templates/``); nothing comes from a CDN.
Assets are read once and served with an ETag so a reload costs a 304.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import jinja2
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


def load_assets(directory: resources.abc.Traversable | None = None) -> dict[str, Asset]:
    """Every servable file in ``directory`` (default: the dashboard's ``static/``) by name."""
    out: dict[str, Asset] = {}
    for entry in (directory or _package_dir("static")).iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if not entry.is_file() or suffix not in CONTENT_TYPES:
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        out[entry.name] = Asset(body, CONTENT_TYPES[suffix], etag)
    return out


#: Pages extend ``templates/_page.html`` (head, top bar, sign-out); values are HTML-escaped.
_PAGES = jinja2.Environment(
    loader=jinja2.PackageLoader("heron.dashboard", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def load_templates() -> dict[str, jinja2.Template]:
    """Every page template under ``templates/`` by name (layouts, named ``_*``, left out)."""
    return {
        name: _PAGES.get_template(name)
        for name in _PAGES.list_templates(extensions=["html"])
        if not name.startswith("_")
    }


def template_from_text(source: str) -> jinja2.Template:
    """A page template kept outside ``templates/``; it may extend ``_page.html`` too."""
    return _PAGES.from_string(source)


def render(template: jinja2.Template, **values: str) -> str:
    """The page with its ``{{name}}`` placeholders filled, HTML-escaped."""
    return template.render(**values)


def asset_response(asset: Asset, request: Request) -> Response:
    """The asset, or 304 when the browser already holds this version."""
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)
