"""IAM policy documents, written with awacs and scoped to the exact resources.

Helpers are named by what they return: `*_statements` → list of statements, `*_policy` → Policy.
"""

from __future__ import annotations

from awacs import ec2, kms, logs, sns, ssm, xray
from awacs.aws import (
    Action,
    Allow,
    Condition,
    Deny,
    Policy,
    Principal,
    Statement,
    StringEquals,
    StringLike,
)
from awacs.sts import AssumeRole
from troposphere import AWSHelperFn, Sub

from infragen.stack.arns import ssm_parameter_arn

VERSION = "2012-10-17"

# Lambda attaches a function to a VPC through network interfaces it creates with the function's
# role. EC2 offers no resource-level scoping for the Describe calls and Lambda creates the
# interfaces before their ids exist, so this is the one place a "*" resource is unavoidable.
VPC_NETWORK_INTERFACE_ACTIONS = [
    ec2.CreateNetworkInterface,
    ec2.DescribeNetworkInterfaces,
    ec2.DescribeSubnets,
    ec2.DeleteNetworkInterface,
    ec2.AssignPrivateIpAddresses,
    ec2.UnassignPrivateIpAddresses,
]
# X-Ray has no resource types at all: its write actions accept only "*".
XRAY_WRITE_ACTIONS = [xray.PutTraceSegments, xray.PutTelemetryRecords]
# logs:DescribeLogGroups has no resource type either (Service Authorization Reference, "Actions,
# resources, and condition keys for Amazon CloudWatch Logs": no resource-type column), so a statement
# naming `log-group:*` grants nothing. Roles whose service calls it get it on "*" (describe_log_groups_statement).


def assume_role_policy(service: str, *, source_account: bool = False) -> Policy:
    """Trust policy letting one AWS service assume a role (optionally only for this account)."""
    condition = (
        Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")))
        if source_account else None
    )
    statement = Statement(
        Effect=Allow,
        Principal=Principal("Service", [service]),
        Action=[AssumeRole],
        **({"Condition": condition} if condition else {}),
    )
    return Policy(Version=VERSION, Statement=[statement])


def log_writing_statements(log_group_arn: AWSHelperFn) -> list[Statement]:
    """Write log events into one log group (`GetAtt LogGroup.Arn`, which ends in ':*')."""
    return [Statement(
        Effect=Allow,
        Action=[logs.CreateLogStream, logs.PutLogEvents],
        Resource=[log_group_arn],
    )]


def describe_log_groups_statement() -> Statement:
    """The account-wide lookup some delivery services make before writing (only "*" authorises it)."""
    return Statement(Effect=Allow, Action=[logs.DescribeLogGroups], Resource=["*"])


def vpc_access_statements() -> list[Statement]:
    return [Statement(Effect=Allow, Action=VPC_NETWORK_INTERFACE_ACTIONS, Resource=["*"])]


def xray_statements() -> list[Statement]:
    return [Statement(Effect=Allow, Action=XRAY_WRITE_ACTIONS, Resource=["*"])]


def parameter_reading_statements(names: list[str], key_arn: AWSHelperFn) -> list[Statement]:
    """Read exactly these SecureString parameters, decrypting through SSM only.

    Parameter Store encrypts with the encryption context {"PARAMETER_ARN": <parameter ARN>} (AWS KMS
    Developer Guide, "How AWS Systems Manager Parameter Store uses AWS KMS"). Encryption-context
    keys are strings, and AWS's examples match them with the String operators; ArnLike on a
    `kms:EncryptionContext:*` key is not what AWS documents. The ARNs here are exact: StringEquals.
    """
    if not names:
        return []
    arns = [ssm_parameter_arn(name) for name in names]
    return [
        Statement(Effect=Allow, Action=[ssm.GetParameter], Resource=arns),
        Statement(
            Effect=Allow,
            Action=[kms.Decrypt],
            Resource=[key_arn],
            Condition=Condition(StringEquals({
                "kms:ViaService": Sub("ssm.${AWS::Region}.amazonaws.com"),
                "kms:EncryptionContext:PARAMETER_ARN": arns,
            })),
        ),
    ]


def topic_publishing_statements(topic_arn: AWSHelperFn, key_arn: AWSHelperFn) -> list[Statement]:
    """Publish to the KMS-encrypted error topic (SNS needs a data key from the topic's key)."""
    return [
        Statement(Effect=Allow, Action=[sns.Publish], Resource=[topic_arn]),
        Statement(
            Effect=Allow,
            Action=[kms.GenerateDataKey, kms.Decrypt],
            Resource=[key_arn],
            Condition=Condition(StringEquals("kms:ViaService", Sub("sns.${AWS::Region}.amazonaws.com"))),
        ),
    ]


