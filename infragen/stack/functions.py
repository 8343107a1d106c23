"""One Lambda function: log group, least-privilege role, function, async failure routing, alarms."""

from __future__ import annotations

from awacs.aws import Policy
from troposphere import GetAtt, Ref, Template
from troposphere import awslambda, iam

from infragen.config import EnvConfig, FunctionConfig, TableConfig
from infragen.stack import policies
from infragen.stack.alarms import add_alarm
from infragen.stack.names import (
    ARTIFACT_BUCKET_PARAMETER,
    camel,
    code_key_parameter,
    function_logical_id,
    function_name,
    log_group_prefix,
    parameter_env_var,
    table_env_var,
    table_logical_id,
)
from infragen.stack.logs import add_log_group
from infragen.stack.network import Network

PARAMETER_TTL_SECONDS = "300"
ASYNC_RETRY_ATTEMPTS = 2

# checkov asks for a dead-letter queue; failed async invocations go to the error topic through an
# on-failure destination instead, which carries the request, the response and the error.
ENI_SKIP = {"checkov": {"skip": [{"id": "CKV_AWS_111", "comment": (
    "The only unconstrained writes are the VPC network-interface actions Lambda needs to place the "
    "function in its private subnets; EC2 gives them no resource-level scoping here.")}]}}
DLQ_SKIP = {"checkov": {"skip": [{"id": "CKV_AWS_116", "comment": (
    "Failed asynchronous invocations are sent to the error topic by the EventInvokeConfig "
    "OnFailure destination, which supersedes a dead-letter queue.")}]}}


def _checkov_skips(cfg: EnvConfig, fn: FunctionConfig) -> dict:
    """The DLQ skip, and the concurrency-limit skip when infragen.toml reserves none."""
    skips = list(DLQ_SKIP["checkov"]["skip"])
    if fn.reserved_concurrency is None:
        skips.append({"id": "CKV_AWS_115", "comment": (
            f"No reserved concurrency by choice ([env.{cfg.env}] functions.{fn.name} sets none): a "
            "reservation is taken from the account's unreserved pool, which AWS keeps at 100 or "
            "more; the deploy checks it before creating anything (README, Quotas).")})
    return {"checkov": {"skip": skips}}


DESCRIPTION_LIMIT = 256  # characters Lambda accepts in a description


def environment(cfg: EnvConfig, fn: FunctionConfig, topic, tables: dict) -> dict:
    """The variables a function reads (names only for secrets, never values)."""
    variables = dict(fn.environment)
    variables.update({
        "ENVIRONMENT": cfg.env,
        "LOG_LEVEL": cfg.log_level,
        "ERROR_TOPIC_ARN": Ref(topic),
        "PARAMETER_TTL_SECONDS": PARAMETER_TTL_SECONDS,
    })
    variables.update({parameter_env_var(key): name for key, name in fn.parameters})
    variables.update({table_env_var(name): Ref(tables[name]) for name in fn.table_names})
    return dict(sorted(variables.items()))


def role_policy(cfg: EnvConfig, fn: FunctionConfig, log_group, key, topic, tables: dict) -> Policy:
    """Exactly what this function's code and runtime call, on the exact resources.

    No kms:Decrypt for the function's own environment: Lambda decrypts the variables itself through
    a KMS grant it creates at CreateFunction/UpdateFunctionConfiguration with the *deployer's*
    kms:CreateGrant/kms:Encrypt (AWS Lambda Developer Guide, "Securing Lambda environment
    variables": the customer-managed-key permissions are the user's who configures the function;
    "Data encryption at rest for AWS Lambda"). A role statement keyed on
    kms:EncryptionContext:LambdaFunctionName was never used, so it is not granted.
    """
    key_arn = GetAtt(key, "Arn")
    statements = [
        *policies.log_writing_statements(GetAtt(log_group, "Arn")),
        *policies.vpc_access_statements(),
        *policies.parameter_reading_statements([name for _, name in fn.parameters], key_arn),
        *policies.topic_publishing_statements(Ref(topic), key_arn),
    ]
    levels = dict(fn.tables)
    for name in fn.table_names:
        statements += policies.table_statements(levels.get(name), GetAtt(tables[name], "Arn"), Ref(tables[name]),
                                                key_arn, index_grants(cfg.table(name), fn))
    statements += policies.access_statements(fn.access)
    if cfg.tracing:
        statements += policies.xray_statements()
    return Policy(Version=policies.VERSION, Statement=statements)


