"""`infragen new function|table`: what it creates renders, lints clean, runs and deploys at once.

Each test copies the project (infragen.toml, lambda_src/ and the handler tests' conftest) into its
own tmp dir and runs the real CLI through CliRunner; the generated handler tests run in a
subprocess pytest, as a user would run them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from infragen.cli import cli
from infragen.config import load_config
from infragen.lint import lint_text
from infragen.routes import parse_route
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]
ORDERS = ("new", "function", "orders", "--route", "GET /orders", "--route", "GET /orders/{id}")
NIGHTLY = ("new", "function", "nightly", "--schedule", "rate(1 day)")
TABLE = ("new", "table", "order_items", "--partition-key", "id")


@pytest.fixture
def project(tmp_path) -> Path:
    """A fresh copy of the project; returns its infragen.toml."""
    root = tmp_path / "project"
    root.mkdir()
    copy_project(root)
    (root / "tests" / "lambda_src").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "lambda_src" / "conftest.py", root / "tests" / "lambda_src")
    return root / "infragen.toml"


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, [*args, "--config", str(config)])


@pytest.fixture
def scaffolded(project) -> Path:
    for command in (ORDERS, NIGHTLY, TABLE):
        result = run(project, *command)
        assert result.exit_code == 0, result.output
    return project


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_it_creates_the_handler_event_and_test_and_says_what_next(project):
    result = run(project, *ORDERS)

    assert result.exit_code == 0, result.output
    root = project.parent
    for created in ("lambda_src/orders/handler.py", "lambda_src/events/orders.json",
                    "tests/lambda_src/test_lambda_orders.py"):
        assert (root / created).is_file() and Path(created).name in result.output
    assert "appended: [functions.orders]" in result.output
    assert 'infragen invoke orders' in result.output and '--route "GET /orders/{id}" --path id=42' in result.output
    assert "infragen render --all" in result.output and "infragen deploy" in result.output
    event = json.loads((root / "lambda_src/events/orders.json").read_text())
    assert (event["httpMethod"], event["resource"], event["path"]) == ("GET", "/orders", "/orders")
    assert not (root / ".infragen").exists()  # the staging folder is gone


def test_the_config_keeps_its_bytes_and_gains_commented_validating_tables(scaffolded):
    original = (ROOT / "infragen.toml").read_bytes()
    text = scaffolded.read_bytes()
    assert text.startswith(original)
    appended = text[len(original):].decode()
    assert "[functions.orders]" in appended and "[functions.nightly]" in appended
    assert "[tables.order_items]" in appended and "# timeout = 300" in appended
    dev = load_config(scaffolded).env("dev")
    assert [r.key for r in dev.function("orders").routes] == ["GET /orders", "GET /orders/{id}"]
    assert dev.function("nightly").schedule == "rate(1 day)"
    assert dev.table("order_items").partition_key == "id"


def test_what_it_creates_renders_and_lints_clean(scaffolded, tmp_path):
    out = tmp_path / "templates"
    result = run(scaffolded, "render", "--all", "--out", str(out))
    assert result.exit_code == 0, result.output

    config = load_config(scaffolded)
    for env in config.envs:
        text = (out / f"{env.env}.json").read_text()
        assert lint_text(text, f"{env.env}.json", env.region) == []
        resources = json.loads(text)["Resources"]
        assert {"OrdersFunction", "NightlyFunction", "NightlySchedule", "OrderItemsTable"} <= set(resources)
    assert lint_text((out / "bootstrap.json").read_text(), "bootstrap.json", config.envs[0].region) == []


def test_the_generated_handler_tests_pass(scaffolded):
    root = scaffolded.parent
    assert run(scaffolded, "new", "function", "direct").exit_code == 0  # no route, no schedule
    mixed = run(scaffolded, "new", "function", "intake", "--route", "POST /intake/{kind}",
                "--schedule", "cron(0 3 * * ? *)")  # a body, a path parameter and a schedule
    assert mixed.exit_code == 0, mixed.output
    tests = [str(root / "tests/lambda_src" / f"test_lambda_{n}.py")
             for n in ("orders", "nightly", "direct", "intake")]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    # orders: answer and 404; nightly, direct: answer; intake: answer, schedule and 404
    assert "7 passed" in done.stdout


def test_invoke_answers_on_a_path_parameter_route_without_a_deployed_stack(scaffolded, moto_endpoint):
    result = CliRunner().invoke(cli, ["invoke", "orders", "--config", str(scaffolded), "--endpoint-url",
                                      moto_endpoint, "--route", "GET /orders/{id}", "--path", "id=42"])

    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert (body["route"], body["pathParameters"], body["environment"]) == \
        ("GET /orders/{id}", {"id": "42"}, "dev")


def test_the_scaffolded_project_deploys_to_the_emulator(scaffolded, moto_endpoint):
    result = CliRunner().invoke(cli, ["deploy", "--config", str(scaffolded), "--endpoint-url",
                                      moto_endpoint, "--yes"])

    assert result.exit_code == 0, result.output
    awslambda = boto3.client("lambda", endpoint_url=moto_endpoint, region_name="us-west-2")
    names = {f["FunctionName"] for f in awslambda.list_functions()["Functions"]}
    assert {"infragen-dev-orders", "infragen-dev-nightly"} <= names
    rules = boto3.client("events", endpoint_url=moto_endpoint, region_name="us-west-2").list_rules()
    assert [r["ScheduleExpression"] for r in rules["Rules"]] == ["rate(1 day)"]


@pytest.mark.parametrize("args, message", [
    (("new", "function", "Orders"), "function name of lower-case letters"),
    (("new", "function", "../escape"), "function name of lower-case letters"),
    (("new", "function", "x\n[stack]\nregion = 'eu-west-1'"), "function name of lower-case letters"),
    (("new", "function", "orders", "--route", "GET orders"), "--route 'GET orders' is not a route"),
    (("new", "function", "orders", "--route", "FETCH /orders"), "is not a route"),
    (("new", "function", "greet", "--route", "GET /hello"), "hello declares it"),
    (("new", "function", "orders", "--route", "GET /o", "--route", "GET /o"), "each route once"),
    (("new", "function", "hello"), "function 'hello' already exists"),
    (("new", "function", "common"), "lambda_src/common is reserved"),
    (("new", "function", "nightly", "--schedule", "rate(1 days)"), "'day' for a value of 1"),
    (("new", "function", "nightly", "--schedule", "cron(0 3 * * * *)"), "'?' in exactly one"),
    (("new", "table", "t", "--partition-key", "id", "--sort-key", "id"), "other than the partition key"),
    (("new", "table", "T", "--partition-key", "id"), "table name of lower-case letters"),
    (("new", "table", "t\n[x]", "--partition-key", "id"), "table name of lower-case letters"),
    (("new", "table", "t", "--partition-key", "has space"), "an attribute name"),
])
def test_bad_input_is_exit_2_and_changes_nothing(project, args, message):
    before = snapshot(project.parent)

    result = run(project, *args)

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert snapshot(project.parent) == before


def test_an_existing_table_or_source_folder_is_refused(scaffolded):
    (scaffolded.parent / "lambda_src" / "refunds").mkdir()
    before = snapshot(scaffolded.parent)

    table = run(scaffolded, *TABLE)
    folder = run(scaffolded, "new", "function", "refunds")

    assert (table.exit_code, folder.exit_code) == (2, 2)
    assert "table 'order_items' already exists" in table.output
    assert "lambda_src/refunds already exists" in folder.output
    assert snapshot(scaffolded.parent) == before


def test_a_failure_midway_removes_what_was_created(project):
    root = project.parent
    shutil.rmtree(root / "tests")
    (root / "tests").write_text("a file where the tests folder should be")
    before = snapshot(root)

    result = run(project, *ORDERS)

    assert result.exit_code == 2, result.output
    assert snapshot(root) == before
    assert not (root / "lambda_src" / "orders").exists() and not (root / ".infragen").exists()


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_file_without_a_final_newline_keeps_its_bytes(project, newline):
    text = project.read_text().replace("\n", newline).rstrip("\r\n") + "   # last line, no newline"
    project.write_bytes(text.encode())

    assert run(project, *TABLE).exit_code == 0
    assert run(project, *NIGHTLY).exit_code == 0

    after = project.read_bytes()
    assert after.startswith(text.encode())
    assert after[len(text):].replace(newline.encode(), b"").count(b"\n") == 0  # line endings kept
    assert load_config(project).env("prod").function("nightly").schedule == "rate(1 day)"


def test_a_project_with_no_function_yet_gets_its_first(project):
    text = project.read_text()
    start, end = text.index("[functions.hello]"), text.index("[env.dev]")
    prod = text.index("[env.prod.functions.hello]")
    project.write_text(text[:start] + text[end:prod])

    result = run(project, "new", "function", "first", "--route", "GET /")

    assert result.exit_code == 0, result.output
    assert [fn.name for fn in load_config(project).envs[0].functions] == ["first"]
    assert load_config(project).envs[0].function("first").routes == (parse_route("GET /"),)


def test_a_function_and_a_table_may_share_a_name(project):
    assert run(project, *ORDERS).exit_code == 0
    result = run(project, "new", "table", "orders", "--partition-key", "id")
    assert result.exit_code == 0, result.output
