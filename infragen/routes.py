"""API routes as declared in infragen.toml: `METHOD /path/{param}`, parsed and checked.

A route is what API Gateway calls a method on a resource: the path is split into parts, each a
literal (`orders`) or a path parameter (`{id}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
BODY_METHODS = ("POST", "PUT", "PATCH")  # the methods whose bodies a schema validates
_LITERAL = re.compile(r"[A-Za-z0-9._-]+")
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
ROUTE_FORMAT = ("'METHOD /path' with METHOD one of " + ", ".join(METHODS) + " and path segments "
                "of letters, digits, '._-' or a {parameter} (each name once), e.g. 'GET /orders/{id}'")


@dataclass(frozen=True, order=True)
class Route:
    method: str
    path: str  # "/" or "/a/{b}", no trailing slash

    @property
    def key(self) -> str:
        """How the route is written in infragen.toml (and matched in open_routes)."""
        return f"{self.method} {self.path}"

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(part for part in self.path.split("/") if part)

    @property
    def path_parameters(self) -> tuple[str, ...]:
        return tuple(m.group(1) for part in self.parts if (m := _PARAMETER.fullmatch(part)))

    @property
    def carries_body(self) -> bool:
        """A body schema applies (ANY also matches GET, whose requests have no body)."""
        return self.method in BODY_METHODS

    @property
    def source_arn_path(self) -> str:
        """The `METHOD/path` tail of the execute-api ARN API Gateway invokes with.

        API Gateway puts `*` for a path parameter and for ANY (AWS: "Control access to an API
        with IAM permissions", execute-api ARN format).
        """
        method = "*" if self.method == "ANY" else self.method
        parts = ["*" if _PARAMETER.fullmatch(p) else p for p in self.parts]
        return f"{method}/" + "/".join(parts)


def parse_route(text: str) -> Route | None:
    """The route `text` names, or None when it is malformed."""
    if not isinstance(text, str):
        return None
    pieces = text.split(" ")
    if len(pieces) != 2:
        return None
    method, path = pieces
    if method not in METHODS or not path.startswith("/"):
        return None
    if path == "/":
        return Route(method, "/")
    parts = path[1:].split("/")
    for part in parts:
        if not (_LITERAL.fullmatch(part) or _PARAMETER.fullmatch(part)):
            return None
    route = Route(method, path)
    # The proxy event's pathParameters is a map: one name twice could not carry both values.
    names = route.path_parameters
    return route if len(set(names)) == len(names) else None


def is_parameter(part: str) -> bool:
    return bool(_PARAMETER.fullmatch(part))


def sibling_parameter_conflict(routes: list[Route]) -> tuple[str, str, Route, str] | None:
    """Two different path parameters under one parent (API Gateway allows one per level).

    Returns (parent path, the parameter seen first, the route using another, that other) for the
    first conflict found, routes taken in their sorted order.
    """
    seen: dict[str, str] = {}
    for route in sorted(routes):
        parent = ""
        for part in route.parts:
            if is_parameter(part):
                other = seen.setdefault(parent or "/", part)
                if other != part:
                    return parent or "/", other, route, part
            parent += "/" + part
    return None
