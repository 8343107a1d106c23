"""The app model's validation, through `infragen render --all` as a user meets it.

Every refusal: exit 2, one message naming the file, the dotted key, the value and what is
allowed, and nothing written. Every acceptance: the templates are written.
"""

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli
from infragen.config import load_config

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "infragen.toml").read_text()
HELLO = "[functions.hello]\n"
# The example app's prod subscriber is a placeholder address, and every command says so.
PLACEHOLDER_NOTE = ("environment prod: alerts go to alerts@example.com, a reserved example domain "
                    "that receives no mail: replace it with a real address")
HELLO_ROUTES = 'routes = ["GET /hello"]'


@pytest.fixture
def app(tmp_path):
    """A copy of the repository's app; `app(text)` writes `text` as its config and renders it."""
    shutil.copytree(ROOT / "lambda_src", tmp_path / "lambda_src",
                    ignore=shutil.ignore_patterns("__pycache__"))

    def render(text: str):
        config = tmp_path / "infragen.toml"
        config.write_text(text)
        out = tmp_path / "out"
        result = CliRunner().invoke(cli, ["render", "--all", "--config", str(config), "--out", str(out)])
        return Rendered(result, out, config)

    return render


class Rendered:
    def __init__(self, result, out, config):
        self.result, self.out, self.config = result, out, config

    @property
    def output(self) -> str:
        return self.result.output

    def refused(self, key: str, value, allowed: str) -> None:
        """Exit 2 with `<file>: <key> = <value> is not allowed; expected …<allowed>…`, nothing written."""
        text = self.output
        assert self.result.exit_code == 2, text
        assert f"{self.config}: {key} = " in text, text
        assert "is not allowed; expected" in text and allowed in text, text
        assert repr(value) in text, text
        assert "Traceback" not in text and not self.out.exists()

    def rendered(self) -> dict:
        assert self.result.exit_code == 0, self.output
        return json.loads((self.out / "dev.json").read_text())


def with_hello(line: str) -> str:
    """BASE with `line` added to [functions.hello]."""
    return BASE.replace(HELLO, HELLO + line + "\n", 1)


def hello_routes(*routes: str) -> str:
    return BASE.replace(HELLO_ROUTES, "routes = " + json.dumps(list(routes)), 1)


def add_function(tmp_path: Path, name: str, body: str = "", *, folder: bool = True) -> str:
    """A [functions.NAME] table (and its source folder with a handler)."""
    if folder:
        (tmp_path / "lambda_src" / name).mkdir(parents=True, exist_ok=True)
        (tmp_path / "lambda_src" / name / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    return f"\n[functions.{name}]\n{body}\n"


# --- routes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("route", [
    "GET /orders/",          # trailing slash
    "GET //orders",          # empty segment
    "GET /orders//items",
    "get /orders",           # methods are upper case
    "FETCH /orders",
    "GET /orders/{}",        # empty parameter
    "GET /orders/{id",
    "GET /orders/{1d}",
    "GET /orders/{proxy+}",
    "GET orders",            # no leading slash
    "GET  /orders",
    "GET /orders?page=1",
    "GET /ord ers",
    "/orders",
    "GET /orders/{id}/items/{id}",  # one name twice: pathParameters is a map
    "",
])
def test_malformed_route_is_refused(app, route):
    app(hello_routes(route)).refused("functions.hello.routes", route, "'METHOD /path'")


@pytest.mark.parametrize("route", ["GET /", "ANY /hello", "HEAD /a.b/c_d/e-f", "OPTIONS /x/{Id_2}",
                                   "PATCH /orders/{id}/items/{item}"])
def test_well_formed_routes_render(app, route):
    assert app(hello_routes(route)).rendered()["Resources"]


def test_sibling_path_parameters_with_different_names_are_refused(app):
    text = hello_routes("GET /orders/{id}", "GET /orders/{orderId}/items")
    app(text).refused("functions.hello.routes", "GET /orders/{orderId}/items", "{id}")


def test_sibling_parameters_across_functions_name_the_second_function(app):
    text = hello_routes("GET /orders/{id}").replace('routes = ["POST /data"]',
                                                   'routes = ["POST /data", "PUT /orders/{key}"]')
    app(text).refused("functions.data_processor.routes", "PUT /orders/{key}", "{id}")


def test_same_route_twice_in_one_function_is_refused(app):
    app(hello_routes("GET /hello", "GET /hello")).refused("functions.hello.routes", "GET /hello",
                                                           "each route once")


def test_route_declared_by_two_functions_is_refused(app):
    text = BASE.replace('routes = ["POST /data"]', 'routes = ["POST /data", "GET /hello"]')
    app(text).refused("functions.data_processor.routes", "GET /hello", "hello declares it")


def test_route_duplicated_by_an_environment_override_names_the_override(app, tmp_path):
    text = BASE + '\n[env.dev.functions.data_processor]\nroutes = ["POST /data", "GET /hello"]\n'
    app(text).refused("env.dev.functions.data_processor.routes", "GET /hello", "hello declares it")


def test_second_method_on_a_path_and_any_render(app, tmp_path):
    text = hello_routes("GET /hello", "POST /hello", "ANY /hello/{name}")
    text += add_function(tmp_path, "orders", 'routes = ["DELETE /hello", "GET /orders/{id}"]')
    template = app(text).rendered()
    methods = {r["Properties"]["HttpMethod"] for r in template["Resources"].values()
               if r["Type"] == "AWS::ApiGateway::Method"}
    assert methods == {"GET", "POST", "ANY", "DELETE"}


def test_open_routes_must_be_declared_routes(app):
    text = BASE.replace("open_routes = []", 'open_routes = ["GET /helo"]')
    app(text).refused("stack.open_routes", "GET /helo", "GET /hello, POST /data")


def test_open_routes_must_be_well_formed(app):
    text = BASE.replace("open_routes = []", 'open_routes = ["get /hello"]')
    app(text).refused("stack.open_routes", "get /hello", "'METHOD /path'")


def test_open_route_that_only_one_environment_declares_is_refused(app):
    text = BASE.replace("open_routes = []", 'open_routes = ["GET /hi"]')
    text += '\n[env.prod.functions.hello]\nroutes = ["GET /hello", "GET /hi"]\n'
    text = re.sub(r"\[env.prod.functions.hello\]\nreserved_concurrency = 20 .*\n", "", text)
    app(text).refused("stack.open_routes", "GET /hi", "routes the functions declare")


