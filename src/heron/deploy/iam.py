"""Least-privilege IAM: one role per function, allowed only the table actions its handler uses.

``ACCESS`` records, per handler, which tables (and indexes) it touches and how: read from the
handlers' code (``heron.functions``). A handler Heron does not know gets no table access at all;
its role can still write its own logs. Functions that post to or close WebSocket connections get
``execute-api:ManageConnections`` on the WebSocket API's stage and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heron.tables.schema import CONNECTIONS, MESSAGES, NOTIFICATIONS, USERS

_PKG = "heron.functions"
READ = ("dynamodb:GetItem",)
QUERY = ("dynamodb:Query",)
# A TransactWriteItems call needs the item-level action for each of its parts.
PUT = ("dynamodb:PutItem", "dynamodb:ConditionCheckItem")
UPDATE = ("dynamodb:UpdateItem", "dynamodb:ConditionCheckItem")
DELETE = ("dynamodb:DeleteItem", "dynamodb:ConditionCheckItem")


@dataclass(frozen=True, slots=True)
class Access:
    """What one handler may do: table -> actions, tables whose indexes it queries, and sockets."""

    tables: tuple[tuple[str, tuple[str, ...]], ...] = ()
    index_queries: tuple[str, ...] = ()
    manage_connections: bool = False


ACCESS: dict[str, Access] = {
    f"{_PKG}.users.create_user": Access(((USERS, READ + PUT),)),
    f"{_PKG}.users.get_user": Access(((USERS, READ),)),
    f"{_PKG}.users.update_user": Access(((USERS, READ + UPDATE + PUT + DELETE),)),
    f"{_PKG}.users.delete_user": Access(
        ((USERS, READ + DELETE), (CONNECTIONS, QUERY + DELETE)),
        index_queries=(CONNECTIONS,),
        manage_connections=True,
    ),
    f"{_PKG}.messages.send_message": Access(
        (
            (USERS, READ),
            (MESSAGES, READ + PUT),
            (NOTIFICATIONS, PUT),
            (CONNECTIONS, READ + QUERY + DELETE),
        ),
        index_queries=(CONNECTIONS,),
        manage_connections=True,
    ),
    f"{_PKG}.history.get_conversation": Access(((MESSAGES, QUERY),)),
    f"{_PKG}.notifications.list_notifications": Access(
        ((NOTIFICATIONS, QUERY),), index_queries=(NOTIFICATIONS,)
    ),
    f"{_PKG}.notifications.mark_notification_read": Access(((NOTIFICATIONS, READ + UPDATE),)),
    f"{_PKG}.connection_handler.handler": Access(((USERS, READ), (CONNECTIONS, PUT + DELETE))),
    f"{_PKG}.authorizer.handler": Access(((USERS, READ),)),
}
ASSUME_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def access_for(handler: str) -> Access:
    """The access ``handler`` needs (none for a handler Heron does not know)."""
    return ACCESS.get(handler, Access())


def _table_arn(table_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [table_id, "Arn"]}


def _index_arn(table_id: str) -> dict[str, Any]:
    return {"Fn::Sub": f"${{{table_id}.Arn}}/index/*"}


def role_resource(
    access: Access,
    *,
    log_group_id: str,
    table_ids: dict[str, str],
    ws_api_id: str | None,
    ws_stage: str,
    extra: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """The ``AWS::IAM::Role`` for one function: its log group, its tables, its sockets."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::Sub": f"${{{log_group_id}.Arn}}"},
        }
    ]
    for table, actions in access.tables:
        resources: list[Any] = [_table_arn(table_ids[table])]
        if table in access.index_queries:
            resources.append(_index_arn(table_ids[table]))
        statements.append(
            {
                "Sid": f"{table}Table",
                "Effect": "Allow",
                "Action": sorted(set(actions)),
                "Resource": resources,
            }
        )
    if access.manage_connections and ws_api_id:
        statements.append(
            {
                "Sid": "ManageConnections",
                "Effect": "Allow",
                "Action": "execute-api:ManageConnections",
                "Resource": {
                    "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}"
                    f":${{{ws_api_id}}}/{ws_stage}/POST/@connections/*"
                },
            }
        )
        statements[-1]["Resource"] = [
            statements[-1]["Resource"],
            {
                "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}"
                f":${{{ws_api_id}}}/{ws_stage}/DELETE/@connections/*"
            },
        ]
    statements.extend(extra)
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": ASSUME_LAMBDA,
            "Policies": [
                {
                    "PolicyName": "least-privilege",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }
