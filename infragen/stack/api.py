"""Regional REST API: authenticated routes to the functions, logged, traced, throttled, alarmed."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub, Template
from troposphere import apigateway as apigw
from troposphere import awslambda

from infragen.config import EnvConfig, FunctionConfig
from infragen.routes import Route, is_parameter
from infragen.stack.alarms import add_alarm
from infragen.stack.arns import arn, log_group_arn
from infragen.stack.logs import add_log_group
from infragen.stack.names import STAGE_NAME, camel, log_group_prefix

ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "apiKeyId": "$context.identity.apiKeyId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "errorMessage": "$context.error.message",
}, separators=(",", ":"))
# Caching would serve one caller's dynamic response to another; this API has no cacheable reads.
NO_CACHE_SKIP = {"checkov": {"skip": [{"id": "CKV_AWS_120", "comment": (
    "Responses are per-request (request ids, signed results); stage caching would be wrong "
    "and costs money while idle.")}]}}


@dataclass(frozen=True)
class Api:
    rest_api: apigw.RestApi
    stage: apigw.Stage
    api_key: apigw.ApiKey | None


# API Gateway's default (and, without a quota increase, maximum) integration timeout for REST APIs:
# 50 ms to 29 s (API Gateway Developer Guide, "Amazon API Gateway quotas", integration timeout).
# Explicit so the template says what a caller gets: after 29 s, HTTP 504 "Endpoint request timed
# out", while the function runs on to its own timeout (README, "Timeouts").
INTEGRATION_TIMEOUT_MS = 29_000

DESCRIPTION_ROUTES = 20  # routes named in the API's description; the rest are counted


def add_rest_api(t: Template, cfg: EnvConfig) -> apigw.RestApi:
    """Created first: the KMS key policy names the API's execution log group."""
    keys = [route.key for route, _ in cfg.routes]
    listed = ", ".join(keys[:DESCRIPTION_ROUTES])
    if len(keys) > DESCRIPTION_ROUTES:
        listed += f" and {len(keys) - DESCRIPTION_ROUTES} more"
    return t.add_resource(apigw.RestApi(
        "RestApi",
        Name=f"{cfg.stack_name}-api",
        Description=f"{cfg.stack_name}: {listed}",
        EndpointConfiguration=apigw.EndpointConfiguration(Types=["REGIONAL"]),
    ))


def method_auth(cfg: EnvConfig, route: str) -> dict:
    """Every route is authenticated unless infragen.toml lists it in open_routes."""
    if route in cfg.open_routes:
        return {"AuthorizationType": "NONE", "ApiKeyRequired": False}
    if cfg.api_auth == "iam":
        return {"AuthorizationType": "AWS_IAM", "ApiKeyRequired": False}
    return {"AuthorizationType": "NONE", "ApiKeyRequired": True}


def add_api(t: Template, cfg: EnvConfig, rest_api: apigw.RestApi, functions: dict, *, key,
            topic) -> Api:
    first = len(t.resources)
    routes = [route for route, _ in cfg.routes]
    ids = path_ids(routes)
    resources = _add_resource_tree(t, rest_api, routes, ids)
    validators = {fn.name: _add_body_rules(t, rest_api, fn) for fn in cfg.functions
                  if fn.body_schema_json and any(r.carries_body for r in fn.routes)}
    methods = [_add_route(t, cfg, rest_api, route, fn, functions[fn.name], resources,
                          f"Api{route.method.capitalize()}{ids[route.parts]}",
                          validators.get(fn.name) if route.carries_body else None)
               for route, fn in cfg.routes]
    definition = list(t.resources.values())[first:]

    deployment = t.add_resource(apigw.Deployment(
        f"ApiDeployment{_definition_hash(definition)}",
        RestApiId=Ref(rest_api),
        Description="Snapshot of the routes; its logical id changes whenever they do",
        DependsOn=[m.title for m in methods],
    ))
    access_logs = add_log_group(t, cfg, "ApiAccessLogGroup", f"{log_group_prefix(cfg)}api/access",
                                key)
    execution_logs = add_log_group(
        t, cfg, "ApiExecutionLogGroup",
        Sub(f"API-Gateway-Execution-Logs_${{{rest_api.title}}}/{STAGE_NAME}"), key)
    stage = t.add_resource(apigw.Stage(
        "ApiStage",
        RestApiId=Ref(rest_api),
        StageName=STAGE_NAME,
        DeploymentId=Ref(deployment),
        TracingEnabled=cfg.tracing,
        AccessLogSetting=apigw.AccessLogSetting(
            DestinationArn=log_group_arn(f"{log_group_prefix(cfg)}api/access"),
            Format=ACCESS_LOG_FORMAT,
        ),
        MethodSettings=[apigw.MethodSetting(
            ResourcePath="/*",
            HttpMethod="*",
            LoggingLevel="INFO",
            DataTraceEnabled=False,  # full request/response bodies would put secrets in logs
            MetricsEnabled=True,
            ThrottlingRateLimit=cfg.throttle_rate_limit,
            ThrottlingBurstLimit=cfg.throttle_burst_limit,
        )],
        DependsOn=[access_logs.title, execution_logs.title],
        Metadata=NO_CACHE_SKIP,
    ))
    api_key = _add_api_key(t, cfg, rest_api, stage) if cfg.api_auth == "api_key" else None
    add_alarm(t, "Api5xxAlarm", name=f"{cfg.stack_name}-api-5xx", namespace="AWS/ApiGateway",
              metric="5XXError", dimensions={"ApiName": f"{cfg.stack_name}-api",
                                             "Stage": STAGE_NAME},
              topic=topic, description=f"{cfg.stack_name}-api: 5XX responses in the last minute")
    return Api(rest_api=rest_api, stage=stage, api_key=api_key)