# --- schedules --------------------------------------------------------------------------------

@pytest.mark.parametrize("expression,allowed", [
    ("rate(0 minutes)", "at least 1"),
    ("rate(1 minutes)", "'minute' for a value of 1"),
    ("rate(5 minute)", "'minutes' otherwise"),
    ("rate(2 weeks)", "rate(5 minutes)"),
    ("rate(-1 days)", "rate(5 minutes)"),
    ("rate(5minutes)", "rate(5 minutes)"),
    ("every 5 minutes", "rate(5 minutes)"),
    ("", "rate(5 minutes)"),
    ("cron(0 12 * * ?)", "six cron fields"),
    ("cron(0 12 * * ? * *)", "six cron fields"),
    ("cron(0 12 1 * MON *)", "'?' in exactly one"),
    ("cron(0 12 * * * *)", "'?' in exactly one"),
    ("cron(0 12 ? * ? *)", "'?' in exactly one"),
    ("cron(0 12 1 13 ? *)", "month"),
    ("cron(60 12 * * ? *)", "minutes"),
    ("cron(0 24 * * ? *)", "hours"),
    ("cron(0 12 32 * ? *)", "day-of-month"),
    ("cron(0 12 ? * 8 *)", "day-of-week"),
    ("cron(0 12 ? * MON-FRX *)", "day-of-week"),
    ("cron(0 12 * * ? 1969)", "year"),
    ("cron(0/0 * * * ? *)", "minutes"),
    ("cron(0 12 ? * 6W *)", "day-of-week"),     # W is a day-of-month wildcard
    ("cron(0 12 ? * LW *)", "day-of-week"),
    ("cron(0 12 6L * ? *)", "day-of-month"),    # nL is a day-of-week wildcard
    ("cron(0 12 3#2 * ? *)", "day-of-month"),   # and so is #
    ("cron(0 12 ? * 3#6 *)", "day-of-week"),
    ("cron(0 12 ? * 8#1 *)", "day-of-week"),
    ("cron(0 12 32W * ? *)", "day-of-month"),
])
def test_schedule_eventbridge_rejects_is_refused(app, expression, allowed):
    app(with_hello(f'schedule = "{expression}"')).refused("functions.hello.schedule", expression, allowed)


@pytest.mark.parametrize("expression", [
    "rate(1 minute)", "rate(2 hours)", "rate(1 day)", "rate(7 days)",
    "cron(0 12 * * ? *)", "cron(0/15 * ? * MON-FRI *)", "cron(0 10 ? * 6L 2026)",
    "cron(0 8 1W * ? *)", "cron(0 8 L * ? *)", "cron(0 8 LW * ? *)", "cron(0 18 ? * 6#3 *)",
    "cron(15,45 8-17 ? JAN-MAR,DEC SAT,SUN 2026-2030)", "cron(*/5 * * * ? *)",
])
def test_schedule_eventbridge_accepts_renders_a_rule(app, expression):
    template = app(with_hello(f'schedule = "{expression}"')).rendered()
    assert template["Resources"]["HelloSchedule"]["Properties"]["ScheduleExpression"] == expression


# --- access grants ----------------------------------------------------------------------------

def access(actions, resources) -> str:
    return "access = [ { actions = " + json.dumps(actions) + ", resources = " + json.dumps(resources) + " } ]"


@pytest.mark.parametrize("actions,resources,allowed", [
    (["s3:Get*"], ["arn:aws:s3:::b/*"], "named one by one"),
    (["*"], ["arn:aws:s3:::b/*"], "named one by one"),
    (["s3:*"], ["arn:aws:s3:::b/*"], "named one by one"),
    (["s3:GetObje?t"], ["arn:aws:s3:::b/*"], "named one by one"),
    (["s3:GetObjekt"], ["arn:aws:s3:::b/*"], "is not an IAM action"),
    (["GetObject"], ["arn:aws:s3:::b/*"], "is not an IAM action"),
    (["s4:GetObject"], ["arn:aws:s3:::b/*"], "is not an IAM action"),
    (["s3:GetObject"], ["*"], "s3:GetObject supports resource-level permissions"),
    (["s3:ListAllMyBuckets", "s3:GetObject"], ["*"], "s3:GetObject supports resource-level"),
    (["s3:GetObject"], ["arn:${AWS::Partition}:s3:::${Foo}/*"], "not ${Foo}"),
    (["s3:GetObject"], ["arn:aws:s3:::reports-{region}/*"], "{env}"),
    (["s3:GetObject"], ["reports/*"], "ARNs or '*'"),
    (["s3:GetObject"], ["arn:aws:s3:::*"], "as broad as '*'"),  # every bucket
    (["s3:GetObject"], ["arn:aws:s3:::*/*"], "as broad as '*'"),  # every object of every bucket
    (["dynamodb:Query"], ["arn:aws:dynamodb:us-west-2:123456789012:table/*"], "as broad as '*'"),
    (["lambda:InvokeFunction"], ["arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*"],
     "as broad as '*'"),
    (["sqs:SendMessage"], ["arn:aws:sqs:us-west-2:*:jobs"], "other accounts'"),
    (["sqs:SendMessage"], ["arn:aws:sqs:us-west-2:1234567890??:jobs"], "other accounts'"),
    (["dynamodb:Query"], ["arn:aws:dynamodb:eu-west-1:123456789012:*"], "as broad as '*'"),
    (["dynamodb:Query"], ["arn:aws:dynamodb:eu-west-1:123456789012:t*"], "as broad as '*'"),
    (["dynamodb:Query"], ["arn:aws:dynamodb:eu-west-1:123456789012:table/*/index/*"], "as broad as '*'"),
    (["lambda:InvokeFunction"], ["arn:aws:lambda:us-west-2:123456789012:func*"], "as broad as '*'"),
    (["ssm:GetParameter"], ["arn:aws:ssm:us-west-2:123456789012:parameter*"], "as broad as '*'"),
    (["ssm:GetParameter"], ["arn:aws:ssm:us-west-2:123456789012"], "arn:partition:service:region:account:resource"),
    ([], ["arn:aws:s3:::b/*"], "non-empty lists"),
    (["s3:GetObject"], [], "non-empty lists"),
])
def test_access_grant_that_is_not_least_privilege_is_refused(app, actions, resources, allowed):
    app(with_hello(access(actions, resources))).refused("functions.hello.access",
                                                        [{"actions": actions, "resources": resources}],
                                                        allowed)


