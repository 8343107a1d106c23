"""Apps of any size: over the inline limit a template deploys from S3; over CloudFormation's
resource limit render stops with exit 2 (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from infragen.cli import cli
from infragen.deployment import TEMPLATE_BODY_LIMIT

ROOT = Path(__file__).resolve().parents[1]
HEADER = (ROOT / "infragen.toml").read_text().split("[functions.hello]")[0]


def many_functions(tmp_path: Path, count: int) -> Path:
    """A project with `count` functions, each with its own route and folder."""
    tables = []
    for i in range(count):
        folder = tmp_path / "lambda_src" / f"fn{i}"
        folder.mkdir(parents=True)
        (folder / "handler.py").write_text("def handler(event, context):\n    return {'statusCode': 200}\n")
        tables.append(f'[functions.fn{i}]\nroutes = ["GET /items{i}/{{id}}"]\n')
    config = tmp_path / "infragen.toml"
    config.write_text(HEADER + "\n".join(tables)
                      + "\n[env.dev]\nalerts = \"none\"\n")
    return config


def test_a_template_over_the_inline_limit_is_deployed_by_template_url(tmp_path, moto_endpoint,
                                                                      aws_clients):
    config = many_functions(tmp_path, 12)
    result = CliRunner().invoke(cli, ["deploy", "--config", str(config), "--endpoint-url",
                                      moto_endpoint, "--yes"])
    assert result.exit_code == 0, result.output
    s3 = aws_clients.s3
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("infragen-bootstrap"))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="infragen/templates/")["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("infragen/templates/infragen-dev/")
    body = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert len(body) > TEMPLATE_BODY_LIMIT
    assert json.loads(body)["Resources"]["Fn11Function"]["Type"] == "AWS::Lambda::Function"
    assert aws_clients._client("lambda").get_function(FunctionName="infragen-dev-fn11")
    again = CliRunner().invoke(cli, ["deploy", "--config", str(config), "--endpoint-url",
                                     moto_endpoint, "--yes"])
    assert again.exit_code == 0 and "No changes" in again.output


def test_over_five_hundred_resources_is_exit_2_naming_env_count_and_where(tmp_path):
    config = many_functions(tmp_path, 60)
    result = CliRunner().invoke(cli, ["render", "--all", "--config", str(config),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "environment 'dev'" in result.output and "over CloudFormation's limit of 500" in result.output
    assert "AWS::Lambda::Function" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
