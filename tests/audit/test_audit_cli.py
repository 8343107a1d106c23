"""`infragen audit` end to end on fixture apps: the rendered roles against the scanned code.

The stack's own statements are being corrected in parallel (issue 9), so these tests assert the
findings the fixture apps are built to produce, not the total count.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli

ROOT = Path(__file__).resolve().parents[2]
KINDS = Path(__file__).parent / "apps" / "kinds" / "infragen.toml"
PARAM = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"


def run_json(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["audit", *args, "--output", "json"])
    return result.exit_code, json.loads(result.output)


def findings(report: dict, function: str, kind: str) -> list[dict]:
    entry = next(f for f in report["functions"] if f["function"] == function)
    return [f for f in entry["findings"] if f["kind"] == kind]


def needs(report: dict, function: str) -> set[tuple]:
    entry = next(f for f in report["functions"] if f["function"] == function)
    return {(n["action"], n["resource"], n["site"]["path"] if n["site"] else None) for n in entry["needs"]}


@pytest.fixture(scope="module")
def kinds_report():
    return run_json("--config", str(KINDS))


def test_findings_fail_the_command(kinds_report):
    code, report = kinds_report
    assert code == 1
    assert report["counts"]["missing"] >= 1 and report["counts"]["unknown"] == 1


def test_missing_a_call_two_imports_away_through_a_client_factory(kinds_report):
    _, report = kinds_report
    missing, = [f for f in findings(report, "report", "missing") if "s3:GetObject" in f["message"]]
    assert missing["where"] == "lambda_src/shared/archive.py:7"
    assert "arn:${AWS::Partition}:s3:::kinds-archive/*" in missing["message"]
    assert "access = [{ actions = [\"s3:GetObject\"]" in missing["message"]


def test_unused_grants_of_a_table_level(kinds_report):
    _, report = kinds_report
    unused = {f["message"].split(":")[0] + ":" + f["message"].split(":")[1].split(" ")[0]
              for f in findings(report, "lister", "unused")}
    assert {"dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"} <= unused
    assert "dynamodb:GetItem" not in unused
    assert ("dynamodb:GetItem", "${ItemsTable.Arn}", "lambda_src/lister/handler.py") in needs(report, "lister")


def test_too_broad_and_ineffective(kinds_report):
    _, report = kinds_report
    broad, = findings(report, "clean", "too broad")
    assert f"{PARAM}/kinds/dev/*" in broad["message"] and f"{PARAM}/kinds/dev/retention" in broad["message"]
    assert any("logs:DescribeLogGroups takes only Resource \"*\"" in f["message"]
               for f in findings(report, "clean", "ineffective"))


def test_unknown_unless_acknowledged(kinds_report):
    _, report = kinds_report
    unknown, = findings(report, "dispatcher", "unknown")
    assert unknown["where"] == "lambda_src/dispatcher/handler.py:10"
    entry = next(f for f in report["functions"] if f["function"] == "dispatcher")
    assert {u["site"]["line"] for u in entry["unresolved"]} == {10, 12}  # 12 is in audit_ignore


def test_the_example_app_calls_are_all_found_and_resolved_through_the_template():
    """Chalice finds zero calls in lambda_src (its clients come from common.aws.client)."""
    _, report = run_json("--config", str(ROOT / "infragen.toml"), "--env", "prod")
    for function, parameter in (("hello", "/infragen/prod/hello/greeting"),
                                ("data_processor", "/infragen/prod/data_processor/signing-key")):
        found = needs(report, function)
        assert ("sns:Publish", "${ErrorTopic}", "lambda_src/common/alerts.py") in found
        assert ("ssm:GetParameter", PARAM + parameter, "lambda_src/common/parameters.py") in found
        assert ("kms:Decrypt", "${Key.Arn}", "lambda_src/common/parameters.py") in found  # SecureString
        assert ("logs:PutLogEvents", f"${{{''.join(p.title() for p in function.split('_'))}LogGroup.Arn}}",
                None) in found
    assert report["coverage"]["services"] == ["sns", "ssm"]


def test_the_shop_app_resource_calls_and_a_computed_bucket_name():
    _, report = run_json("--config", str(ROOT / "tests/apps/shop/infragen.toml"))
    assert ("dynamodb:Query", "${OrdersTable.Arn}", "lambda_src/order_items/handler.py") in needs(report, "order_items")
    assert ("dynamodb:Scan", "${OrdersTable.Arn}", "lambda_src/nightly/handler.py") in needs(report, "nightly")
    assert ("s3:GetObject", "arn:${AWS::Partition}:s3:::shop-reports-dev/*",
            "lambda_src/reports/handler.py") in needs(report, "reports")
    assert not findings(report, "reports", "missing") or all(
        f["where"] == "Lambda platform" for f in findings(report, "reports", "missing"))


SHOP = ROOT / "tests" / "apps" / "shop"
BY_CUSTOMER = "${OrdersTable.Arn}/index/by_customer"


def test_a_query_through_a_declared_and_granted_index_is_proven_covered():
    code, report = run_json("--config", str(SHOP / "infragen.toml"), "--all-envs")
    assert code == 0 and not any(report["counts"].values())
    assert ("dynamodb:Query", BY_CUSTOMER, "lambda_src/orders/handler.py") in needs(report, "orders")
    assert not findings(report, "orders", "missing") and not findings(report, "orders", "unused")


def shop_copy(tmp_path: Path, handler_edit: tuple[str, str] = ("", ""), config_edit: tuple[str, str] = ("", "")) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("__pycache__"))
    handler = root / "lambda_src" / "orders" / "handler.py"
    handler.write_text(handler.read_text().replace(*handler_edit))
    config = root / "infragen.toml"
    config.write_text(config.read_text().replace(*config_edit))
    return config


def test_a_query_naming_an_undeclared_index_is_a_finding(tmp_path):
    config = shop_copy(tmp_path, handler_edit=('IndexName="by_customer"', 'IndexName="by_email"'))
    code, report = run_json("--config", str(config))
    assert code == 1
    [missing] = [f for f in findings(report, "orders", "missing") if "dynamodb:Query" in f["message"]]
    assert "${OrdersTable.Arn}/index/by_email" in missing["message"]
    assert '"TABLE/by_email" = ["dynamodb:Query"]' in missing["message"]
    assert "[tables.TABLE.indexes.by_email]" in missing["message"]
    # and the grant on the declared index nobody queries now is unused
    assert any(BY_CUSTOMER in f["message"] for f in findings(report, "orders", "unused"))


def test_a_query_through_an_index_the_function_is_not_granted_is_a_finding(tmp_path):
    config = shop_copy(tmp_path, config_edit=(', "orders/by_customer" = ["dynamodb:Query"]', ""))
    code, report = run_json("--config", str(config))
    assert code == 1
    assert [f["message"].split(";")[0] for f in findings(report, "orders", "missing")] == [
        f"dynamodb.query needs dynamodb:Query on {BY_CUSTOMER}"]  # the table's Query does not reach the index


def test_all_envs_and_text_output():
    result = CliRunner().invoke(cli, ["audit", "--config", str(KINDS), "--all-envs"])
    assert result.exit_code == 1
    assert "dev / report (role ReportRole)" in result.output and "prod / report (role ReportRole)" in result.output
    assert "MISSING     lambda_src/shared/archive.py:7" in result.output
    assert "botocore operations of the services in use" in result.output


@pytest.mark.parametrize("args, message", [
    (["--env", "nope"], "unknown environment 'nope'"),
    (["--env", "dev", "--all-envs"], "--env and --all-envs cannot be combined"),
])
def test_bad_input_exits_2(args, message):
    result = CliRunner().invoke(cli, ["audit", "--config", str(KINDS), *args])
    assert result.exit_code == 2 and message in result.output


def test_audit_ignore_is_validated(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(KINDS.parent, app)
    config = app / "infragen.toml"
    config.write_text(config.read_text().replace('reason = "operator tool: the operation comes from the event"',
                                                 'reason = ""'))
    result = CliRunner().invoke(cli, ["audit", "--config", str(config)])
    assert result.exit_code == 2
    assert "functions.dispatcher.audit_ignore" in result.output and "non-empty reason" in result.output


def test_a_clean_function_has_no_findings(tmp_path):
    """Grants exactly matching the code: the function's own section of the report is empty."""
    app = tmp_path / "app"
    shutil.copytree(KINDS.parent, app)
    config = app / "infragen.toml"
    text = config.read_text().replace(
        "[functions.report]\n",
        '[functions.report]\naccess = [ { actions = ["s3:GetObject"], '
        'resources = ["arn:${AWS::Partition}:s3:::kinds-archive/*"] } ]\n')
    config.write_text(text)
    _, report = run_json("--config", str(config))
    assert [f for f in findings(report, "report", "missing") if "s3:" in f["message"]] == []
    assert [f for f in findings(report, "report", "unused") if "s3:" in f["message"]] == []
