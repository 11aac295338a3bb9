"""A handler that drives the @connections client the way sendMessage does, for the out-call tests."""

from __future__ import annotations

from typing import Any

from heron.errors import ConfigError, GoneError
from heron.functions.connections_client import ConnectionsApiError, connections_from_env


def connections(event: Any, context: Any) -> dict[str, Any]:
    """Run ``event["ops"]`` (method, id, text or hex) through the environment's client."""
    client = connections_from_env()
    results: list[Any] = []
    for op in event["ops"]:
        try:
            if op["method"] == "POST":
                data = op["text"].encode() if "text" in op else bytes.fromhex(op["hex"])
                client.post_to_connection(op["id"], data)
                results.append("ok")
            elif op["method"] == "GET":
                results.append(client.get_connection(op["id"]))
            else:
                client.delete_connection(op["id"])
                results.append("ok")
        except GoneError as exc:
            results.append(f"gone:{exc.connection_id}")
        except ConnectionsApiError as exc:
            results.append(f"{exc.status}:{exc.code}")
        except ConfigError:
            results.append("config")
    return {"client": type(client).__name__, "results": results}


def ws_push(event: Any, context: Any) -> dict[str, Any]:
    """WebSocket route: push ``text`` (``repeat`` times) to ``to`` (default: the sender) and
    answer with the outcome."""
    import json

    body = json.loads(event["body"])
    me = event["requestContext"]["connectionId"]
    target = body.get("to") or me
    text = body["text"] * int(body.get("repeat", 1))
    result = connections({"ops": [{"method": "POST", "id": target, "text": text}]}, context)
    return {"statusCode": 200, "body": json.dumps({"me": me, **result})}