def test_access_entry_with_other_keys_is_refused(app):
    text = with_hello('access = [ { actions = ["s3:GetObject"], resources = ["arn:aws:s3:::b"], '
                      'effect = "Deny" } ]')
    app(text).refused("functions.hello.access", "Deny", "entries like")


@pytest.mark.parametrize("resource", [
    "arn:aws:s3:::reports-{env}/*", "arn:aws:s3:::reports-*", "arn:aws:s3:::b/2026/*", "arn:aws:s3:::archive/*",
    "arn:${AWS::Partition}:s3:::table/*",  # a bucket named like another service's resource type
    "arn:aws:dynamodb:*:123456789012:table/orders", "arn:aws:dynamodb:us-west-2:123456789012:table/orders/index/*",
    "arn:aws:ssm:us-west-2:123456789012:parameter/app/{env}/*", "arn:aws:logs:us-west-2:123456789012:log-group:/app/x:*",
])
def test_access_resources_naming_their_resources_are_accepted(app, resource):
    service = next(s for s in ("s3", "dynamodb", "ssm", "logs") if f":{s}:" in resource)
    actions = {"s3": ["s3:GetObject"], "dynamodb": ["dynamodb:Query"], "ssm": ["ssm:GetParameter"],
               "logs": ["logs:PutLogEvents"]}[service]
    assert app(with_hello(access(actions, [resource]))).rendered()["Resources"]["HelloRole"]


def test_action_that_supports_only_star_may_use_star(app):
    template = app(with_hello(access(["s3:ListAllMyBuckets"], ["*"]))).rendered()
    assert "s3:ListAllMyBuckets" in json.dumps(template["Resources"]["HelloRole"])
    broad = "arn:aws:logs:us-west-2:123456789012:log-group:*"  # or an ARN as broad (the form AWS long asked for)
    assert app(with_hello(access(["logs:DescribeLogGroups"], [broad]))).rendered()["Resources"]["HelloRole"]


def test_access_resource_is_filled_in_per_environment(app):
    text = with_hello(access(["s3:GetObject"], ["arn:${AWS::Partition}:s3:::reports-{env}/*"]))
    rendered = app(text)
    rendered.rendered()
    for env in ("dev", "prod"):
        role = json.dumps(json.loads((rendered.out / f"{env}.json").read_text())["Resources"]["HelloRole"])
        assert f"arn:${{AWS::Partition}}:s3:::reports-{env}/*" in role and "{env}" not in role
    config = load_config(rendered.config)
    assert config.env("prod").function("hello").access[0].resources == (
        "arn:${AWS::Partition}:s3:::reports-prod/*",)


# --- environment variables --------------------------------------------------------------------

@pytest.mark.parametrize("name,value,allowed", [
    ("AWS_REGION", '"x"', "set by the Lambda runtime"),
    ("AWS_LAMBDA_ANYTHING", '"x"', "set by the Lambda runtime"),
    ("LAMBDA_TASK_ROOT", '"x"', "set by the Lambda runtime"),
    ("_HANDLER", '"x"', "starting with a letter"),
    ("1ST", '"x"', "starting with a letter"),
    ('"PAGE-SIZE"', '"x"', "letters, digits and '_'"),
    ("ENVIRONMENT", '"x"', "set for every function"),
    ("LOG_LEVEL", '"x"', "set for every function"),
    ("DB_PASSWORD", '"x"', "declare it under parameters"),
    ("stripe_api_key", '"x"', "declare it under parameters"),
    ("PAGE_SIZE", "50", "string values"),
    ("DEBUG", "true", "string values"),
    ("GREETING_PARAMETER", '"/x"', "GREETING_PARAMETER"),   # infragen sets it for parameters.greeting
])
def test_environment_variable_refused(app, name, value, allowed):
    text = with_hello(f"environment = {{ {name} = {value} }}")
    rendered = app(text)
    rendered.refused("functions.hello.environment", json.loads(value), allowed)
    assert name.strip('"') in rendered.output


def test_variable_colliding_with_a_table_variable_is_refused(app):
    text = with_hello('tables = { orders = "read" }\nenvironment = { ORDERS_TABLE = "mine" }')
    text += '\n[tables.orders]\npartition_key = "id"\n'
    app(text).refused("functions.hello.environment", {"ORDERS_TABLE": "mine"}, "ORDERS_TABLE")


def test_variable_colliding_through_an_environment_override_names_the_override(app):
    text = BASE + '\n[env.dev.functions.data_processor]\nparameters = { batch = "/x/{env}/batch" }\n'
    text = text.replace('environment = { BATCH_SIZE = "25" }', 'environment = { BATCH_PARAMETER = "1" }')
    app(text).refused("env.dev.functions.data_processor.parameters", {"batch": "/x/{env}/batch"},
                      "BATCH_PARAMETER")


def test_lower_case_variable_names_are_allowed(app):
    template = app(with_hello('environment = { page_size = "50", Mixed_1 = "x" }')).rendered()
    variables = template["Resources"]["HelloFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["page_size"] == "50" and variables["Mixed_1"] == "x"


# --- body schemas -----------------------------------------------------------------------------

SCHEMA_KEY = "functions.data_processor.body_schema"
SCHEMA_LINE = 'body_schema = "lambda_src/data_processor/request.schema.json"'


def with_schema(path: str) -> str:
    return BASE.replace(SCHEMA_LINE, f'body_schema = "{path}"', 1)


@pytest.mark.parametrize("content,allowed", [
    ("{not json", "a JSON document"),
    ("[1, 2]", "a JSON schema object"),
    ('"object"', "a JSON schema object"),
    ('{"type": 5}', "a valid draft-04 JSON schema"),
    ('{"type": "object", "required": []}', "a valid draft-04 JSON schema"),  # draft-04: minItems 1
    ('{"properties": {"a": {"type": "strng"}}}', "a valid draft-04 JSON schema"),
    ("[" * 100000, "a JSON document"),
    ('{"properties": {"a": ' * 300 + "{}" + "}}" * 300, "nested less deeply"),
])
def test_invalid_body_schema_is_refused(app, tmp_path, content, allowed):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "s.json").write_text(content)
    app(with_schema("schemas/s.json")).refused(SCHEMA_KEY, "schemas/s.json", allowed)


