"""What a function needs: each scanned call as IAM actions on ARNs, resolved through the rendered
template, plus the Lambda platform's own needs (declared once, in PLATFORM).

ARNs are written as the role policies are (`${Table.Arn}`, `${Topic}`, `arn:${AWS::Partition}:…`)
so both sides compare as text with IAM wildcards. A part of a name the code computes from request
data becomes `*` and the need is marked inexact.
"""

from __future__ import annotations

from dataclasses import dataclass

from infragen import iam_catalog
from infragen.audit import mapping
from infragen.audit.scan import Call, Site
from infragen.audit.values import Env, Fmt, Lit, has_param
from infragen.policy_model import short

ACCOUNT_ARN = "arn:${AWS::Partition}:{service}:${AWS::Region}:${AWS::AccountId}:"
# Template resource types whose Ref is a name or URL but whose policies use GetAtt Arn.
ARN_BY_GETATT = {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Lambda::Function", "AWS::KMS::Key"}
# Encryption contexts AWS services use with KMS on a caller's behalf (each service's guide:
# "How … uses AWS KMS"): a statement conditioned on another key never matches their requests.
ENCRYPTION_CONTEXT_KEYS = {
    "ssm": {"PARAMETER_ARN"},
    "sns": {"aws:sns:topicArn"},
    "dynamodb": {"aws:dynamodb:tableName", "aws:dynamodb:subscriberId"},
    "lambda": {"aws:lambda:FunctionArn"},
    "logs": {"aws:logs:arn"},
    "sqs": {"aws:sqs:arn"},
}


# DynamoDB actions that read or write item data, for which it uses the table's key (control-plane
# actions such as DescribeTable do not).
DYNAMODB_ITEM_READS = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
                       "dynamodb:PartiQLSelect"}
DYNAMODB_ITEM_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                        "dynamodb:ConditionCheckItem", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate",
                        "dynamodb:PartiQLDelete"}


@dataclass(frozen=True)
class Need:
    """One action on one resource the function needs; `resource` None: not resolved at all."""
    action: str
    resource: str | None
    site: Site | None  # None: a platform need
    why: str  # "ssm.get_parameter", "platform: log writing", "SecureString decryption via ssm"
    service: str  # the AWS service the call goes to (for KMS: the service that uses the key)
    exact: bool = True

    @property
    def platform(self) -> bool:
        return self.site is None


@dataclass(frozen=True)
class Unresolved:
    """A call the audit cannot turn into needs: why, and where."""
    site: Site
    text: str
    reason: str


@dataclass
class FunctionContext:
    """The rendered template's view of one function."""
    name: str
    resources: dict  # the template's Resources
    function: dict  # the AWS::Lambda::Function's Properties

    @property
    def variables(self) -> dict:
        return (self.function.get("Environment") or {}).get("Variables") or {}

    def key_arn(self) -> str | None:
        key = self.function.get("KmsKeyArn")
        return self.arn_of(key) if key else None

    def arn_of(self, value) -> str:
        """`${X.Arn}` for a Ref to a resource whose Ref is not its ARN; the value's text otherwise."""
        if isinstance(value, dict) and "Ref" in value:
            kind = self.resources.get(value["Ref"], {}).get("Type")
            if kind in ARN_BY_GETATT:
                return f"${{{value['Ref']}.Arn}}"
        return short(value)

    def resource_of(self, value) -> dict | None:
        """The template resource a Ref/GetAtt value names, if any."""
        if isinstance(value, dict) and "Ref" in value:
            return self.resources.get(value["Ref"])
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return self.resources.get(value["Fn::GetAtt"][0])
        return None


@dataclass(frozen=True)
class Text:
    """A resolved string: its text (`*` for unknown parts), exact when nothing was unknown, and
    the template value it came from when it is one variable's whole value."""
    text: str
    exact: bool
    source: object = None


def resolve(value, ctx: FunctionContext) -> Text:
    if isinstance(value, Lit):
        return Text(value.text, True, value.text)
    if isinstance(value, Env) and isinstance(value.name, str):
        if value.name in ctx.variables:
            raw = ctx.variables[value.name]
            return Text(short(raw), True, raw)
        return Text("*", False)
    if isinstance(value, Fmt):
        parts = [resolve(p, ctx) for p in value.parts]
        return Text("".join(p.text for p in parts), all(p.exact for p in parts))
    return Text("*", False)


