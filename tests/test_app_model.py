"""A second app (tests/apps/shop): every guarantee of the example app holds for what a config declares.

Rendered, linted, checked for structure and least privilege, deployed to the emulator over HTTP,
then changed (a route added, a grant removed) and redeployed with the review showing exactly that.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli
from infragen.config import load_config
from infragen.lint import lint_text
from infragen.render import stack_template
from tests.stack.helpers import props, resources_of
from tests.wheels import write_wheel

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "tests" / "apps" / "shop"
FUNCTIONS = ("orders", "order_items", "reports", "nightly", "worker")


def camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


@pytest.fixture(scope="module")
def shop():
    config = load_config(SHOP / "infragen.toml")
    return {env: json.loads(stack_template(config.env(env))) for env in config.env_names}


def statements(template: dict, function: str) -> list[dict]:
    role = props(template, f"{camel(function)}Role")
    return role["Policies"][0]["PolicyDocument"]["Statement"]


def actions_on(template: dict, function: str, resource_ref: str) -> set[str]:
    """Actions a function's role grants on anything that refers to `resource_ref` (indexes aside)."""
    found = set()
    for statement in statements(template, function):
        resources = json.dumps(statement["Resource"])
        if resource_ref in resources and "Condition" not in statement and "/index/" not in resources:
            found |= set(statement["Action"])
    return found


def index_grants(template: dict, function: str) -> dict[str, set[str]]:
    """Index ARN (as written in the template) → the actions a function's role grants on it."""
    found: dict[str, set[str]] = {}
    for statement in statements(template, function):
        for resource in statement["Resource"]:
            if "/index/" in json.dumps(resource):
                found.setdefault(resource["Fn::Sub"], set()).update(statement["Action"])
    return found