def test_body_schema_that_is_not_utf8_is_refused(app, tmp_path):
    (tmp_path / "s.json").write_bytes(b'{"title": "\xff"}')
    app(with_schema("s.json")).refused(SCHEMA_KEY, "s.json", "a readable UTF-8 file")


def test_missing_body_schema_is_refused(app):
    app(with_schema("schemas/none.json")).refused(SCHEMA_KEY, "schemas/none.json", "does not exist")


def test_body_schema_that_is_a_directory_is_refused(app, tmp_path):
    (tmp_path / "dir.json").mkdir()
    app(with_schema("dir.json")).refused(SCHEMA_KEY, "dir.json", "a readable UTF-8 file")


@pytest.mark.parametrize("path", ["../outside.json", "lambda_src/../../outside.json", "/tmp/outside.json"])
def test_body_schema_outside_the_project_is_refused(app, tmp_path, path):
    (tmp_path.parent / "outside.json").write_text('{"type": "object"}')
    Path("/tmp/outside.json").write_text('{"type": "object"}')
    app(with_schema(path)).refused(SCHEMA_KEY, path, "a file inside the project")


def test_body_schema_symlinked_out_of_the_project_is_refused(app, tmp_path):
    (tmp_path.parent / "outside.json").write_text('{"type": "object"}')
    (tmp_path / "link.json").symlink_to(tmp_path.parent / "outside.json")
    app(with_schema("link.json")).refused(SCHEMA_KEY, "link.json", "a file inside the project")


def test_body_schema_becomes_the_model(app, tmp_path):
    (tmp_path / "s.json").write_text('{"type": "object", "required": ["x"]}')
    model = app(with_schema("s.json")).rendered()["Resources"]["DataProcessorBodyModel"]
    assert json.loads(model["Properties"]["Schema"]) == {"type": "object", "required": ["x"]}


# --- source and handler -----------------------------------------------------------------------

def test_source_symlinked_out_of_the_project_is_refused(app, tmp_path):
    (tmp_path.parent / "elsewhere").mkdir(exist_ok=True)
    (tmp_path.parent / "elsewhere" / "handler.py").write_text("def handler(e, c):\n    return {}\n")
    (tmp_path / "lambda_src" / "linked").symlink_to(tmp_path.parent / "elsewhere")
    app(with_hello('source = "lambda_src/linked"')).refused("functions.hello.source", "lambda_src/linked",
                                                            "a folder inside the project")


@pytest.mark.parametrize("source,allowed", [
    ("../elsewhere", "a folder inside the project"),
    ("lambda_src/../../elsewhere", "a folder inside the project"),
    ("/abs", "a folder inside the project"),
    ("lambda_src/nothing", "an existing folder"),
    ("lambda_src/hello/handler.py", "an existing folder"),
    ("lambda src", "a folder of the project"),
    (".", "not the root itself"),  # its zip would hold infragen.toml, .infragen/ and every function
    ("lambda_src/..", "not the root itself"),
])
def test_bad_source_folder_is_refused(app, tmp_path, source, allowed):
    (tmp_path.parent / "elsewhere").mkdir(exist_ok=True)
    app(with_hello(f'source = "{source}"')).refused("functions.hello.source", source, allowed)


def test_function_without_its_default_folder_is_refused(app, tmp_path):
    text = BASE + add_function(tmp_path, "orders", folder=False)
    app(text).refused("functions.orders.source", "lambda_src/orders", "an existing folder")


@pytest.mark.parametrize("handler,allowed", [
    ("handler", "'module.function'"),
    ("handler.", "'module.function'"),
    (".handler", "'module.function'"),
    ("my-mod.handler", "'module.function'"),
    ("missing.handler", "lambda_src/hello/missing.py is missing"),
    ("sub.handler.handler", "lambda_src/hello/sub/handler.py is missing"),
])
def test_bad_handler_is_refused(app, handler, allowed):
    app(with_hello(f'handler = "{handler}"')).refused("functions.hello.handler", handler, allowed)


def test_handler_in_a_subpackage_renders(app, tmp_path):
    (tmp_path / "lambda_src/hello/api").mkdir()
    (tmp_path / "lambda_src/hello/api/entry.py").write_text("def main(event, context):\n    return {}\n")
    template = app(with_hello('handler = "api.entry.main"')).rendered()
    assert template["Resources"]["HelloFunction"]["Properties"]["Handler"] == "api.entry.main"


def test_missing_handler_through_an_override_names_the_override(app):
    text = BASE.replace("[env.prod.functions.hello]\n", '[env.prod.functions.hello]\nhandler = "gone.handler"\n')
    app(text).refused("env.prod.functions.hello.handler", "gone.handler", "gone.py is missing")


# --- tables -----------------------------------------------------------------------------------

def test_table_used_but_not_declared_is_refused(app):
    text = with_hello('tables = { orders = "read" }')
    app(text).refused("functions.hello.tables.orders", "orders", "[tables.orders]")


def test_table_used_through_an_override_but_not_declared_names_the_override(app):
    text = BASE + '\n[tables.items]\npartition_key = "id"\n'
    text = text.replace("[env.prod.functions.hello]\n", '[env.prod.functions.hello]\ntables = { orders = "read" }\n')
    app(text).refused("env.prod.functions.hello.tables.orders", "orders", "declared: items")


def test_unknown_grant_level_is_refused(app):
    text = with_hello('tables = { orders = "admin" }') + '\n[tables.orders]\npartition_key = "id"\n'
    app(text).refused("functions.hello.tables", {"orders": "admin"}, "'read', 'write', 'read_write'")


def test_sort_key_equal_to_partition_key_is_refused(app):
    text = BASE + '\n[tables.orders]\npartition_key = "id"\nsort_key = "id"\n'
    app(text).refused("tables.orders.sort_key", "id", "a key other than the partition key")


def test_table_without_partition_key_is_refused(app):
    text = BASE + '\n[tables.orders]\nsort_key = "created"\n'
    rendered = app(text)
    assert rendered.result.exit_code == 2 and not rendered.out.exists()
    assert f"{rendered.config}: missing key tables.orders.partition_key" in rendered.output


