"""Regional REST API: authenticated routes to the functions, logged, traced, throttled, alarmed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from awacs import logs
from awacs.aws import Allow, Policy, Statement
from troposphere import GetAtt, Ref, Sub, Template
from troposphere import apigateway as apigw
from troposphere import awslambda, iam

from infragen.config import EnvConfig
from infragen.stack.alarms import add_alarm
from infragen.stack.arns import arn, log_group_arn
from infragen.stack.logs import add_log_group
from infragen.stack.names import STAGE_NAME, camel, log_group_prefix
from infragen.stack.policies import VERSION, assume_role_policy

DATA_BODY_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "DataRequest",
    "type": "object",
    "required": ["data"],
    "properties": {"data": {"type": "array"}},
}
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


def add_rest_api(t: Template, cfg: EnvConfig) -> apigw.RestApi:
    """Created first: the KMS key policy names the API's execution log group."""
    return t.add_resource(apigw.RestApi(
        "RestApi",
        Name=f"{cfg.stack_name}-api",
        Description=f"{cfg.stack_name}: GET /hello, POST /data",
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
    account = _add_account_logging_role(t) if cfg.manage_api_gateway_account else None
    methods = [_add_route(t, cfg, rest_api, cfg.function(name), function)
               for name, function in functions.items()]

    deployment = t.add_resource(apigw.Deployment(
        f"ApiDeployment{_definition_hash(methods)}",
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
        DependsOn=[access_logs.title, execution_logs.title] + ([account.title] if account else []),
        Metadata=NO_CACHE_SKIP,
    ))
    api_key = _add_api_key(t, cfg, rest_api, stage) if cfg.api_auth == "api_key" else None
    add_alarm(t, "Api5xxAlarm", name=f"{cfg.stack_name}-api-5xx", namespace="AWS/ApiGateway",
              metric="5XXError", dimensions={"ApiName": f"{cfg.stack_name}-api",
                                             "Stage": STAGE_NAME},
              topic=topic, description=f"{cfg.stack_name}-api: 5XX responses in the last minute")
    return Api(rest_api=rest_api, stage=stage, api_key=api_key)


def _add_route(t: Template, cfg: EnvConfig, rest_api, fn, function) -> apigw.Method:
    http_method, path = fn.route
    stem = camel(fn.name)
    resource = t.add_resource(apigw.Resource(
        f"{stem}ApiResource", RestApiId=Ref(rest_api),
        ParentId=GetAtt(rest_api, "RootResourceId"), PathPart=path.strip("/")))
    body_rules = {}
    if http_method == "POST":
        validator = t.add_resource(apigw.RequestValidator(
            f"{stem}BodyValidator", RestApiId=Ref(rest_api), Name=f"{fn.name}-body",
            ValidateRequestBody=True, ValidateRequestParameters=False))
        model = t.add_resource(apigw.Model(
            f"{stem}BodyModel", RestApiId=Ref(rest_api), Name=f"{stem}Body",
            ContentType="application/json", Schema=DATA_BODY_SCHEMA))
        body_rules = {"RequestValidatorId": Ref(validator),
                      "RequestModels": {"application/json": Ref(model)}}
    method = t.add_resource(apigw.Method(
        f"{stem}ApiMethod",
        RestApiId=Ref(rest_api),
        ResourceId=Ref(resource),
        HttpMethod=http_method,
        **method_auth(cfg, f"{http_method} {path}"),
        **body_rules,
        Integration=apigw.Integration(
            Type="AWS_PROXY",
            IntegrationHttpMethod="POST",
            Uri=Sub(f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31"
                    f"/functions/${{{function.title}.Arn}}/invocations"),
        ),
    ))
    t.add_resource(awslambda.Permission(
        f"{stem}ApiInvokePermission",
        FunctionName=GetAtt(function, "Arn"),
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=Sub(arn("execute-api",
                          f"${{{rest_api.title}}}/{STAGE_NAME}/{http_method}{path}")),
    ))
    return method


def _definition_hash(methods: list[apigw.Method]) -> str:
    """Short digest of everything a deployment snapshots, so a route change redeploys the API."""
    definition = json.dumps([m.to_dict() for m in methods], sort_keys=True, default=str)
    definition += json.dumps(DATA_BODY_SCHEMA, sort_keys=True)
    return hashlib.sha256(definition.encode()).hexdigest()[:10]


def _add_account_logging_role(t: Template) -> apigw.Account:
    """The region-wide role API Gateway logs with. Retained on delete: other APIs may rely on it."""
    role = t.add_resource(iam.Role(
        "ApiGatewayLoggingRole",
        Description="API Gateway (region-wide account setting) writes execution and access logs",
        # No aws:SourceAccount condition: AWS documents this role's trust without one, and
        # setting the account's log role validates that API Gateway can assume it.
        AssumeRolePolicyDocument=assume_role_policy("apigateway.amazonaws.com"),
        Policies=[iam.Policy(PolicyName="push-api-logs", PolicyDocument=Policy(
            Version=VERSION,
            # The role serves every API in this account and region, so it is scoped to log groups
            # of this account and region rather than to this stack's.
            Statement=[Statement(
                Effect=Allow,
                Action=[logs.CreateLogGroup, logs.CreateLogStream, logs.DescribeLogGroups,
                        logs.DescribeLogStreams, logs.PutLogEvents, logs.GetLogEvents,
                        logs.FilterLogEvents],
                Resource=[Sub(arn("logs", "log-group:*"))],
            )],
        ))],
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    ))
    return t.add_resource(apigw.Account(
        "ApiGatewayAccount", CloudWatchRoleArn=GetAtt(role, "Arn")))


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
