"""The CloudWatch dashboard body: the seed's dashboard (metrics, logs, alarms) for the stack.

The graphs are the local dashboard's own, exported by ``heron.dashboard.history.
cloudwatch_export`` (one widget per chart, the seed's thresholds drawn on them) for the deployed
function, table and API names. Around them this module adds what the seed's dashboard has beyond
graphs: the seed's alarms in an alarm status widget at the top ("current system status, active
alerts") and a Logs Insights widget of recent ERROR records at the bottom. The body is a JSON
string under ``Fn::Sub``, so API ids, region and account are filled in at deploy time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from heron.dashboard.history.cloudwatch_export import GRID_COLUMNS, text_widget
from heron.dashboard.history.cloudwatch_export import dashboard_body as graphs_body
from heron.dashboard.layout import DashboardConfig, FunctionInfo
from heron.deploy.names import DeployError

#: ``${...}`` placeholders resolved by Fn::Sub.
HTTP_API, WS_API = "${HttpApi}", "${WebSocketApi}"
REGION, ACCOUNT = "${AWS::Region}", "${AWS::AccountId}"
ALARMS_HEIGHT, LOGS_HEIGHT = 3, 6


def dashboard_widgets(
    *,
    functions: Sequence[tuple[str, int]],
    tables: Sequence[str],
    seed_alarms: Sequence[str],
    account_concurrency: int,
) -> list[dict[str, Any]]:
    """The widgets, top to bottom; ``functions`` are (deployed name, memory MB)."""
    config = DashboardConfig(
        functions=tuple(FunctionInfo(name, memory) for name, memory in functions),
        tables=tuple(tables),
        http_api_id=HTTP_API,
        ws_api_id=WS_API,
        account_concurrency=account_concurrency,
    )
    graphs = graphs_body(config, region=REGION)["widgets"]
    widgets: list[dict[str, Any]] = [
        {
            "type": "alarm",
            "x": 0,
            "y": 0,
            "width": GRID_COLUMNS,
            "height": ALARMS_HEIGHT,
            "properties": {
                "title": "Current status: the seed's alarms",
                "alarms": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{a}" for a in seed_alarms],
            },
        }
    ]
    for widget in graphs:
        widgets.append({**widget, "y": widget["y"] + ALARMS_HEIGHT})
    bottom = max(w["y"] + w["height"] for w in widgets)
    widgets.append(text_widget("## Logs", bottom))
    widgets.append(
        {
            "type": "log",
            "x": 0,
            "y": bottom + 1,
            "width": GRID_COLUMNS,
            "height": LOGS_HEIGHT,
            "properties": {
                "title": "Recent ERROR records",
                "region": REGION,
                "view": "table",
                "query": " | ".join(
                    [
                        *(f"SOURCE '/aws/lambda/{name}'" for name, _ in functions),
                        "fields @timestamp, function, @message",
                        'filter level = "ERROR"',
                        "sort @timestamp desc",
                        "limit 50",
                    ]
                ),
            },
        }
    )
    return widgets


def dashboard_body(**kwargs: Any) -> dict[str, Any]:
    """The ``DashboardBody`` as ``Fn::Sub`` of a JSON string (see ``dashboard_widgets``)."""
    body = {"start": "-PT6H", "periodOverride": "inherit", "widgets": dashboard_widgets(**kwargs)}
    text = json.dumps(body, separators=(",", ":"))
    # Fn::Sub reads every "${...}" as a reference: anything but ours would break the deploy.
    stray = set(re.findall(r"\$\{[^}]*\}", text)) - {HTTP_API, WS_API, REGION, ACCOUNT}
    if stray:
        raise DeployError(
            f"the dashboard body contains {sorted(stray)}, which Fn::Sub would resolve"
        )
    return {"Fn::Sub": text}