@pytest.mark.parametrize("body,key,value,allowed", [
    ('partition_key = ""', "tables.orders.partition_key", "", "an attribute name"),
    ("partition_key = 5", "tables.orders.partition_key", 5, "a string"),
    ('partition_key = "id"\nbilling = "provisioned"', None, None, None),
])
def test_bad_table_keys_are_refused(app, body, key, value, allowed):
    rendered = app(BASE + f"\n[tables.orders]\n{body}\n")
    if key is None:
        assert rendered.result.exit_code == 2 and "unknown key tables.orders.billing" in rendered.output
        assert not rendered.out.exists()
    else:
        rendered.refused(key, value, allowed)


# --- table indexes ----------------------------------------------------------------------------

ORDERS = '\n[tables.orders]\npartition_key = "id"\nsort_key = "created"\n'


def index(name: str = "by_customer", body: str = 'partition_key = "customer"') -> str:
    return f"\n[tables.orders.indexes.{name}]\n{body}\n"


def test_an_index_is_rendered_with_its_keys_and_projection(app):
    text = BASE + ORDERS + index() + index("by_total", 'partition_key = "total"\nprojection = "keys_only"')
    table = app(text).rendered()["Resources"]["OrdersTable"]["Properties"]
    assert [a["AttributeName"] for a in table["AttributeDefinitions"]] == ["id", "created", "customer", "total"]
    assert [(i["IndexName"], i["Projection"]["ProjectionType"]) for i in table["GlobalSecondaryIndexes"]] == [
        ("by_customer", "ALL"), ("by_total", "KEYS_ONLY")]
    assert load_config(app(text).config).env("dev").table("orders").indexes[0].projection == "all"


@pytest.mark.parametrize("name", ["ab", "1st", "_x1", "by-customer!", "b" * 256])
def test_bad_index_names_are_refused(app, name):
    app(BASE + ORDERS + index(f'"{name}"')).refused(f"tables.orders.indexes.{name}", name,
                                                   "an index name of 3 to 255 letters")


def test_more_than_twenty_indexes_are_refused(app):
    text = BASE + ORDERS + "".join(index(f"by_k{n}", f'partition_key = "k{n}"') for n in range(21))
    app(text).refused("tables.orders.indexes", "21 indexes", "at most 20 global secondary indexes")


def test_twenty_indexes_are_allowed(app):
    text = BASE + ORDERS + "".join(index(f"by_k{n}", f'partition_key = "k{n}"') for n in range(20))
    assert len(app(text).rendered()["Resources"]["OrdersTable"]["Properties"]["GlobalSecondaryIndexes"]) == 20


def test_an_index_declared_twice_is_refused(app):
    rendered = app(BASE + ORDERS + index() + index())
    assert rendered.result.exit_code == 2 and "not valid TOML" in rendered.output and not rendered.out.exists()


def test_index_without_partition_key_is_refused(app):
    rendered = app(BASE + ORDERS + index(body='sort_key = "created"'))
    assert rendered.result.exit_code == 2 and not rendered.out.exists()
    assert f"{rendered.config}: missing key tables.orders.indexes.by_customer.partition_key" in rendered.output


@pytest.mark.parametrize("body,key,value,allowed", [
    ('partition_key = "customer"\nsort_key = "customer"', "sort_key", "customer", "a key other than the index's"),
    ('partition_key = ""', "partition_key", "", "an attribute name"),
    ('partition_key = "customer"\nprojection = "everything"', "projection", "everything", "'all', 'keys_only'"),
    ('partition_key = "customer"\nprojection = []', "projection", [], "a list of 1 to 20 non-key attribute names"),
    ('partition_key = "customer"\nprojection = ["total", "total"]', "projection", ["total", "total"], "each once"),
    ('partition_key = "customer"\nprojection = ["total", 5]', "projection", ["total", 5], "non-key attribute names"),
    ('partition_key = "customer"\nprojection = ' + json.dumps([f"a{n}" for n in range(21)]), "projection",
     [f"a{n}" for n in range(21)], "1 to 20"),
    ('partition_key = "customer"\nprojection = ["total", "created"]', "projection", ["total", "created"],
     "'created' is a key of the table or the index"),
    ('partition_key = "customer"\nprojection = ["customer"]', "projection", ["customer"],
     "'customer' is a key of the table or the index"),
    ('partition_key = "customer"\nprojection = 5', "projection", 5, "a string or a list"),
])
def test_bad_index_settings_are_refused(app, body, key, value, allowed):
    app(BASE + ORDERS + index(body=body)).refused(f"tables.orders.indexes.by_customer.{key}", value, allowed)


def test_unknown_index_key_is_refused(app):
    rendered = app(BASE + ORDERS + index(body='partition_key = "customer"\nread_capacity = 5'))
    assert rendered.result.exit_code == 2 and not rendered.out.exists()
    assert "unknown key tables.orders.indexes.by_customer.read_capacity" in rendered.output
    assert "partition_key, projection, sort_key" in rendered.output


def test_more_than_a_hundred_included_attributes_over_a_tables_indexes_are_refused(app):
    """DynamoDB counts an attribute projected into two indexes twice."""
    attributes = json.dumps([f"a{n}" for n in range(20)])
    text = BASE + ORDERS + "".join(index(f"by_k{n}", f'partition_key = "k{n}"\nprojection = {attributes}')
                                   for n in range(5))
    exactly_100 = app(text)
    exactly_100.rendered()
    shutil.rmtree(exactly_100.out)
    text += index("by_k5", 'partition_key = "k5"\nprojection = ["a0"]')
    app(text).refused("tables.orders.indexes.by_k5.projection", ["a0"], "at most 100 included attributes")


def test_a_tables_indexes_must_be_a_table(app):
    app(BASE + '\n[tables.orders]\npartition_key = "id"\nindexes = 5\n').refused("tables.orders.indexes", 5, "a table")


def grant(access: str) -> str:
    return with_hello(f"tables = {access}") + ORDERS + index()


