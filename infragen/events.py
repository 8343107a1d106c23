"""Events as Lambda receives them: API Gateway REST proxy (v1) requests and EventBridge schedules.

`infragen invoke` builds one when no `--event` file is given. The shapes follow AWS's documented
examples ("Set up Lambda proxy integrations in API Gateway", "EventBridge scheduled events").
"""

from __future__ import annotations

import base64
import time
import uuid
from datetime import datetime, timezone

from infragen.errors import UsageError
from infragen.routes import Route, is_parameter, parse_route
from infragen.stack.names import STAGE_NAME, camel

LOCAL_ACCOUNT_ID = "123456789012"  # the account in events and contexts built locally (as moto's)
API_ID = "local00000"
SOURCE_IP = "127.0.0.1"
USER_AGENT = "infragen-invoke"


def proxy_event(route: Route, *, path_values: dict[str, str], body: str | None,
                region: str, query: dict[str, list[str]] | None = None,
                headers: dict[str, str] | None = None, binary: bool = False) -> dict:
    """A REST API proxy event for `route`, its path parameters filled from `path_values`."""
    missing = [name for name in route.path_parameters if name not in path_values]
    if missing:
        raise UsageError(f"{route.key} needs a value for {{{missing[0]}}}",
                         hint=f"pass --path {missing[0]}=VALUE")
    unknown = sorted(set(path_values) - set(route.path_parameters))
    if unknown:
        raise UsageError(f"{route.key} has no path parameter {{{unknown[0]}}}",
                         hint="its parameters: " + (", ".join(route.path_parameters) or "none"))
    parts = [path_values[p.strip("{}")] if is_parameter(p) else p for p in route.parts]
    path = "/" + "/".join(parts)
    method = "GET" if route.method == "ANY" else route.method
    all_headers = {"Accept": "application/json", "Host": f"{API_ID}.execute-api.{region}.amazonaws.com",
                   "User-Agent": USER_AGENT, "X-Forwarded-Proto": "https",
                   **({"Content-Type": "application/json"} if body is not None else {}),
                   **(headers or {})}
    return request_event(route, method=method, path=path, path_values=path_values,
                         headers={k: [v] for k, v in all_headers.items()}, query=query,
                         body=None if body is None else body.encode(), binary=binary, region=region)


def request_event(route: Route, *, method: str, path: str, path_values: dict[str, str],
                  headers: dict[str, list[str]], query: dict[str, list[str]] | None, body: bytes | None,
                  binary: bool, region: str, request_id: str | None = None,
                  source_ip: str = SOURCE_IP, identity: dict | None = None) -> dict:
    """The proxy event API Gateway sends for one request: `headers` and `query` multi-valued as
    received (the single-valued maps keep the last value), the body base64-encoded when `binary`,
    else decoded as UTF-8."""
    now = datetime.now(timezone.utc)
    request_id = request_id or str(uuid.uuid4())
    single = {k: v[-1] for k, v in headers.items() if v}
    host = next((v for k, v in single.items() if k.lower() == "host"), f"{API_ID}.execute-api.{region}.amazonaws.com")
    user_agent = next((v for k, v in single.items() if k.lower() == "user-agent"), None)
    payload = None
    if body is not None:
        payload = base64.b64encode(body).decode() if binary else body.decode("utf-8", errors="replace")
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": {k: list(v) for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": {k: list(v) for k, v in query.items()} if query else None,
        "pathParameters": dict(path_values) or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "extendedRequestId": request_id[:16],
            "httpMethod": method,
            "identity": {"sourceIp": source_ip, "userAgent": user_agent, "accountId": None,
                         "apiKey": None, "apiKeyId": None, "caller": None, "user": None,
                         "userArn": None, "accessKey": None, "cognitoIdentityId": None,
                         "cognitoIdentityPoolId": None, "cognitoAuthenticationType": None,
                         "cognitoAuthenticationProvider": None, "principalOrgId": None,
                         **(identity or {})},
            "path": f"/{STAGE_NAME}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "local0",
            "resourcePath": route.path,
            "stage": STAGE_NAME,
        },
        "body": payload,
        "isBase64Encoded": bool(binary and body is not None),
    }


def scheduled_event(rule_arn: str, region: str) -> dict:
    """What EventBridge sends a function on its schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def parse_path_values(pairs: tuple[str, ...]) -> dict[str, str]:
    """`("id=42", …)` from repeated --path options."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--path {pair!r} is not NAME=VALUE", hint="e.g. --path id=42")
        values[name] = value
    return values


def default_event(cfg, fn, route_text: str | None, path_values: tuple[str, ...], body: str | None,
                  region: str) -> dict:
    """A proxy event for the chosen (or first) route, else a scheduled event."""
    if route_text is not None:
        route = parse_route(route_text)
        if route not in fn.routes:
            raise UsageError(f"{fn.name} has no route {route_text!r}",
                             hint="its routes: " + (", ".join(r.key for r in fn.routes) or "none"))
    elif fn.routes:
        route = fn.routes[0]
    elif fn.schedule and not (path_values or body is not None):
        rule = f"arn:aws:events:{region}:{LOCAL_ACCOUNT_ID}:rule/{cfg.stack_name}-{camel(fn.name)}Schedule"
        return scheduled_event(rule, region)
    else:
        raise UsageError(f"{fn.name} has no route" + ("" if fn.schedule else " and no schedule")
                         + " to build an event for", hint="pass --event FILE (or - for stdin)")
    return proxy_event(route, path_values=parse_path_values(path_values), body=body, region=region)
