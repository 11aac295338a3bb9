"""The pages behind signed incident links: GET asks, POST acts, anything doubtful gets a 403.

GET never changes anything, so Slack's unfurler, mail scanners and browser prefetch are harmless;
only the confirmation page's button (a POST to the same signed URL) acts. The signature is checked
again on POST. Who acted (the recipient the link was signed for) and from where (the client
address) are recorded in the incident and the ledger.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from heron.monitor.notify.incidents import IncidentError
from heron.monitor.notify.links import Linker, LinkRequest, check, parse
from heron.monitor.notify.operations import acknowledge, resolve, snooze
from heron.monitor.notify.pipeline import Context
from heron.monitor.notify.reasons import Decision, Reason, Verdict

#: The path the links point at.
LINK_PATH = "/notify/link/{id}/{action}"
_STYLE = "body{font-family:sans-serif;max-width:40em;margin:3em auto}button{font-size:1.1em}"
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the signed URL must not leak to other sites
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A small self-contained HTML page (no scripts, no external resources)."""
    doc = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers=_HEADERS)


def _refuse(reason: str) -> HTMLResponse:
    text = f"<p>{html.escape(reason)}.</p><p>Nothing was changed.</p>"
    return page("This link cannot be used", text, 403)


def link_routes(ctx: Context, linker: Linker, clock: Callable[[], float]) -> list[Route]:
    """GET (confirmation page) and POST (act) for ``/notify/link/{id}/{action}``."""

    def verified(request: Request) -> LinkRequest | HTMLResponse:
        parsed = parse(
            request.path_params["id"], request.path_params["action"], request.query_params
        )
        if isinstance(parsed, str):
            return _refuse(parsed)
        link, signature = parsed
        problem = check(linker.key, link, signature, clock())
        return _refuse(problem) if problem else link

    async def confirm_page(request: Request) -> Response:
        link = verified(request)
        if isinstance(link, Response):
            return link
        try:
            incident = ctx.incidents.get(link.incident)
        except IncidentError as exc:
            return page("Unknown incident", f"<p>{html.escape(str(exc))}.</p>", 404)
        summary = (
            f"<p>Incident #{incident.id}: <b>{html.escape(incident.alarm)}</b> is "
            f"<b>{html.escape(incident.status)}</b>.</p>"
        )
        action = html.escape(str(request.url.path) + "?" + request.url.query)
        form = (
            f"<form method='post' action='{action}'><button type='submit'>"
            f"{html.escape(link.describe().capitalize())}</button></form>"
        )
        return page(f"{link.describe().capitalize()}?", summary + form)

    async def act(request: Request) -> Response:
        link = verified(request)
        if isinstance(link, Response):
            return link
        where = request.client.host if request.client else "unknown address"
        by = f"{link.by or 'someone'} (signed link from {where})"
        now = clock()
        try:
            if link.action == "ack":
                incident = acknowledge(ctx, link.incident, by, now)
            elif link.action == "resolve":
                incident = resolve(ctx, link.incident, by, now)
            else:
                incident = snooze(ctx, link.incident, by, now + link.minutes * 60, now)
        except IncidentError as exc:
            return page("Nothing to do", f"<p>{html.escape(str(exc))}; nothing changed.</p>", 409)
        decision = Decision(Verdict.DONE, Reason.LINK_ACTION, f"{link.describe()} by {by}")
        ctx.ledger.note(incident.alert.id, incident.alarm, "link", decision, now)
        done = f"<p>Incident #{incident.id} ({html.escape(incident.alarm)}) is now "
        return page("Done", done + f"<b>{html.escape(incident.status)}</b>.</p>")

    return [
        Route(LINK_PATH, confirm_page, methods=["GET"]),
        Route(LINK_PATH, act, methods=["POST"]),
    ]