def test_a_grant_on_an_index_names_exactly_that_index(app):
    rendered = app(grant('{ "orders/by_customer" = ["dynamodb:Query"] }')).rendered()
    policy = json.dumps(rendered["Resources"]["HelloRole"]["Properties"]["Policies"])
    assert '{"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": [{"Fn::Sub": ' \
           '"${OrdersTable.Arn}/index/by_customer"}]}' in policy
    assert '"Resource": [{"Fn::GetAtt": ["OrdersTable", "Arn"]}]' not in policy  # not the table itself
    assert '"Action": ["kms:Decrypt"]' in policy  # index items are decrypted with the table's key
    variables = rendered["Resources"]["HelloFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["ORDERS_TABLE"] == {"Ref": "OrdersTable"}  # the code names the table to query an index


@pytest.mark.parametrize("access, key, value, allowed", [
    ('{ "orders/by_email" = ["dynamodb:Query"] }', "functions.hello.tables.orders/by_email", "by_email",
     "an index declared as [tables.orders.indexes.by_email] (declared: by_customer)"),
    ('{ "items/by_customer" = "read" }', "functions.hello.tables.items/by_customer", "items",
     "a table declared as [tables.items] (declared: orders)"),
    ('{ "orders/by_customer" = "read_write" }', "functions.hello.tables", {"orders/by_customer": "read_write"},
     "an index is only read, writes go to its table"),
    ('{ "orders/by_customer" = ["dynamodb:PutItem"] }', "functions.hello.tables",
     {"orders/by_customer": ["dynamodb:PutItem"]}, "DynamoDB actions on an index: dynamodb:DescribeContributorInsights"),
    ('{ "orders/by_customer" = ["dynamodb:GetItem"] }', "functions.hello.tables",
     {"orders/by_customer": ["dynamodb:GetItem"]}, "dynamodb:Query, dynamodb:Scan"),
    ('{ "orders/" = "read" }', "functions.hello.tables", {"orders/": "read"}, '"TABLE/INDEX"'),
    ('{ "orders/by/x" = "read" }', "functions.hello.tables", {"orders/by/x": "read"}, '"TABLE/INDEX"'),
])
def test_bad_index_grants_are_refused(app, access, key, value, allowed):
    app(grant(access)).refused(key, value, allowed)


def test_an_index_grant_on_a_table_without_indexes_is_refused(app):
    text = with_hello('tables = { "orders/by_customer" = "read" }') + ORDERS
    app(text).refused("functions.hello.tables.orders/by_customer", "by_customer", "(orders declares none)")


def test_a_variable_colliding_with_an_index_grants_table_variable_is_refused(app):
    text = with_hello('tables = { "orders/by_customer" = "read" }\nenvironment = { ORDERS_TABLE = "x" }')
    app(text + ORDERS + index()).refused("functions.hello.environment", {"ORDERS_TABLE": "x"}, "ORDERS_TABLE")


# --- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Orders", "order-api", "1orders", "_orders", "o" * 41])
def test_bad_function_names_are_refused(app, tmp_path, name):
    text = BASE + add_function(tmp_path, name)
    app(text).refused(f"functions.{name}", name, "a function name of lower-case letters")


@pytest.mark.parametrize("name", ["Orders", "order-log", "9lives", "t" * 41])
def test_bad_table_names_are_refused(app, name):
    app(BASE + f'\n[tables."{name}"]\npartition_key = "id"\n').refused(f"tables.{name}", name,
                                                                       "a table name of lower-case")


def test_names_that_become_one_cloudformation_id_are_refused(app, tmp_path):
    text = BASE + add_function(tmp_path, "a_1b") + add_function(tmp_path, "a1b")
    app(text).refused("functions.a1b", "a1b", "a_1b")


def test_tables_that_become_one_cloudformation_id_are_refused(app):
    text = BASE + '\n[tables.a_1b]\npartition_key = "id"\n[tables.a1b]\npartition_key = "id"\n'
    app(text).refused("tables.a1b", "a1b", "a_1b")


def test_a_function_and_a_table_may_share_a_name(app, tmp_path):
    text = BASE + add_function(tmp_path, "orders", 'tables = { orders = "read_write" }')
    text += '\n[tables.orders]\npartition_key = "id"\n'
    resources = app(text).rendered()["Resources"]
    assert resources["OrdersFunction"]["Type"] == "AWS::Lambda::Function"
    assert resources["OrdersTable"]["Type"] == "AWS::DynamoDB::Table"


@pytest.mark.parametrize("name", ["flow", "flow_log", "api_access", "api_get_hello", "api_path_x"])
def test_function_names_that_would_take_the_stacks_own_ids_are_refused(app, tmp_path, name):
    app(BASE + add_function(tmp_path, name)).refused(f"functions.{name}", name, "reserved")


def test_a_function_named_api_is_refused_as_the_api_log_s_name(app, tmp_path):
    app(BASE + add_function(tmp_path, "api")).refused("functions.api", "api", "`infragen logs api`")


@pytest.mark.parametrize("name", ["public_route", "api_path"])
def test_table_names_that_would_take_the_stacks_own_ids_are_refused(app, name):
    app(BASE + f"\n[tables.{name}]\npartition_key = 'id'\n").refused(f"tables.{name}", name, "reserved")


def test_lambda_name_over_64_characters_is_refused(app, tmp_path):
    name = "f" * 40  # infragen-prod- (14) + 40 = 54 fits; a 23-letter stack name does not
    text = BASE.replace('stack_name = "infragen-{env}"', 'stack_name = "infragen-longer-name-{env}"', 1)
    rendered = app(text + add_function(tmp_path, name))
    rendered.refused("stack.stack_name", "infragen-longer-name-{env}", "fits 64")
    assert repr("infragen-longer-name-dev-" + "f" * 40) + " (65 characters)" in rendered.output


# --- stacks (issue 8 H1) ----------------------------------------------------------------------

def test_stack_name_without_env_shared_by_two_environments_is_refused(app):
    text = BASE.replace('stack_name = "infragen-{env}"', 'stack_name = "infragen"', 1)
    app(text).refused("stack.stack_name", "infragen", "environment 'dev' deploys to 'infragen' too")


def test_override_naming_another_environments_stack_is_refused(app):
    text = BASE.replace("[env.prod]\n", '[env.prod]\nstack_name = "infragen-dev"\n', 1)
    app(text).refused("env.prod.stack_name", "infragen-dev", "environment 'dev'")


def test_stack_name_equal_to_the_bootstrap_stack_is_refused(app):
    text = BASE.replace('bootstrap_stack = "infragen-bootstrap"', 'bootstrap_stack = "infragen-dev"', 1)
    app(text).refused("stack.bootstrap_stack", "infragen-dev", "environment 'dev'")


def test_bootstrap_override_naming_an_environments_stack_names_the_override(app):
    text = BASE.replace("[env.prod]\n", '[env.prod]\nbootstrap_stack = "infragen-dev"\n', 1)
    app(text).refused("env.prod.bootstrap_stack", "infragen-dev", "environment 'dev'")


def test_lambda_names_shared_by_two_environments_in_one_region_are_refused(app, tmp_path):
    # env a: stack "app", function dev_x → app-dev-x; env b: stack "app-dev", function x → app-dev-x
    text = BASE.replace('stack_name = "infragen-{env}"', 'stack_name = "app"', 1)
    text = text.replace("[env.prod]\n", '[env.prod]\nstack_name = "app-dev"\n', 1)
    text += add_function(tmp_path, "dev_hello") + '\n'
    app(text).refused("env.prod.stack_name", "app-dev", "app-dev-hello")


# --- SSM parameter names (issue 8 M11) --------------------------------------------------------

@pytest.mark.parametrize("name,allowed", [
    ("/aws/x", "does not begin with 'aws' or 'ssm'"),
    ("/ssm/x", "does not begin with 'aws' or 'ssm'"),
    ("/AWS/x", "does not begin with 'aws' or 'ssm'"),
    ("/Ssm-params/x", "does not begin with 'aws' or 'ssm'"),
    ("//x", "no empty path level"),
    ("/app//x", "no empty path level"),
    ("/app/x/", "no empty path level"),
    ("/" + "/".join("l" * 16), "at most 15 levels"),
    ("/" + "x" * 1011, "at most"),
    ("/" + "x" * 1000, "at most"),  # AWS counts the parameter's ARN in its 1011
    ("/app/{region}/x", "{env}"),
    ("/app/x y", "letters, digits"),
    ("app/x", "a name like '/app/{env}/x'"),
    ("/", "a name like"),
])
def test_ssm_names_aws_rejects_are_refused(app, name, allowed):
    text = BASE.replace('"/infragen/{env}/hello/greeting"', json.dumps(name), 1)
    rendered = app(text)
    rendered.refused("functions.hello.parameters", {"greeting": name}, allowed)


def test_ssm_name_with_15_levels_renders(app):
    name = "/" + "/".join("abcdefghijklmn") + "/{env}"
    assert app(BASE.replace('"/infragen/{env}/hello/greeting"', json.dumps(name), 1)).rendered()


# --- the file itself (issue 8 L5) -------------------------------------------------------------

@pytest.mark.parametrize("text", ["a = " + "[" * 100000, "a = " + "{b = " * 50000])
def test_deeply_nested_toml_is_exit_2(app, text):
    rendered = app(text)
    assert rendered.result.exit_code == 2, rendered.output[-500:]
    assert "nested too deeply" in rendered.output or "not valid TOML" in rendered.output
    assert "Traceback" not in rendered.output and not rendered.out.exists()


# --- concurrency, notes, more functions -------------------------------------------------------

def test_reserved_concurrency_zero_and_absent(app):
    """Optional (issue 9 #2): the example app's dev reserves none; 0 is a reservation of zero."""
    resources = app(with_hello("reserved_concurrency = 0")).rendered()["Resources"]
    assert resources["HelloFunction"]["Properties"]["ReservedConcurrentExecutions"] == 0
    assert "ReservedConcurrentExecutions" not in resources["DataProcessorFunction"]["Properties"]


@pytest.mark.parametrize("value,allowed", [("-1", "0 to 1000"), ("1001", "0 to 1000"),
                                           ("true", "an integer"), ('"5"', "an integer")])
def test_bad_reserved_concurrency_is_refused(app, value, allowed):
    app(with_hello(f"reserved_concurrency = {value}")).refused(
        "functions.hello.reserved_concurrency", json.loads(value), allowed)


def test_function_with_no_route_and_no_schedule_renders_with_a_note(app, tmp_path):
    rendered = app(BASE + add_function(tmp_path, "worker"))
    assert rendered.rendered()["Resources"]["WorkerFunction"]
    assert "note: function worker has no route and no schedule" in rendered.output
    notes = load_config(rendered.config).notes
    assert [n for n in notes if n.startswith("function")] == [
        "function worker has no route and no schedule: it runs only when invoked by other means "
        "(another service, the console, the SDK)"]
    assert [n for n in notes if not n.startswith("function")] == [PLACEHOLDER_NOTE]


def test_scheduled_function_without_routes_has_no_note(app, tmp_path):
    rendered = app(BASE + add_function(tmp_path, "nightly", 'schedule = "cron(0 3 * * ? *)"'))
    assert rendered.rendered()["Resources"]["NightlySchedule"]
    assert rendered.output.count("note:") == 1 and f"note: {PLACEHOLDER_NOTE}" in rendered.output


def test_third_function_with_its_own_folder_renders(app, tmp_path):
    text = BASE + add_function(tmp_path, "orders", 'routes = ["GET /orders", "GET /orders/{id}"]\n'
                                                   'memory = 256')
    resources = app(text).rendered()["Resources"]
    assert resources["OrdersFunction"]["Properties"]["MemorySize"] == 256
    path_methods = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Method"
                    and r["Properties"].get("RequestParameters") == {"method.request.path.id": True}]
    assert len(path_methods) == 1


