"""DynamoDB tables with global secondary indexes, and the grants a function gets on them."""

import json
from dataclasses import replace

import pytest
from awacs.aws import Policy
from troposphere import GetAtt, Ref, Template, encode_to_dict
from troposphere.kms import Key

from infragen.config import IndexConfig, TableConfig
from infragen.iam_catalog import actions_taking
from infragen.render import stack_template
from infragen.stack import policies
from infragen.stack.functions import index_grants
from infragen.stack.tables import add_table

ORDERS = TableConfig("orders", "id", "created", indexes=(
    IndexConfig("by_customer", "customer", "created", ("item", "quantity")),
    IndexConfig("by_status", "status", projection="keys_only"),
    IndexConfig("by_id_total", "id", "total"),  # the table's partition key, another sort key
))


def as_json(statements) -> list[dict]:
    return encode_to_dict(Policy(Version=policies.VERSION, Statement=statements))["Statement"]


def table_json(table: TableConfig) -> dict:
    t = Template()
    add_table(t, table, key=t.add_resource(Key("Key")))
    return json.loads(t.to_json())["Resources"]["OrdersTable"]["Properties"]


def test_attribute_definitions_list_every_key_attribute_once_as_a_string():
    definitions = table_json(ORDERS)["AttributeDefinitions"]
    assert definitions == [{"AttributeName": n, "AttributeType": "S"}
                           for n in ("id", "created", "customer", "status", "total")]


def test_each_index_has_its_key_schema_and_projection_and_no_throughput():
    indexes = table_json(ORDERS)["GlobalSecondaryIndexes"]
    assert indexes == [
        {"IndexName": "by_customer",
         "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                       {"AttributeName": "created", "KeyType": "RANGE"}],
         "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["item", "quantity"]}},
        {"IndexName": "by_status", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
         "Projection": {"ProjectionType": "KEYS_ONLY"}},
        {"IndexName": "by_id_total",
         "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "total", "KeyType": "RANGE"}],
         "Projection": {"ProjectionType": "ALL"}},
    ]


def test_a_table_without_indexes_declares_none():
    assert "GlobalSecondaryIndexes" not in table_json(replace(ORDERS, indexes=()))


def test_index_actions_are_the_ones_the_reference_gives_the_index_resource_type():
    assert {"dynamodb:Query", "dynamodb:Scan"} <= set(actions_taking("dynamodb", "index"))
    assert not {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DescribeTable"} & set(
        actions_taking("dynamodb", "index"))
    assert policies.index_actions(policies.table_actions("read")) == ["dynamodb:Query", "dynamodb:Scan"]
    assert policies.index_actions(policies.table_actions("write")) == []


@pytest.fixture
def function(config):
    return config.env("dev").function("hello")


def granted(table: TableConfig, fn) -> dict[str, list[str]]:
    return {arn.to_dict()["Fn::Sub"]: actions for arn, actions in index_grants(table, fn)}


@pytest.mark.parametrize("tables, indexes, expected", [
    # a level reaches every index with its index actions
    ((("orders", "read"),), (), {f"${{OrdersTable.Arn}}/index/{i}": ["dynamodb:Query", "dynamodb:Scan"]
                                 for i in ("by_customer", "by_status", "by_id_total")}),
    ((("orders", "read_write"),), (), {f"${{OrdersTable.Arn}}/index/{i}": ["dynamodb:Query", "dynamodb:Scan"]
                                       for i in ("by_customer", "by_status", "by_id_total")}),
    ((("orders", "write"),), (), {}),
    # an action list names the table alone
    ((("orders", ("dynamodb:Query", "dynamodb:PutItem")),), (), {}),
    # a "TABLE/INDEX" entry names its index alone, with only the actions listed
    ((("orders", ("dynamodb:PutItem",)),), (("orders", "by_status", ("dynamodb:Scan",)),),
     {"${OrdersTable.Arn}/index/by_status": ["dynamodb:Scan"]}),
    ((), (("orders", "by_customer", "read"),),
     {"${OrdersTable.Arn}/index/by_customer": ["dynamodb:Query", "dynamodb:Scan"]}),
    # a level and an index entry together: each action once
    ((("orders", "read"),), (("orders", "by_customer", ("dynamodb:Query",)),),
     {f"${{OrdersTable.Arn}}/index/{i}": ["dynamodb:Query", "dynamodb:Scan"]
      for i in ("by_customer", "by_status", "by_id_total")}),
])
def test_index_grants(function, tables, indexes, expected):
    assert granted(ORDERS, replace(function, tables=tables, indexes=indexes)) == expected


def test_index_statements_and_the_key_use_they_need():
    arn = policies.index_arn("OrdersTable", "by_customer")
    statements = as_json(policies.table_statements(
        None, GetAtt("OrdersTable", "Arn"), Ref("OrdersTable"), GetAtt("Key", "Arn"), [(arn, ["dynamodb:Query"])]))
    assert statements[0] == {"Effect": "Allow", "Action": ["dynamodb:Query"],
                             "Resource": [{"Fn::Sub": "${OrdersTable.Arn}/index/by_customer"}]}
    assert statements[1]["Action"] == ["kms:Decrypt"]
    assert statements[1]["Condition"]["StringEquals"]["kms:EncryptionContext:aws:dynamodb:tableName"] == {
        "Ref": "OrdersTable"}
    assert len(statements) == 2  # nothing on the table itself


def test_indexes_sharing_actions_share_one_statement():
    arns = [policies.index_arn("OrdersTable", i) for i in ("a_1", "b_2")]
    statements = as_json(policies.table_statements("write", "T", "N", "K", [(a, ["dynamodb:Query"]) for a in arns]))
    assert [s["Resource"] for s in statements[:2]] == [
        ["T"], [{"Fn::Sub": "${OrdersTable.Arn}/index/a_1"}, {"Fn::Sub": "${OrdersTable.Arn}/index/b_2"}]]


def test_the_stack_renders_an_indexed_table_and_its_grants(config):
    dev = config.env("dev")
    hello = replace(dev.function("hello"), tables=(("orders", ("dynamodb:PutItem",)),),
                    indexes=(("orders", "by_customer", ("dynamodb:Query",)),))
    template = json.loads(stack_template(replace(dev, tables=(ORDERS,), functions=(hello, *dev.functions[1:]))))
    policy = template["Resources"]["HelloRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert {"Effect": "Allow", "Action": ["dynamodb:Query"],
            "Resource": [{"Fn::Sub": "${OrdersTable.Arn}/index/by_customer"}]} in policy
    assert len(template["Resources"]["OrdersTable"]["Properties"]["GlobalSecondaryIndexes"]) == 3
