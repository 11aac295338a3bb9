"""HTTP routes for the notifier, to mount on the monitor app: SNS subscription confirmation
and removal (the unsigned ``SubscribeURL`` and ``UnsubscribeURL``), signed incident links, incidents (list, acknowledge, snooze, resolve) and the inbox.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from heron.monitor.notify.channels.inbox import Inbox
from heron.monitor.notify.incidents import Incident, IncidentError
from heron.monitor.notify.link_routes import link_routes
from heron.monitor.notify.operations import acknowledge, resolve, snooze
from heron.monitor.notify.pipeline import Context


def incident_json(i: Incident) -> dict[str, object]:
    """An incident as the API shows it."""
    return {
        "id": i.id,
        "alarm": i.alarm,
        "severity": i.severity.value,
        "status": i.status,
        "opened": i.opened,
        "updated": i.updated,
        "level": i.level + 1,
        "loop": i.loop + 1,
        "nextEscalation": i.next_escalation,
        "snoozedUntil": i.snoozed_until,
        "acknowledgedBy": i.acked_by,
        "resolved": i.resolved,
    }


def notify_routes(ctx: Context, clock: Callable[[], float]) -> list[Route]:
    """The routes; ``ctx`` is the running Notifier's context."""

    async def confirm(request: Request) -> Response:
        token = request.query_params.get("Token", "")
        arn = request.query_params.get("TopicArn", "")
        channel = ctx.outbox.confirm(token) if token else None
        if channel is not None:
            sub_arn = f"{arn}:{channel}"
        elif token and ctx.topics is not None:  # a subscription made through the SNS API
            sub_arn = ctx.topics.confirm_subscription(arn, token) or ""
        else:
            sub_arn = ""
        if not sub_arn:
            return PlainTextResponse("Invalid token", status_code=400)
        body = (
            "<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>"
            f"{html.escape(sub_arn)}</SubscriptionArn></ConfirmSubscriptionResult>"
            "</ConfirmSubscriptionResponse>"
        )
        return Response(body, media_type="text/xml")

    async def unsubscribe(request: Request) -> Response:
        arn = request.query_params.get("SubscriptionArn", "")
        if ctx.topics is None or not arn or not ctx.topics.unsubscribe(arn):
            return PlainTextResponse("Subscription does not exist", status_code=404)
        body = "<UnsubscribeResponse><UnsubscribeResult/></UnsubscribeResponse>"
        return Response(body, media_type="text/xml")

    async def incidents(request: Request) -> Response:
        active = request.query_params.get("active") in ("1", "true")
        return JSONResponse([incident_json(i) for i in ctx.incidents.all(active_only=active)])

    async def act(request: Request) -> Response:
        try:
            ident = int(request.path_params["id"])
        except ValueError:
            return JSONResponse({"error": "incident id must be a number"}, status_code=400)
        action = request.path_params["action"]
        body = await request.json() if await request.body() else {}
        by = str(body.get("by") or "api")
        now = clock()
        try:
            if action == "ack":
                incident = acknowledge(ctx, ident, by, now)
            elif action == "resolve":
                incident = resolve(ctx, ident, by, now)
            elif action == "snooze":
                minutes = float(body.get("minutes", 30))
                incident = snooze(ctx, ident, by, now + minutes * 60, now)
            else:
                return JSONResponse({"error": f"unknown action {action!r}"}, status_code=404)
        except IncidentError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except (TypeError, ValueError):
            return JSONResponse({"error": "minutes must be a number"}, status_code=400)
        return JSONResponse(incident_json(incident))

    async def inbox(request: Request) -> Response:
        items = Inbox(ctx.db).items(int(request.query_params.get("limit", "50")))
        return JSONResponse([_item(i) for i in items])

    links = link_routes(ctx, ctx.links, clock) if ctx.links is not None else []
    return [
        *links,
        Route("/notify/confirm", confirm, methods=["GET"]),
        Route("/notify/unsubscribe", unsubscribe, methods=["GET"]),
        Route("/notify/incidents", incidents, methods=["GET"]),
        Route("/notify/incidents/{id}/{action}", act, methods=["POST"]),
        Route("/notify/inbox", inbox, methods=["GET"]),
    ]


def _item(item: object) -> dict[str, object]:
    fields = ("id", "key", "at", "recipient", "severity", "priority", "title", "body", "alarm")
    return {f: getattr(item, f) for f in fields}