def test_body_schema_on_a_function_without_body_routes_says_so(app):
    text = BASE.replace('routes = ["POST /data"]', 'routes = ["GET /data", "ANY /data/{id}"]')
    rendered = app(text)
    assert "DataProcessorBodyModel" not in rendered.rendered()["Resources"]
    assert "note: function data_processor has a body_schema but no POST, PUT or PATCH route" in rendered.output


# --- environments and shared packages ---------------------------------------------------------

@pytest.mark.parametrize("env", ["Prod", "pro-d", "pro_d", "1prod", "p" * 17])
def test_bad_environment_names_are_refused(app, env):
    app(BASE + f'\n[env."{env}"]\n').refused(f"env.{env}", env, "an environment name of lower-case")


@pytest.mark.parametrize("folder,allowed", [
    ("../common", "a folder inside the project"), ("/usr/lib/python3", "a folder inside the project"),
    (".", "not the root itself"), ("lambda_src/..", "not the root itself"),
])
def test_shared_package_outside_the_project_or_its_root_is_refused(app, folder, allowed):
    text = BASE.replace("[stack]\n", f'[stack]\nshared_packages = ["{folder}"]\n', 1)
    app(text).refused("stack.shared_packages", folder, allowed)


def test_open_route_override_names_the_environment(app):
    text = BASE.replace("[env.dev]\n", '[env.dev]\nopen_routes = ["GET /nope"]\n', 1)
    app(text).refused("env.dev.open_routes", "GET /nope", "GET /hello, POST /data")


