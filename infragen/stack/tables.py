"""DynamoDB tables: on demand, encrypted with the stack's key, recoverable, never deleted by a stack."""

from __future__ import annotations

from troposphere import GetAtt, Template
from troposphere import dynamodb

from infragen.config import TableConfig
from infragen.stack.names import table_logical_id


def add_table(t: Template, table: TableConfig, key) -> dynamodb.Table:
    """No TableName: CloudFormation names it, so a retained table never blocks a new one.

    Retained on stack deletion and on replacement (data is never deleted by infragen), with
    point-in-time recovery and deletion protection on.
    """
    keys = [(table.partition_key, "HASH")] + ([(table.sort_key, "RANGE")] if table.sort_key else [])
    return t.add_resource(dynamodb.Table(
        table_logical_id(table.name),
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[dynamodb.AttributeDefinition(AttributeName=name, AttributeType="S")
                              for name, _ in keys],
        KeySchema=[dynamodb.KeySchema(AttributeName=name, KeyType=kind) for name, kind in keys],
        SSESpecification=dynamodb.SSESpecification(SSEEnabled=True, SSEType="KMS",
                                                   KMSMasterKeyId=GetAtt(key, "Arn")),
        PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True),
        DeletionProtectionEnabled=True,
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    ))
