"""The API's routes as the rendered template defines them, and how API Gateway matches a request.

Read from the template (resources tree, methods, auth, models), not from infragen.toml directly,
so `serve` answers for exactly what `deploy` would create.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from infragen.routes import Route, is_parameter

_FUNCTION_ARN = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")


@dataclass(frozen=True)
class Endpoint:
    """One method on one resource: the function it proxies to, its auth and its body model."""

    route: Route
    function_logical_id: str
    authorization: str  # "NONE" or "AWS_IAM"
    api_key_required: bool
    body_schema: dict | None = None  # the application/json model, when a validator checks bodies


@dataclass(frozen=True)
class Match:
    endpoint: Endpoint
    path_values: dict[str, str]


@dataclass
class RouteTable:
    endpoints: list[Endpoint]
    binary_media_types: tuple[str, ...] = ()
    has_api_key: bool = False  # the template declares an AWS::ApiGateway::ApiKey
    _by_path: dict[tuple[str, ...], dict[str, Endpoint]] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        for endpoint in self.endpoints:
            self._by_path.setdefault(endpoint.route.parts, {})[endpoint.route.method] = endpoint

    def match(self, method: str, path: str) -> Match | None:
        """The endpoint API Gateway would pick for `method path`, or None (→ 403 Missing Authentication Token).

        A literal path part wins over a path parameter at the same level; a method defined on the
        resource wins over ANY. A resource without the method (and without ANY) is no match, as on
        API Gateway, which answers both cases alike. One trailing slash names the same resource
        (`/hello/` is `/hello`); an empty segment anywhere else (`//`) names none.
        """
        if path != "/" and path.endswith("/"):
            path = path[:-1]
        parts = tuple(p for p in path.split("/") if p) if path != "/" else ()
        if path != "/" and (path.endswith("/") or "//" in path or not path.startswith("/")):
            return None
        for template_parts, values in self._candidates(parts):
            methods = self._by_path.get(template_parts, {})
            endpoint = methods.get(method) or methods.get("ANY")
            if endpoint:
                return Match(endpoint, values)
        return None

    def _candidates(self, parts: tuple[str, ...]):
        """Resource paths matching `parts`, literal parts first (API Gateway's precedence)."""
        known = list(self._by_path)

        def walk(depth: int, prefix: tuple[str, ...], values: dict[str, str]):
            if depth == len(parts):
                yield prefix, values
                return
            children = {p[depth] for p in known if len(p) > depth and p[:depth] == prefix}
            if parts[depth] in children and not is_parameter(parts[depth]):
                yield from walk(depth + 1, prefix + (parts[depth],), values)
            for child in sorted(c for c in children if is_parameter(c)):
                yield from walk(depth + 1, prefix + (child,), {**values, child.strip("{}"): parts[depth]})

        yield from walk(0, (), {})


def route_table(template: dict) -> RouteTable:
    """The API's endpoints from a rendered stack template."""
    resources = template.get("Resources", {})
    paths = _resource_paths(resources)
    endpoints = []
    for props in (r["Properties"] for r in resources.values() if r.get("Type") == "AWS::ApiGateway::Method"):
        resource_id = props["ResourceId"]
        parts = paths[resource_id["Ref"]] if isinstance(resource_id, dict) and "Ref" in resource_id else ()
        uri = props.get("Integration", {}).get("Uri", {})
        found = _FUNCTION_ARN.search(uri.get("Fn::Sub", "") if isinstance(uri, dict) else str(uri))
        if not found:
            continue  # not a Lambda proxy integration: nothing serve can run
        endpoints.append(Endpoint(
            route=Route(props["HttpMethod"], "/" + "/".join(parts)),
            function_logical_id=found.group(1),
            authorization=props.get("AuthorizationType", "NONE"),
            api_key_required=bool(props.get("ApiKeyRequired")),
            body_schema=_model(resources, props),
        ))
    rest_api = next((r["Properties"] for r in resources.values() if r.get("Type") == "AWS::ApiGateway::RestApi"), {})
    return RouteTable(sorted(endpoints, key=lambda e: e.route),
                      binary_media_types=tuple(rest_api.get("BinaryMediaTypes", ())),
                      has_api_key=any(r.get("Type") == "AWS::ApiGateway::ApiKey" for r in resources.values()))


def _resource_paths(resources: dict) -> dict[str, tuple[str, ...]]:
    """Logical id of each AWS::ApiGateway::Resource → its path parts, following ParentId."""
    nodes = {name: r["Properties"] for name, r in resources.items() if r.get("Type") == "AWS::ApiGateway::Resource"}
    paths: dict[str, tuple[str, ...]] = {}

    def path_of(name: str) -> tuple[str, ...]:
        if name not in paths:
            parent = nodes[name]["ParentId"]
            above = path_of(parent["Ref"]) if isinstance(parent, dict) and "Ref" in parent else ()
            paths[name] = above + (nodes[name]["PathPart"],)
        return paths[name]

    for name in nodes:
        path_of(name)
    return paths


def _model(resources: dict, method: dict) -> dict | None:
    """The application/json model's schema when the method's validator checks bodies."""
    validator = method.get("RequestValidatorId")
    model = (method.get("RequestModels") or {}).get("application/json")
    if not (isinstance(validator, dict) and isinstance(model, dict)):
        return None
    if not resources.get(validator.get("Ref"), {}).get("Properties", {}).get("ValidateRequestBody"):
        return None
    schema = resources.get(model.get("Ref"), {}).get("Properties", {}).get("Schema")
    return json.loads(schema) if isinstance(schema, str) else schema


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def is_binary(content_type: str | None, binary_media_types: tuple[str, ...]) -> bool:
    """Whether API Gateway would pass the body base64-encoded (binaryMediaTypes, `type/*` wildcards)."""
    kind = media_type(content_type)
    for pattern in binary_media_types:
        pattern = pattern.lower()
        if pattern in ("*/*", kind) or (pattern.endswith("/*") and kind.startswith(pattern[:-1])):
            return True
    return False
