"""DynamoDB tables: on demand, encrypted with the stack's key, recoverable, never deleted by a stack."""

from __future__ import annotations

from troposphere import GetAtt, Template
from troposphere import dynamodb

from infragen.config import IndexConfig, TableConfig
from infragen.stack.names import table_logical_id


def add_table(t: Template, table: TableConfig, key) -> dynamodb.Table:
    """No TableName: CloudFormation names it, so a retained table never blocks a new one.

    Retained on stack deletion and on replacement (data is never deleted by infragen), with
    point-in-time recovery and deletion protection on. AttributeDefinitions lists exactly the key
    attributes of the table and its indexes (DynamoDB refuses one that is no key); all are strings.
    On-demand indexes take no ProvisionedThroughput.
    """
    indexes = {"GlobalSecondaryIndexes": [_index(i) for i in table.indexes]} if table.indexes else {}
    return t.add_resource(dynamodb.Table(
        table_logical_id(table.name),
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[dynamodb.AttributeDefinition(AttributeName=name, AttributeType="S")
                              for name in table.key_attributes],
        KeySchema=_key_schema(table.partition_key, table.sort_key),
        **indexes,
        SSESpecification=dynamodb.SSESpecification(SSEEnabled=True, SSEType="KMS",
                                                   KMSMasterKeyId=GetAtt(key, "Arn")),
        PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True),
        DeletionProtectionEnabled=True,
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    ))


def _key_schema(partition_key: str, sort_key: str | None) -> list[dynamodb.KeySchema]:
    keys = [(partition_key, "HASH")] + ([(sort_key, "RANGE")] if sort_key else [])
    return [dynamodb.KeySchema(AttributeName=name, KeyType=kind) for name, kind in keys]


def _index(index: IndexConfig) -> dynamodb.GlobalSecondaryIndex:
    if isinstance(index.projection, tuple):
        projection = dynamodb.Projection(ProjectionType="INCLUDE", NonKeyAttributes=list(index.projection))
    else:
        projection = dynamodb.Projection(ProjectionType=index.projection.upper())
    return dynamodb.GlobalSecondaryIndex(IndexName=index.name,
                                         KeySchema=_key_schema(index.partition_key, index.sort_key),
                                         Projection=projection)