def test_no_functions_is_refused(app):
    text = BASE.split("[functions.hello]")[0] + "[env.dev]\n"
    rendered = app(text)
    assert rendered.result.exit_code == 2 and "no functions declared" in rendered.output
    assert not rendered.out.exists()


def test_oversized_environment_is_refused(app):
    text = with_hello('environment = { BIG = "' + "x" * 2100 + '" }')
    app(text).refused("functions.hello.environment", "…", "at most 2048 bytes")


def test_any_and_a_method_on_one_path_in_two_functions_render(app, tmp_path):
    text = BASE + add_function(tmp_path, "fallback", 'routes = ["ANY /hello"]')
    methods = {(r["Properties"]["HttpMethod"], r["Properties"]["Integration"]["Uri"]["Fn::Sub"].split("${")[3])
               for r in app(text).rendered()["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"}
    assert {("GET", "HelloFunction.Arn}/invocations"), ("ANY", "FallbackFunction.Arn}/invocations")} <= methods


def test_open_route_an_environment_declares_itself_is_allowed(app):
    text = BASE.replace("[env.dev]\n", '[env.dev]\nopen_routes = ["GET /hi"]\n', 1)
    text += '\n[env.dev.functions.hello]\nroutes = ["GET /hello", "GET /hi"]\n'
    rendered = app(text)
    rendered.rendered()
    assert load_config(rendered.config).env("dev").open_routes == ("GET /hi",)


# --- issue 9 #1: the bootstrap stack's account-and-region settings ---------------------------

def test_environments_sharing_a_bootstrap_must_agree_on_the_api_gateway_account(app):
    text = BASE.replace("[env.prod]\n", "[env.prod]\nmanage_api_gateway_account = false\n", 1)
    rendered = app(text)
    rendered.refused("env.prod.manage_api_gateway_account", False, "True as in environment 'dev'")
    assert "infragen-bootstrap" in rendered.output


def test_two_bootstrap_stacks_in_one_region_cannot_both_manage_the_account(app):
    text = BASE.replace("[env.prod]\n", '[env.prod]\nbootstrap_stack = "other-bootstrap"\n', 1)
    app(text).refused("stack.manage_api_gateway_account", True,
                      "false: environment 'dev' already manages the API Gateway account setting")


def test_bootstrap_settings_come_from_every_environment_sharing_it(app, tmp_path):
    text = BASE.replace("[env.prod]\n", '[env.prod]\nbootstrap_stack = "other-bootstrap"\n'
                                        "manage_api_gateway_account = false\n", 1)
    text = text.replace("manage_api_gateway_account = true ", "manage_api_gateway_account = false", 1)
    rendered = app(text)
    assert rendered.result.exit_code == 0, rendered.output
    config = load_config(rendered.config)
    assert {cfg.bootstrap.manage_api_gateway_account for cfg in config.envs} == {False}
    # dev keeps logs 30 days, but an environment's own retention decides its bootstrap's
    assert config.env("dev").bootstrap.log_retention_days == 30
    assert config.env("prod").bootstrap.log_retention_days == 365
    assert not (rendered.out / "bootstrap.json").exists()
    for name in ("infragen-bootstrap", "other-bootstrap"):
        template = json.loads((rendered.out / f"bootstrap-{name}.json").read_text())
        assert set(template["Resources"]) == {"ArtifactBucket", "ArtifactBucketPolicy"}


def test_the_welcome_group_keeps_logs_as_long_as_the_longest_environment(app):
    rendered = app(BASE)
    assert rendered.result.exit_code == 0, rendered.output
    bootstrap = json.loads((rendered.out / "bootstrap.json").read_text())
    assert bootstrap["Resources"]["ApiGatewayWelcomeLogGroup"]["Properties"]["RetentionInDays"] == 365


# --- issue 9 #3: alerts that reach nobody -----------------------------------------------------

def test_an_environment_without_a_subscriber_is_refused(app):
    rendered = app(BASE.replace('alerts = "none"                      # a throwaway', "# a throwaway"))
    assert rendered.result.exit_code == 2, rendered.output
    assert "environment 'dev' has no alert subscriber" in rendered.output
    assert 'alerts = "none"' in rendered.output and not rendered.out.exists()


def test_an_empty_alerts_list_is_no_opt_out(app):
    rendered = app(BASE.replace('alerts = "none"  ', "alerts = []  ", 1))
    assert rendered.result.exit_code == 2 and "has no alert subscriber" in rendered.output


@pytest.mark.parametrize("value,why", [
    ('"nobody"', "is not"),
    ('["http://hooks.corp.net/x"]', "clear text; use https://"),
    ('["ops@corp.net", "ops@corp.net"]', "each once"),
    ('["arn:aws:sns:us-west-2:123456789012:other"]', "is none of these"),
    ('["arn:aws:sqs:us-west-2:1234:short-account"]', "is none of these"),
    ('["not an address"]', "is none of these"),
    ("[1]", "each once"),
    ("true", "a string or a list"),
])
def test_bad_alerts_are_refused(app, value, why):
    rendered = app(BASE.replace('alerts = "none"  ', f"alerts = {value}  ", 1))
    assert rendered.result.exit_code == 2, rendered.output
    assert "env.dev.alerts = " in rendered.output and why in rendered.output, rendered.output
    assert "Traceback" not in rendered.output and not rendered.out.exists()


def test_none_with_an_alarm_email_is_a_contradiction(app):
    text = BASE.replace('alarm_email = ""  ', 'alarm_email = "ops@corp.net"  ', 1)
    rendered = app(text)
    assert rendered.result.exit_code == 2 and "alarm_email = 'ops@corp.net' subscribes" in rendered.output


def test_every_accepted_form_subscribes_with_its_protocol(app):
    entries = ["ops@corp.net", "https://hooks.corp.net/alerts?team=1",
               "arn:aws:sqs:us-west-2:123456789012:alerts.fifo",
               "arn:aws:lambda:us-west-2:123456789012:function:pager:live"]
    rendered = app(BASE.replace('alerts = "none"  ', f"alerts = {json.dumps(entries)}  ", 1))
    resources = rendered.rendered()["Resources"]
    got = sorted((r["Properties"]["Protocol"], r["Properties"]["Endpoint"]) for r in resources.values()
                 if r["Type"] == "AWS::SNS::Subscription")
    assert got == sorted(zip(["email", "https", "sqs", "lambda"], entries))