def index_grants(table: TableConfig, fn: FunctionConfig) -> list[tuple]:
    """(index ARN, actions) for each of `table`'s indexes `fn` may read: a level on the table reaches
    every index with its index actions (Query, Scan); a `"TABLE/INDEX"` entry its own index. An action
    list on the table itself names the table alone."""
    level = dict(fn.tables).get(table.name)
    grants = []
    for index in table.indexes:
        actions = policies.index_actions(policies.table_actions(level)) if isinstance(level, str) else []
        for _, name, access in (g for g in fn.indexes if g[0] == table.name):
            if name == index.name:
                actions += policies.index_actions(policies.table_actions(access))
        if actions:
            grants.append((policies.index_arn(table_logical_id(table.name), index.name),
                           list(dict.fromkeys(actions))))
    return grants


def describe(cfg: EnvConfig, fn: FunctionConfig) -> str:
    """What calls the function, within Lambda's description limit."""
    callers = [route.key for route in fn.routes] + ([fn.schedule] if fn.schedule else [])
    text = f"{cfg.stack_name}: " + (", ".join(callers) if callers else "invoked directly")
    return text if len(text) <= DESCRIPTION_LIMIT else text[:DESCRIPTION_LIMIT - 1] + "…"


def add_function(t: Template, cfg: EnvConfig, fn: FunctionConfig, *, network: Network, key,
                 topic, tables: dict) -> awslambda.Function:
    stem = camel(fn.name)
    name = function_name(cfg, fn.name)
    log_group = add_log_group(t, cfg, f"{stem}LogGroup", f"{log_group_prefix(cfg)}lambda/{fn.name}",
                              key)
    role = t.add_resource(iam.Role(
        f"{stem}Role",
        Description=f"Runs {name}: only what its code calls, on its own resources",
        AssumeRolePolicyDocument=policies.assume_role_policy("lambda.amazonaws.com"),
        Policies=[iam.Policy(PolicyName=f"{fn.name}-least-privilege",
                             PolicyDocument=role_policy(cfg, fn, log_group, key, topic, tables))],
        Metadata=ENI_SKIP,
    ))
    function = t.add_resource(awslambda.Function(
        function_logical_id(fn.name),
        FunctionName=name,
        Description=describe(cfg, fn),
        Handler=fn.handler,
        Runtime=fn.runtime,
        Architectures=[fn.architecture],
        Code=awslambda.Code(S3Bucket=Ref(ARTIFACT_BUCKET_PARAMETER),
                            S3Key=Ref(code_key_parameter(fn.name))),
        Role=GetAtt(role, "Arn"),
        Timeout=fn.timeout,
        MemorySize=fn.memory,
        Environment=awslambda.Environment(Variables=environment(cfg, fn, topic, tables)),
        KmsKeyArn=GetAtt(key, "Arn"),
        VpcConfig=awslambda.VPCConfig(
            SubnetIds=[Ref(s) for s in network.private_subnets],
            SecurityGroupIds=[Ref(network.lambda_security_group)],
        ),
        LoggingConfig=awslambda.LoggingConfig(LogGroup=Ref(log_group)),
        **({} if fn.reserved_concurrency is None
           else {"ReservedConcurrentExecutions": fn.reserved_concurrency}),
        TracingConfig=awslambda.TracingConfig(Mode="Active" if cfg.tracing else "PassThrough"),
        # Nothing in the function's properties refers to the routes, so CloudFormation could create
        # (and API Gateway serve) it before its subnets can reach SSM and SNS. DependsOn orders it
        # (AWS CloudFormation User Guide, "DependsOn attribute": CloudFormation orders creation
        # only by references; a dependency without one must be declared).
        DependsOn=list(network.private_egress),
        Metadata=_checkov_skips(cfg, fn),
    ))
    t.add_resource(awslambda.EventInvokeConfig(
        f"{stem}AsyncFailures",
        FunctionName=Ref(function),
        Qualifier="$LATEST",
        MaximumRetryAttempts=ASYNC_RETRY_ATTEMPTS,
        DestinationConfig=awslambda.DestinationConfig(
            OnFailure=awslambda.OnFailure(Destination=Ref(topic))),
    ))
    for metric in ("Errors", "Throttles"):
        add_alarm(t, f"{stem}{metric}Alarm", name=f"{name}-{metric.lower()}",
                  namespace="AWS/Lambda", metric=metric, dimensions={"FunctionName": Ref(function)},
                  topic=topic, description=f"{name}: {metric.lower()} in the last minute")
    return function