# DynamoDB actions by grant level (infragen.toml `tables = { NAME = "read" | "write" | "read_write" }`).
TABLE_ACTIONS = {
    "read": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
             "dynamodb:DescribeTable"],
    "write": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
              "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"],
}
TABLE_ACTIONS["read_write"] = TABLE_ACTIONS["read"] + TABLE_ACTIONS["write"]
# DynamoDB uses the table's KMS key on the caller's behalf (AWS: "How Amazon DynamoDB uses AWS KMS"):
# item reads need Decrypt, item writes Encrypt and GenerateDataKey too; the encryption context
# names the table. DescribeTable touches no item, so it needs no key.
_ITEM_READS = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
               "dynamodb:ConditionCheckItem"}
_ITEM_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem"}


def table_actions(access: str | tuple[str, ...]) -> list[str]:
    """The DynamoDB actions a function's `tables` entry grants: a level's, or the ones listed."""
    return TABLE_ACTIONS[access] if isinstance(access, str) else list(access)


def table_key_actions(actions: list[str]) -> list[Action]:
    if _ITEM_WRITES & set(actions):
        return [kms.Encrypt, kms.Decrypt, kms.GenerateDataKey]
    return [kms.Decrypt] if _ITEM_READS & set(actions) else []


def index_actions(actions: list[str]) -> list[str]:
    """Those of `actions` that take an index as their resource (Service Authorization Reference:
    the `index` resource type: Query, Scan, PartiQLSelect…); writes never do."""
    from infragen.iam_catalog import lookup

    return [a for a in actions if "index" in lookup(a).resource_types]


def table_statements(access: str | tuple[str, ...] | None, table_arn: AWSHelperFn, table_name: AWSHelperFn,
                     key_arn: AWSHelperFn, indexes: list[tuple[Sub, list[str]]] = ()) -> list[Statement]:
    """The DynamoDB actions of one `tables` entry on one table, each index's actions on its exact ARN
    (`indexes`: (index_arn(…), actions)), plus the key use they need. `access` None: indexes only."""
    actions = table_actions(access) if access else []
    statements = [Statement(Effect=Allow, Action=[Action(*a.split(":", 1)) for a in actions],
                            Resource=[table_arn])] if actions else []
    by_actions: dict[tuple[str, ...], list[Sub]] = {}
    for arn, granted in indexes:
        if granted:
            by_actions.setdefault(tuple(granted), []).append(arn)
    for granted, arns in by_actions.items():
        statements.append(Statement(Effect=Allow, Action=[Action(*a.split(":", 1)) for a in granted],
                                    Resource=arns))
    key_actions = table_key_actions(actions + [a for granted in by_actions for a in granted])
    if key_actions:
        statements.append(Statement(
            Effect=Allow,
            Action=key_actions,
            Resource=[key_arn],
            Condition=Condition(StringEquals({
                "kms:ViaService": Sub("dynamodb.${AWS::Region}.amazonaws.com"),
                "kms:EncryptionContext:aws:dynamodb:tableName": table_name,
            })),
        ))
    return statements


def index_arn(table_logical_id: str, index: str) -> Sub:
    """`${Table.Arn}/index/NAME`: the ARN IAM checks Query and Scan against when they name the index."""
    return Sub(f"${{{table_logical_id}.Arn}}/index/{index}")


def access_statements(grants) -> list[Statement]:
    """The extra grants infragen.toml declares for one function, one statement each."""
    return [Statement(Effect=Allow, Action=[Action(*a.split(":", 1)) for a in grant.actions],
                      Resource=[Sub(r) if "${" in r else r for r in grant.resources])
            for grant in grants]


def deny_insecure_transport_statement(service: str, resources: list) -> Statement:
    """Refuse every call to these resources that is not made over TLS."""
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[Action(service, "*")],
        Resource=resources,
        Condition=Condition(StringEquals("aws:SecureTransport", "false")),
    )


def log_group_condition(arn_patterns: list[str]) -> Condition:
    """CloudWatch Logs encrypts with the context {"aws:logs:arn": <log group ARN>} ("Encrypt log
    data in CloudWatch Logs using AWS KMS"). Its example matches it with ArnLike, but encryption-
    context keys are typed String (Service Authorization Reference, AWS KMS condition keys), so
    the String operator is used: StringLike matches the same ARN patterns."""
    return Condition(StringLike("kms:EncryptionContext:aws:logs:arn", arn_patterns))