def test_shop_renders_lint_clean_for_every_environment(shop):
    for env, template in shop.items():
        assert lint_text(json.dumps(template), f"{env}.json", "us-west-2") == []


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_function_keeps_the_example_apps_guarantees(shop, env):
    template = shop[env]
    cfg = load_config(SHOP / "infragen.toml").env(env)
    private = {"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}
    for fn in cfg.functions:
        stem = camel(fn.name)
        function = props(template, f"{stem}Function")
        assert function["VpcConfig"]["SubnetIds"] == list(private)
        assert function["KmsKeyArn"] == {"Fn::GetAtt": ["Key", "Arn"]}
        assert function["Role"] == {"Fn::GetAtt": [f"{stem}Role", "Arn"]}
        assert function["Handler"] == fn.handler and function["Runtime"] == fn.runtime
        assert function["Architectures"] == [fn.architecture]
        assert (function["Timeout"], function["MemorySize"]) == (fn.timeout, fn.memory)
        assert function["Code"]["S3Key"] == {"Ref": f"{stem}CodeKey"}
        assert function.get("ReservedConcurrentExecutions") == fn.reserved_concurrency
        log_group = props(template, function["LoggingConfig"]["LogGroup"]["Ref"])
        assert log_group["KmsKeyId"] == {"Fn::GetAtt": ["Key", "Arn"]}
        assert log_group["RetentionInDays"] == cfg.log_retention_days
        failures = props(template, f"{stem}AsyncFailures")
        assert failures["DestinationConfig"]["OnFailure"]["Destination"] == {"Ref": "ErrorTopic"}
        for metric in ("Errors", "Throttles"):
            assert props(template, f"{stem}{metric}Alarm")["AlarmActions"] == [{"Ref": "ErrorTopic"}]
    assert props(template, "OrdersFunction")["Environment"]["Variables"]["PAGE_SIZE"] == (
        "100" if env == "prod" else "50")
    assert props(template, "OrdersFunction")["MemorySize"] == (1024 if env == "prod" else 256)


def test_api_is_a_resource_tree_with_path_parameters(shop):
    template = shop["dev"]
    resources = resources_of(template, "AWS::ApiGateway::Resource")
    by_path = {}
    for logical_id, resource in resources.items():
        parent = resource["Properties"]["ParentId"]
        prefix = "" if "Fn::GetAtt" in parent else by_path_of(resources, parent["Ref"])
        by_path[f"{prefix}/{resource['Properties']['PathPart']}"] = logical_id
    assert set(by_path) == {"/orders", "/orders/{id}", "/orders/{id}/items", "/reports",
                            "/reports/{name}"}
    methods = {(props(template, m["Properties"]["ResourceId"]["Ref"])["PathPart"], p["HttpMethod"])
               for m in resources_of(template, "AWS::ApiGateway::Method").values()
               for p in [m["Properties"]]}
    assert ("{id}", "GET") in methods and ("{id}", "DELETE") in methods and ("{name}", "ANY") in methods
    item_get = props(template, "ApiGetOrdersIdParamItemsMethod")
    assert item_get["RequestParameters"] == {"method.request.path.id": True}


def by_path_of(resources: dict, logical_id: str) -> str:
    resource = resources[logical_id]["Properties"]
    parent = resource["ParentId"]
    prefix = "" if "Fn::GetAtt" in parent else by_path_of(resources, parent["Ref"])
    return f"{prefix}/{resource['PathPart']}"


def test_routes_are_authenticated_unless_opened(shop):
    for logical_id, method in resources_of(shop["dev"], "AWS::ApiGateway::Method").items():
        p = method["Properties"]
        opened = logical_id == "ApiGetOrdersMethod"  # open_routes = ["GET /orders"]
        assert p["ApiKeyRequired"] is (not opened), logical_id
        assert p["AuthorizationType"] == "NONE"


def test_one_permission_per_route_with_the_arn_api_gateway_invokes_with(shop):
    permissions = resources_of(shop["dev"], "AWS::Lambda::Permission")
    arns = {p["Properties"]["SourceArn"]["Fn::Sub"].split("/v1/")[1]: p["Properties"]["FunctionName"]
            for p in permissions.values() if p["Properties"]["Principal"] == "apigateway.amazonaws.com"}
    assert arns == {
        "GET/orders": {"Fn::GetAtt": ["OrdersFunction", "Arn"]},
        "POST/orders": {"Fn::GetAtt": ["OrdersFunction", "Arn"]},
        "GET/orders/*": {"Fn::GetAtt": ["OrdersFunction", "Arn"]},
        "DELETE/orders/*": {"Fn::GetAtt": ["OrdersFunction", "Arn"]},
        "GET/orders/*/items": {"Fn::GetAtt": ["OrderItemsFunction", "Arn"]},
        "PUT/orders/*/items": {"Fn::GetAtt": ["OrderItemsFunction", "Arn"]},
        "*/reports/*": {"Fn::GetAtt": ["ReportsFunction", "Arn"]},
    }


def test_body_schema_validates_only_that_functions_body_routes(shop):
    template = shop["dev"]
    schema = json.loads((SHOP / "schemas" / "order.json").read_text())
    assert json.loads(props(template, "OrdersBodyModel")["Schema"]) == schema
    validated = {k for k, m in resources_of(template, "AWS::ApiGateway::Method").items()
                 if "RequestValidatorId" in m["Properties"]}
    assert validated == {"ApiPostOrdersMethod"}  # not GET/DELETE, not order_items' PUT (no schema)


def test_table_is_on_demand_encrypted_recoverable_and_retained(shop):
    table = shop["dev"]["Resources"]["OrdersTable"]
    p = table["Properties"]
    assert p["BillingMode"] == "PAY_PER_REQUEST" and "TableName" not in p
    assert p["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS",
                                     "KMSMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert [k["KeyType"] for k in p["KeySchema"]] == ["HASH", "RANGE"]


def test_table_index_is_declared_with_its_keys_and_projection(shop):
    p = props(shop["dev"], "OrdersTable")
    # every key attribute of the table and its index exactly once (DynamoDB refuses any other)
    assert p["AttributeDefinitions"] == [{"AttributeName": name, "AttributeType": "S"}
                                         for name in ("id", "created", "customer")]
    assert p["GlobalSecondaryIndexes"] == [{
        "IndexName": "by_customer",
        "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                      {"AttributeName": "created", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["item", "quantity"]},
    }]  # on demand: no ProvisionedThroughput


def table_grants(template: dict, function: str) -> tuple[set[str], set[str]]:
    """(DynamoDB actions on the orders table, KMS actions for it) in a function's role."""
    table = actions_on(template, function, "OrdersTable")
    key_use = [s for s in statements(template, function)
               if "kms:EncryptionContext:aws:dynamodb:tableName" in json.dumps(s)]
    assert len(key_use) <= 1
    for statement in key_use:
        assert statement["Condition"]["StringEquals"]["kms:ViaService"] == {
            "Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}
        assert statement["Condition"]["StringEquals"]["kms:EncryptionContext:aws:dynamodb:tableName"] == {
            "Ref": "OrdersTable"}
    return table, set(key_use[0]["Action"]) if key_use else set()


def test_listed_table_actions_are_granted_exactly_with_the_key_use_they_need(shop):
    template = shop["dev"]
    write_key = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
    assert table_grants(template, "orders") == (
        {"dynamodb:Scan", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"}, write_key)
    assert table_grants(template, "order_items") == ({"dynamodb:Query"}, {"kms:Decrypt"})
    assert table_grants(template, "nightly") == ({"dynamodb:Scan"}, {"kms:Decrypt"})
    for function in ("reports", "worker"):
        assert "dynamodb" not in json.dumps(statements(template, function))
    for function in ("orders", "order_items", "nightly"):
        variables = props(template, f"{camel(function)}Function")["Environment"]["Variables"]
        assert variables["ORDERS_TABLE"] == {"Ref": "OrdersTable"}
    # "orders/by_customer" = ["dynamodb:Query"]: that action on that index's exact ARN; a list on the
    # table itself names the table alone
    assert index_grants(template, "orders") == {"${OrdersTable.Arn}/index/by_customer": {"dynamodb:Query"}}
    assert index_grants(template, "order_items") == index_grants(template, "nightly") == {}


def test_table_levels_grant_exactly_their_actions(tmp_path):
    config = copy_shop(tmp_path)
    text = config.read_text()
    text = re.sub(r'tables = \{ orders = \["dynamodb:Scan", "dynamodb:Query", "dynamodb:PutItem", '
                  r'"dynamodb:DeleteItem"\], .* \}', 'tables = { orders = "read_write" }', text)
    text = text.replace('tables = { orders = ["dynamodb:Query"] }', 'tables = { orders = "read" }')
    text = text.replace('tables = { orders = ["dynamodb:Scan"] }', 'tables = { orders = "write" }')
    config.write_text(text)
    template = json.loads(stack_template(load_config(config).env("dev")))
    read = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
            "dynamodb:DescribeTable"}
    write = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
             "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"}
    write_key = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
    assert table_grants(template, "orders") == (read | write, write_key)
    assert table_grants(template, "order_items") == (read, {"kms:Decrypt"})
    assert table_grants(template, "nightly") == (write, write_key)
    # a level reaches every index of the table with the level's index actions; writes never do
    by_customer = "${OrdersTable.Arn}/index/by_customer"
    assert index_grants(template, "orders") == index_grants(template, "order_items") == {
        by_customer: {"dynamodb:Query", "dynamodb:Scan"}}
    assert index_grants(template, "nightly") == {}


@pytest.mark.parametrize("access, allowed", [
    ('"admin"', "grant levels"), ('[]', "non-empty list"), ('["dynamodb:Queery"]', "DynamoDB actions"),
    ('["s3:GetObject"]', "DynamoDB actions"), ('["dynamodb:ListTables"]', "DynamoDB actions on a table"),
])
def test_a_tables_entry_is_a_level_or_dynamodb_table_actions(tmp_path, access, allowed):
    config = copy_shop(tmp_path)
    config.write_text(config.read_text().replace('tables = { orders = ["dynamodb:Scan"] }',
                                                 f"tables = {{ orders = {access} }}"))
    result = CliRunner().invoke(cli, ["render", "--all", "--config", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "functions.nightly.tables" in result.output and allowed in result.output
    assert not (tmp_path / "out").exists()


def test_access_grants_belong_to_their_function_alone(shop):
    for env, template in shop.items():
        expected = {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::shop-reports-{env}/*"}
        grants = [s for f in FUNCTIONS for s in statements(template, f) if "s3:GetObject" in s["Action"]]
        assert grants == [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [expected]}]
        assert grants[0] in statements(template, "reports")


def test_schedule_invokes_only_its_function_and_alarms_failed_deliveries(shop):
    template = shop["dev"]
    rules = resources_of(template, "AWS::Events::Rule")
    assert list(rules) == ["NightlySchedule"]
    rule = rules["NightlySchedule"]["Properties"]
    assert rule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["NightlyFunction", "Arn"]}
    permission = props(template, "NightlySchedulePermission")
    assert permission["SourceArn"] == {"Fn::GetAtt": ["NightlySchedule", "Arn"]}
    assert permission["Principal"] == "events.amazonaws.com"
    alarm = props(template, "NightlyScheduleFailedAlarm")
    assert alarm["MetricName"] == "FailedInvocations" and alarm["AlarmActions"] == [{"Ref": "ErrorTopic"}]


def test_a_function_without_routes_or_schedule_has_no_trigger_and_render_says_so(shop, tmp_path):
    for resource in resources_of(shop["dev"], "AWS::Lambda::Permission").values():
        assert "WorkerFunction" not in json.dumps(resource)
    result = CliRunner().invoke(cli, ["render", "--all", "--config", str(SHOP / "infragen.toml"),
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "note: function worker has no route and no schedule" in result.output
    assert re.search(r"wrote: .*dev\.json \([\d,]+ bytes compact, \d+ resources\)", result.output)


@pytest.fixture
def shop_index(tmp_path, monkeypatch) -> Path:
    """pip reads only a folder holding the shop's one dependency, a wheel written here."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels, "tinyfmt", "1.0",
                files={"tinyfmt/__init__.py": "def title(text):\n    return text.title()\n"})
    for name in [n for n in os.environ if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return wheels


def copy_shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root / "infragen.toml"


def deployment_id(config_path: Path) -> str:
    template = json.loads(stack_template(load_config(config_path).env("dev")))
    return next(k for k in template["Resources"] if k.startswith("ApiDeployment"))


@pytest.mark.parametrize("edit", [
    ('routes = ["GET /orders/{id}/items", "PUT /orders/{id}/items"]',
     'routes = ["GET /orders/{id}/items", "PUT /orders/{id}/items", "DELETE /orders/{id}/items"]'),
    ('open_routes = ["GET /orders"]', 'open_routes = []'),
    ('api_auth = "api_key"', 'api_auth = "iam"'),
])
def test_any_change_to_the_api_definition_makes_a_new_deployment(tmp_path, edit):
    config = copy_shop(tmp_path)
    before = deployment_id(config)
    config.write_text(config.read_text().replace(*edit))
    assert deployment_id(config) != before


def test_a_schema_change_makes_a_new_deployment(tmp_path):
    config = copy_shop(tmp_path)
    before = deployment_id(config)
    schema = config.parent / "schemas" / "order.json"
    schema.write_text(schema.read_text().replace('"minimum": 1', '"minimum": 2'))
    assert deployment_id(config) != before


def test_shop_deploys_to_the_emulator_and_a_change_is_reviewed_exactly(tmp_path, moto_endpoint,
                                                                        aws_clients, shop_index):
    config = copy_shop(tmp_path)
    target = ["--config", str(config), "--endpoint-url", moto_endpoint]
    first = CliRunner().invoke(cli, ["deploy", *target, "--yes"])
    assert first.exit_code == 0, first.output
    lam = aws_clients._client("lambda")
    for name in FUNCTIONS:
        live = lam.get_function(FunctionName=f"shop-dev-{name.replace('_', '-')}")["Configuration"]
        assert live["Runtime"] == "python3.12"
    assert lam.get_function(FunctionName="shop-dev-worker")["Configuration"]["Handler"] == "jobs.run"
    code_key = aws_clients.cloudformation.describe_stacks(StackName="shop-dev")["Stacks"][0]["Parameters"]
    key = next(p["ParameterValue"] for p in code_key if p["ParameterKey"] == "ReportsCodeKey")
    bucket = next(b["Name"] for b in aws_clients.s3.list_buckets()["Buckets"] if b["Name"].startswith("shop-"))
    zipped = zipfile.ZipFile(io.BytesIO(aws_clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    assert {"tinyfmt/__init__.py", "tinyfmt-1.0.dist-info/METADATA", "shared/store.py",
            "handler.py"} <= set(zipped.namelist())
    assert_index_answers_queries(aws_clients)

    text = config.read_text()
    text = text.replace('routes = ["GET /orders/{id}/items", "PUT /orders/{id}/items"]',
                        'routes = ["GET /orders/{id}/items", "PUT /orders/{id}/items", '
                        '"DELETE /orders/{id}/items"]')
    text = text.replace('access = [ { actions = ["s3:GetObject"], resources = '
                        '["arn:${AWS::Partition}:s3:::shop-reports-{env}/*"] } ]\n', "")
    config.write_text(text)
    second = CliRunner().invoke(cli, ["deploy", *target, "--yes"])
    assert second.exit_code == 0, second.output
    rows = re.findall(r"^\s*!?\s*(Add|Modify|Remove)\s+(\S+)", second.output, re.MULTILINE)
    changed = {logical_id for _, logical_id in rows}
    assert {"ApiDeleteOrdersIdParamItemsMethod", "ApiDeleteOrdersIdParamItemsPermission",
            "ReportsRole"} <= changed
    assert not {"OrdersRole", "OrdersFunction", "OrdersTable", "NightlySchedule"} & changed
    assert "s3:GetObject" in second.output  # the removed grant is shown in the role's change


def assert_index_answers_queries(aws_clients) -> None:
    """The deployed table has the by_customer index, and a query through it finds orders by customer
    with the projected attributes (keys + item, quantity) only."""
    resources = aws_clients.cloudformation.list_stack_resources(StackName="shop-dev")["StackResourceSummaries"]
    table = next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "OrdersTable")
    dynamodb = aws_clients._client("dynamodb")
    (index,) = dynamodb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_customer" and index["Projection"] == {
        "ProjectionType": "INCLUDE", "NonKeyAttributes": ["item", "quantity"]}
    for order_id, customer in (("1", "ann"), ("2", "bob"), ("3", "ann")):
        dynamodb.put_item(TableName=table, Item={
            "id": {"S": order_id}, "created": {"S": f"170000000{order_id}"}, "customer": {"S": customer},
            "item": {"S": "tea"}, "quantity": {"N": "2"}, "note": {"S": "not projected"}})
    found = dynamodb.query(TableName=table, IndexName="by_customer", KeyConditionExpression="customer = :c",
                           ExpressionAttributeValues={":c": {"S": "ann"}})["Items"]
    assert [item["id"]["S"] for item in found] == ["1", "3"]  # sorted by the index's sort key
    assert all("note" not in item and item["item"] == {"S": "tea"} for item in found)


def test_destroy_names_the_tables_it_keeps(tmp_path, moto_endpoint, aws_clients, shop_index):
    config = copy_shop(tmp_path)
    target = ["--config", str(config), "--endpoint-url", moto_endpoint]
    assert CliRunner().invoke(cli, ["deploy", *target, "--yes"]).exit_code == 0
    resources = aws_clients.cloudformation.list_stack_resources(StackName="shop-dev")["StackResourceSummaries"]
    table = next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "OrdersTable")
    result = CliRunner().invoke(cli, ["destroy", *target, "--yes"])
    assert result.exit_code == 0, result.output
    assert f"Kept after the delete (DeletionPolicy Retain; infragen never deletes data): " \
           f"AWS::DynamoDB::Table {table} (OrdersTable)" in result.output
    assert aws_clients._client("dynamodb").describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"


def test_invoke_runs_a_handler_with_its_requirements_installed_for_this_machine(
        tmp_path, moto_endpoint, aws_clients, shop_index):
    config = copy_shop(tmp_path)
    aws_clients.s3.create_bucket(Bucket="shop-reports-dev",
                                 CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    aws_clients.s3.put_object(Bucket="shop-reports-dev", Key="weekly", Body=b"sales went up")
    result = CliRunner().invoke(cli, ["invoke", "reports", "--path", "name=weekly", "--config", str(config),
                                      "--endpoint-url", moto_endpoint])
    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout[result.stdout.index("{"):])
    assert json.loads(response["body"]) == {"report": "Sales Went Up"}  # tinyfmt.title, from the wheel
    cached = list((config.parent / ".infragen" / "deps").iterdir())
    assert len(cached) == 1  # installed once for this machine, kept for the next invoke