def path_ids(routes: list[Route]) -> dict[tuple[str, ...], str]:
    """Logical-id stem per path: `/orders/{id}` → `OrdersIdParam`, readable in a review.

    Paths whose readable stems collide (`/a-b` and `/aB`) get a short digest of the path too.
    """
    paths = {route.parts[:depth] for route in routes for depth in range(len(route.parts) + 1)}
    stems = {parts: _readable(parts) for parts in paths}
    taken = [stem for stem in stems.values()]
    return {parts: stem if taken.count(stem) == 1
            else stem + hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]
            for parts, stem in stems.items()}


def _readable(parts: tuple[str, ...]) -> str:
    words = []
    for part in parts:
        pieces = re.split(r"[^A-Za-z0-9]+", part.strip("{}"))
        words.append("".join(p[:1].upper() + p[1:] for p in pieces) + ("Param" if is_parameter(part) else ""))
    return "".join(words) or "Root"


def _add_resource_tree(t: Template, rest_api, routes: list[Route],
                       ids: dict[tuple[str, ...], str]) -> dict[tuple[str, ...], object]:
    """One API Gateway resource per path prefix any route uses; the root is the API's own."""
    resources: dict[tuple[str, ...], object] = {(): GetAtt(rest_api, "RootResourceId")}
    for route in routes:
        for depth in range(1, len(route.parts) + 1):
            parts = route.parts[:depth]
            if parts in resources:
                continue
            parent = resources[parts[:-1]]
            resources[parts] = t.add_resource(apigw.Resource(
                f"ApiPath{ids[parts]}", RestApiId=Ref(rest_api),
                ParentId=parent if depth == 1 else Ref(parent), PathPart=parts[-1]))
    return resources


def _add_body_rules(t: Template, rest_api, fn: FunctionConfig) -> dict:
    """A model from the function's `body_schema` and a validator that checks bodies against it."""
    stem = camel(fn.name)
    validator = t.add_resource(apigw.RequestValidator(
        f"{stem}BodyValidator", RestApiId=Ref(rest_api), Name=f"{fn.name}-body",
        ValidateRequestBody=True, ValidateRequestParameters=False))
    model = t.add_resource(apigw.Model(
        f"{stem}BodyModel", RestApiId=Ref(rest_api), Name=f"{stem}Body",
        ContentType="application/json", Schema=fn.body_model))
    return {"RequestValidatorId": Ref(validator), "RequestModels": {"application/json": Ref(model)}}


def _add_route(t: Template, cfg: EnvConfig, rest_api, route: Route, fn: FunctionConfig, function,
               resources: dict, stem: str, body_rules: dict | None) -> apigw.Method:
    resource = resources[route.parts]
    parameters = {f"method.request.path.{name}": True for name in route.path_parameters}
    method = t.add_resource(apigw.Method(
        f"{stem}Method",
        RestApiId=Ref(rest_api),
        ResourceId=resource if not route.parts else Ref(resource),
        HttpMethod=route.method,
        **method_auth(cfg, route.key),
        **(body_rules or {}),
        **({"RequestParameters": parameters} if parameters else {}),
        Integration=apigw.Integration(
            Type="AWS_PROXY",
            IntegrationHttpMethod="POST",
            TimeoutInMillis=INTEGRATION_TIMEOUT_MS,
            Uri=Sub(f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31"
                    f"/functions/${{{function.title}.Arn}}/invocations"),
        ),
    ))
    t.add_resource(awslambda.Permission(
        f"{stem}Permission",
        FunctionName=GetAtt(function, "Arn"),
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=Sub(arn("execute-api", f"${{{rest_api.title}}}/{STAGE_NAME}/{route.source_arn_path}")),
    ))
    return method


def _definition_hash(definition: list) -> str:
    """Short digest of everything a deployment snapshots (resources, methods, auth, models,
    validators), so any change to them redeploys the API."""
    text = json.dumps([r.to_dict() for r in definition], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _add_api_key(t: Template, cfg: EnvConfig, rest_api, stage) -> apigw.ApiKey:
    """API key + usage plan: callers send `x-api-key`; the value is generated by AWS."""
    api_key = t.add_resource(apigw.ApiKey(
        "ApiKey", Name=f"{cfg.stack_name}-default", Enabled=True,
        Description="Default client key; read its value with `aws apigateway get-api-key "
                    "--include-value --api-key <id>`"))
    plan = t.add_resource(apigw.UsagePlan(
        "ApiUsagePlan",
        UsagePlanName=f"{cfg.stack_name}-default",
        ApiStages=[apigw.ApiStage(ApiId=Ref(rest_api), Stage=Ref(stage))],
        Throttle=apigw.ThrottleSettings(RateLimit=cfg.throttle_rate_limit,
                                        BurstLimit=cfg.throttle_burst_limit),
    ))
    t.add_resource(apigw.UsagePlanKey(
        "ApiUsagePlanKey", KeyId=Ref(api_key), KeyType="API_KEY", UsagePlanId=Ref(plan)))
    return api_key
