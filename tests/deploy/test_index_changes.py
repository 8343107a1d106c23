"""Index changes one stack update cannot make are found before anything is deployed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from infragen.cli import cli
from infragen.deploy.index_changes import index_change_problems

SHOP = Path(__file__).resolve().parents[1] / "apps" / "shop"


def table(*indexes: tuple[str, str, str]) -> dict:
    return {"Resources": {"OrdersTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "GlobalSecondaryIndexes": [
            {"IndexName": name, "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
             "Projection": {"ProjectionType": projection}} for name, key, projection in indexes]}}}}


def test_one_index_added_or_removed_per_update_is_fine():
    assert index_change_problems(table(), table(("a", "k", "ALL"))) == []
    assert index_change_problems(table(("a", "k", "ALL")), table()) == []
    assert index_change_problems(table(("a", "k", "ALL")), table(("a", "k", "ALL"), ("b", "j", "ALL"))) == []
    assert index_change_problems({}, table(("a", "k", "ALL"), ("b", "j", "ALL"))) == []  # a new table: all at once


def test_two_index_changes_in_one_update_are_refused_with_the_way_to_do_them():
    (problem,) = index_change_problems(table(("a", "k", "ALL")), table(("b", "j", "ALL"), ("c", "i", "ALL")))
    assert "3 index changes (add b, add c, remove a)" in problem and "one at a time" in problem


def test_an_index_changed_in_place_is_refused():
    for changed in (table(("a", "other", "ALL")), table(("a", "k", "KEYS_ONLY"))):
        (problem,) = index_change_problems(table(("a", "k", "ALL")), changed)
        assert "index a changes its keys or projection" in problem and "another name" in problem


def test_deploy_refuses_before_anything_changes(tmp_path, moto_endpoint, aws_clients):
    shutil.copytree(SHOP, tmp_path / "shop", ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "shop" / "infragen.toml"
    text = config.read_text()
    config.write_text(re.sub(r"\[functions\.reports\]\n(?:[^\[\n].*\n|\n)*", "", text))  # its wheel needs an index
    shutil.rmtree(tmp_path / "shop" / "lambda_src" / "reports")
    target = ["--config", str(config), "--endpoint-url", moto_endpoint]
    first = CliRunner().invoke(cli, ["deploy", *target, "--yes"])
    assert first.exit_code == 0, first.output
    events = len(aws_clients.cloudformation.describe_stack_events(StackName="shop-dev")["StackEvents"])
    indexes = "".join(f'\n[tables.orders.indexes.{name}]\npartition_key = "{key}"\n'
                      for name, key in (("by_item", "item"), ("by_status", "status")))
    config.write_text(config.read_text() + indexes)
    refused = CliRunner().invoke(cli, ["deploy", *target, "--yes"])
    assert refused.exit_code == 2, refused.output
    assert "2 index changes (add by_item, add by_status)" in refused.output and "nothing was deployed" in refused.output
    assert len(aws_clients.cloudformation.describe_stack_events(StackName="shop-dev")["StackEvents"]) == events
    assert "one at a time" in CliRunner().invoke(cli, ["diff", *target]).output