def _texts(call: Call, names: tuple[str, ...], ctx: FunctionContext) -> list[Text]:
    for name in names:
        values = call.arg(name)
        if values:
            concrete = [v for v in values if not has_param(v)] or list(values)
            return [resolve(v, ctx) for v in concrete]
    return []


def _account_arn(service: str, resource: str) -> str:
    return ACCOUNT_ARN.replace("{service}", service) + resource


def resources_for(service: str, action: str, call: Call, ctx: FunctionContext) -> list[Text]:
    """The ARNs `action` is checked against for this call; [] when the call does not say."""
    info = iam_catalog.lookup(action.split("@")[0])
    if info is None or not info.resource_types:
        return [Text("*", True)]
    types = set(info.resource_types)
    if action.endswith("@source"):
        return [Text("arn:${AWS::Partition}:s3:::*", False)]  # CopySource is "bucket/key" or a dict
    if service == "dynamodb" and "table" in types:
        found = []
        for table in _texts(call, ("TableName",), ctx):
            arn = ctx.arn_of(table.source) if isinstance(table.source, dict) else _account_arn(
                "dynamodb", f"table/{table.text}")
            found.append(Text(arn, table.exact, table.source))
        index = _texts(call, ("IndexName",), ctx)
        if index and "index" in types:
            found = [Text(f"{t.text}/index/{i.text}", t.exact and i.exact, t.source) for t in found for i in index]
        return found
    if service == "ssm" and "parameter" in types:
        return [Text(_account_arn("ssm", "parameter" + ("" if t.text.startswith("/") else "/") + t.text),
                     t.exact) for t in _texts(call, ("Name", "Names", "Path"), ctx)]
    if service == "s3":
        buckets = _texts(call, ("Bucket",), ctx)
        if "object" in types:
            keys = _texts(call, ("Key",), ctx) or [Text("*", False)]
            return [Text(f"arn:${{AWS::Partition}}:s3:::{b.text}/{k.text}", b.exact and k.exact)
                    for b in buckets for k in keys]
        return [Text(f"arn:${{AWS::Partition}}:s3:::{b.text}", b.exact) for b in buckets]
    if service == "sns":
        return [Text(ctx.arn_of(t.source) if isinstance(t.source, dict) else t.text, t.exact, t.source)
                for t in _texts(call, ("TopicArn", "TargetArn"), ctx)]
    if service in ("sqs", "lambda", "kms"):
        names = {"sqs": ("QueueUrl",), "lambda": ("FunctionName",), "kms": ("KeyId",)}[service]
        return [Text(ctx.arn_of(t.source), t.exact, t.source) for t in _texts(call, names, ctx)
                if isinstance(t.source, dict) or t.text.startswith("arn:")]
    return []


def call_needs(call: Call, ctx: FunctionContext) -> tuple[list[Need], list[Unresolved]]:
    """The needs of one scanned call, or why it cannot be resolved."""
    text = f"{call.site.text}(…)"
    if not isinstance(call.service, Lit):
        return [], [Unresolved(call.site, text, "the service is computed at run time")]
    service = call.service.text
    if not mapping.is_service(service):
        return [], [Unresolved(call.site, text, f"{service!r} is not an AWS service botocore knows")]
    if not isinstance(call.method, str):
        return [], [Unresolved(call.site, text, "the method is computed at run time (getattr)")]
    operations = mapping.operations(service, call.method, call.via)
    if not operations:
        return [], [Unresolved(call.site, text, f"{call.method!r} is no {call.via} operation of {service}")]
    needs, unresolved = [], []
    for operation in operations:
        actions = mapping.actions(service, operation)
        if not actions:
            unresolved.append(Unresolved(call.site, text, f"no IAM action is known for {service}:{operation}"))
        for action in actions:
            targets = resources_for(service, action, call, ctx)
            why = f"{service}.{call.method}" + ("" if call.via in ("client", "resource") else f" ({call.via})")
            if not targets:
                needs.append(Need(action.split("@")[0], None, call.site, why, service, exact=False))
            for target in targets:
                needs.append(Need(action.split("@")[0], target.text, call.site, why, service, target.exact))
                needs += _key_needs(service, action, call, target, ctx)
    return needs, unresolved


