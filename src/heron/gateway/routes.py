"""HTTP API route selection: route keys like ``GET /users/{userId}`` matched the way AWS does.

AWS picks the most specific route: literal segments beat ``{param}`` segments, full matches beat
greedy ``{proxy+}`` matches, a named method beats ``ANY``, and ``$default`` catches what nothing
else matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from heron.errors import ConfigError
from heron.types import FunctionSpec

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})
DEFAULT_ROUTE = "$default"
_PARAM = re.compile(r"^\{([A-Za-z0-9_.\-]+)(\+?)\}$")

# Segment kinds, ordered by specificity (higher wins).
_LITERAL, _PARAM_KIND = 2, 1


@dataclass(frozen=True, slots=True)
class HttpRoute:
    """One declared HTTP route: its key, parsed template, and the function behind it."""

    route_key: str
    method: str
    path: str
    segments: tuple[str, ...]
    kinds: tuple[int, ...]
    params: tuple[str | None, ...]
    greedy: str | None
    function: str
    authorized: bool


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A selected route and the path parameters taken from the request path."""

    route: HttpRoute
    path_parameters: dict[str, str]


def parse_route_key(route_key: str, function: str, authorized: bool) -> HttpRoute:
    """Parse ``"METHOD /path/{param}"`` (or ``"$default"``); raise ConfigError on a bad key."""
    if route_key == DEFAULT_ROUTE:
        return HttpRoute(route_key, "ANY", "", (), (), (), None, function, authorized)
    method, _, path = route_key.partition(" ")
    if method not in METHODS or not path.startswith("/"):
        raise ConfigError(
            f"bad HTTP route key {route_key!r} for {function}: expected 'METHOD /path' "
            f"with METHOD one of {sorted(METHODS)}"
        )
    raw_segments = path[1:].split("/") if path != "/" else []
    segments: list[str] = []
    kinds: list[int] = []
    params: list[str | None] = []
    greedy: str | None = None
    for index, segment in enumerate(raw_segments):
        match = _PARAM.match(segment)
        if match and match.group(2):
            if index != len(raw_segments) - 1:
                raise ConfigError(f"greedy {segment} must be the last segment of {route_key!r}")
            greedy = match.group(1)
        elif match:
            segments.append(segment)
            kinds.append(_PARAM_KIND)
            params.append(match.group(1))
        elif "{" in segment or "}" in segment or segment == "":
            raise ConfigError(f"bad path segment {segment!r} in route key {route_key!r}")
        else:
            segments.append(segment)
            kinds.append(_LITERAL)
            params.append(None)
    return HttpRoute(
        route_key,
        method,
        path,
        tuple(segments),
        tuple(kinds),
        tuple(params),
        greedy,
        function,
        authorized,
    )


class RouteTable:
    """All HTTP routes of all functions, answering ``match(method, path)``."""

    def __init__(self, functions: Sequence[FunctionSpec]) -> None:
        routes: list[HttpRoute] = []
        seen: dict[str, str] = {}
        for spec in functions:
            for key in spec.http_routes:
                if key in seen:
                    raise ConfigError(
                        f"HTTP route {key!r} is declared by both {seen[key]} and {spec.name}"
                    )
                seen[key] = spec.name
                routes.append(parse_route_key(key, spec.name, spec.authorized))
        self._default = next((r for r in routes if r.route_key == DEFAULT_ROUTE), None)
        # Most specific first, so the first candidate that matches is the one AWS would pick.
        self._routes = sorted(
            (r for r in routes if r.route_key != DEFAULT_ROUTE), key=_specificity, reverse=True
        )

    @property
    def routes(self) -> tuple[HttpRoute, ...]:
        """Every route except ``$default``, most specific first."""
        return tuple(self._routes)

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        """Select the route for a request, or None when nothing (not even ``$default``) matches."""
        parts = raw_path[1:].split("/") if raw_path.startswith("/") else raw_path.split("/")
        if parts == [""]:
            parts = []
        for route in self._routes:
            if route.method != method and route.method != "ANY":
                continue
            params = _match_segments(route, parts)
            if params is not None:
                return RouteMatch(route, params)
        if self._default is not None:
            return RouteMatch(self._default, {})
        return None


def _specificity(route: HttpRoute) -> tuple[int, tuple[int, ...], int, int]:
    """Sort key: full matches, then literal-before-parameter segments, then named methods."""
    return (
        0 if route.greedy else 1,
        route.kinds,
        len(route.kinds),
        0 if route.method == "ANY" else 1,
    )


def _match_segments(route: HttpRoute, parts: list[str]) -> dict[str, str] | None:
    fixed = len(route.segments)
    if route.greedy is None:
        if len(parts) != fixed:
            return None
    elif len(parts) <= fixed or not any(parts[fixed:]):
        return None
    params: dict[str, str] = {}
    for segment, kind, name, part in zip(
        route.segments, route.kinds, route.params, parts, strict=False
    ):
        if kind == _LITERAL:
            if unquote(part) != segment:
                return None
        elif part == "":
            return None
        else:
            assert name is not None
            params[name] = unquote(part)
    if route.greedy is not None:
        params[route.greedy] = unquote("/".join(parts[fixed:]))
    return params
