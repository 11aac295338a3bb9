"""Nothing the dashboard serves reaches beyond its own origin (machines are offline, no CDN).

Every page is fetched signed in; every ``src``/``href``/CSS ``url()`` it or its assets name must
be a same-origin path (or a ``data:`` URI), must resolve, and no shipped file may contain an
absolute ``http(s)://`` URL at all. The pages' Content-Security-Policy also forbids other
origins, so a future slip would fail in the browser too.
"""

from __future__ import annotations

import re
from importlib import resources

import httpx

from .helpers import sign_in

PAGES = ("/dashboard", "/dashboard/logs", "/dashboard/explore", "/dashboard/notify",
         "/dashboard/history")  # fmt: skip
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]*)""")
ABSOLUTE = re.compile(r"(?:https?:)?//[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def shipped_files() -> list[tuple[str, str]]:
    """(name, text) of every HTML, CSS and JS file in the dashboard package."""
    out = []
    root = resources.files("heron.dashboard")
    stack = [root]
    while stack:
        node = stack.pop()
        for entry in node.iterdir():
            if entry.is_dir():
                stack.append(entry)
            elif entry.name.endswith((".html", ".css", ".js")):
                out.append((entry.name, entry.read_text(encoding="utf-8")))
    return out


def test_no_shipped_file_names_another_origin() -> None:
    files = shipped_files()
    assert len(files) >= 15  # the pages, their scripts and stylesheets
    for name, text in files:
        found = [m.group(0) for m in ABSOLUTE.finditer(text) if "http" in m.group(0)
                 or m.group(0).startswith("//")]  # fmt: skip
        # JS comments start with "// " (a space), which the pattern does not match.
        assert found == [], f"{name} names another origin: {found}"


async def test_every_page_and_asset_is_same_origin_and_served(client: httpx.AsyncClient) -> None:
    pages = [await client.get("/dashboard/login")]  # before signing in: it redirects after
    await sign_in(client)
    pages += [await client.get(path) for path in PAGES]
    checked: set[str] = set()
    for page in pages:
        path = page.url.path
        assert page.status_code == 200, path
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "connect-src 'self'" in csp, path
        refs = [a or b for a, b in REFERENCE.findall(page.text)]
        assert refs, path
        for ref in refs:
            assert not ABSOLUTE.match(ref), f"{path} references {ref}"
            if ref.startswith(("data:", "#")) or not ref.startswith("/dashboard/"):
                assert ref.startswith(("data:", "#", "/dashboard")), f"{path}: {ref}"
                continue
            if ref in checked or "/static/" not in ref:
                continue
            checked.add(ref)
            asset = await client.get(ref)
            assert asset.status_code == 200, ref
            for a, b in REFERENCE.findall(asset.text):
                inner = a or b
                assert not ABSOLUTE.match(inner), f"{ref} references {inner}"
    assert {"/dashboard/static/charts.js", "/dashboard/static/explore.js"} <= checked