def _key_needs(service: str, action: str, call: Call, target: Text, ctx: FunctionContext) -> list[Need]:
    """KMS actions a service performs with the caller's permissions on an encrypted resource."""
    kms_actions: tuple[str, ...] = ()
    key = None
    if action in ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"):
        if any(isinstance(v, Lit) and v.text == "True" for v in call.arg("WithDecryption")):
            kms_actions, key = ("kms:Decrypt",), ctx.key_arn()  # SecureStrings use the stack's key
    elif service in ("sns", "dynamodb"):
        resource = ctx.resource_of(target.source) or {}
        props = resource.get("Properties", {})
        key_value = props.get("KmsMasterKeyId") or (props.get("SSESpecification") or {}).get("KMSMasterKeyId")
        if key_value:
            key = ctx.arn_of(key_value)
            if service == "sns":
                kms_actions = ("kms:GenerateDataKey", "kms:Decrypt")
            elif action in DYNAMODB_ITEM_WRITES:
                kms_actions = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
            elif action in DYNAMODB_ITEM_READS:
                kms_actions = ("kms:Decrypt",)
    why = f"{action} on a KMS-encrypted resource (via {service})"
    return [Need(a, key, call.site, why, service) for a in kms_actions if key]


# The Lambda platform's own needs for every function, by what the function's template sets.
PLATFORM = (
    ("LoggingConfig", ("logs:CreateLogStream", "logs:PutLogEvents"), "log writing"),
    ("VpcConfig", ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                   "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                   "ec2:UnassignPrivateIpAddresses"), "network interfaces"),
    ("TracingConfig", ("xray:PutTraceSegments", "xray:PutTelemetryRecords"), "X-Ray tracing"),
    # No entry for KmsKeyArn: Lambda decrypts the environment through the KMS grant it creates
    # at CreateFunction with the deployer's permissions (AWS: "Data encryption at rest for AWS
    # Lambda"), so the role needs no statement for it (issue 9 removed the one it had).
)


def platform_needs(ctx: FunctionContext, logical_id: str) -> list[Need]:
    needs = []
    props = ctx.function
    for setting, actions, why in PLATFORM:
        value = props.get(setting)
        if not value:
            continue
        if setting == "LoggingConfig":
            group = ctx.resource_of(value.get("LogGroup"))
            resource = f"${{{value['LogGroup']['Ref']}.Arn}}" if group else "*"
        elif setting == "TracingConfig":
            if value.get("Mode") != "Active":
                continue
            resource = "*"
        else:
            resource = "*"
        service = actions[0].split(":")[0]
        needs += [Need(a, resource, None, f"Lambda: {why}", service) for a in actions]
    return needs + destination_needs(ctx, logical_id)


def destination_needs(ctx: FunctionContext, logical_id: str) -> list[Need]:
    """Lambda sends failed asynchronous invocations to an SNS destination with the function's role."""
    needs = []
    for resource in ctx.resources.values():
        props = resource.get("Properties", {})
        if resource.get("Type") != "AWS::Lambda::EventInvokeConfig" or props.get("FunctionName") != {"Ref": logical_id}:
            continue
        config = props.get("DestinationConfig") or {}
        for outcome in ("OnFailure", "OnSuccess"):
            destination = (config.get(outcome) or {}).get("Destination")
            topic = ctx.resource_of(destination) or {}
            if topic.get("Type") != "AWS::SNS::Topic":
                continue
            why = f"Lambda: asynchronous {outcome} destination"
            needs.append(Need("sns:Publish", short(destination), None, why, "sns"))
            key = topic.get("Properties", {}).get("KmsMasterKeyId")
            if key:
                needs += [Need(a, ctx.arn_of(key), None, why, "sns") for a in ("kms:GenerateDataKey", "kms:Decrypt")]
    return needs
