"""Config errors: one message naming file, key, value and what is allowed; exit 2; nothing written."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from infragen.cli import cli
from infragen.config import load_config

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "infragen.toml").read_text()


def project(tmp_path, text):
    """A copy of the repository's app with `text` as its infragen.toml."""
    if not (tmp_path / "lambda_src").exists():
        shutil.copytree(ROOT / "lambda_src", tmp_path / "lambda_src",
                        ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "infragen.toml"
    config.write_text(text)
    return config


def run_render(tmp_path, text):
    config = project(tmp_path, text)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", "--all", "--config", str(config), "--out", str(out)])
    return result, out, config


def test_repository_config_loads_dev_and_prod():
    config = load_config(ROOT / "infragen.toml")
    assert config.env_names == ("dev", "prod")
    dev, prod = config.env("dev"), config.env("prod")
    assert (dev.nat_gateways, prod.nat_gateways) == (1, 2)
    assert dev.region == "us-west-2" and dev.stack_name == "infragen-dev"
    assert dev.function("hello").timeout == 300 and dev.function("hello").memory == 512
    assert dict(prod.function("data_processor").environment) == {"BATCH_SIZE": "100"}
    assert dict(dev.function("data_processor").environment) == {"BATCH_SIZE": "25"}
    assert [r.key for r in dev.function("hello").routes] == ["GET /hello"]
    assert dev.function("hello").architecture == "arm64" and dev.function("hello").source == "lambda_src/hello"
    assert dev.function("hello").parameters == (("greeting", "/infragen/dev/hello/greeting"),)


@pytest.mark.parametrize("old,new,key,value,allowed", [
    ("memory = 512", "memory = 64", "functions.hello.memory", "64", "128 to 10240"),
    ("timeout = 300", "timeout = 901", "functions.hello.timeout", "901", "1 to 900"),
    ("timeout = 300", 'timeout = "300"', "functions.hello.timeout", "'300'", "an integer"),
    ('vpc_cidr = "10.0.0.0/16"', 'vpc_cidr = "10.0.0.0/33"', "stack.vpc_cidr", "10.0.0.0/33",
     "IPv4 network"),
    ("nat_gateways = 1 ", "nat_gateways = 3 ", "stack.nat_gateways", "3", "1 to 2"),
    ("log_retention_days = 30", "log_retention_days = 31", "env.dev.log_retention_days", "31",
     "one of"),
    ('api_auth = "api_key"', 'api_auth = "none"', "stack.api_auth", "none", "'api_key', 'iam'"),
    ("tracing = true", "tracing = 1", "stack.tracing", "1", "true or false"),
])
def test_bad_values_name_file_key_value_and_allowed(tmp_path, old, new, key, value, allowed):
    assert old in BASE
    result, out, config = run_render(tmp_path, BASE.replace(old, new, 1))
    assert result.exit_code == 2
    assert str(config) in result.output and key in result.output
    assert value in result.output and allowed in result.output
    assert not out.exists()


def test_unknown_key_lists_allowed_keys(tmp_path):
    result, out, _ = run_render(tmp_path, BASE.replace("[env.dev]\n", "[env.dev]\nmemroy = 1\n"))
    assert result.exit_code == 2
    assert "unknown key env.dev.memroy" in result.output and "allowed keys" in result.output
    assert not out.exists()


def test_unknown_function_override_is_rejected(tmp_path):
    result, _, _ = run_render(tmp_path, BASE + "\n[env.dev.functions.helo]\nmemory = 256\n")
    assert result.exit_code == 2 and "unknown function env.dev.functions.helo" in result.output
    assert "the functions are: hello, data_processor" in result.output


def test_unknown_env_names_the_choices(tmp_path):
    config = project(tmp_path, BASE)
    result = CliRunner().invoke(cli, ["render", "--env", "staging", "--config", str(config),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "unknown environment 'staging'" in result.output and "dev, prod" in result.output


def test_invalid_toml_and_missing_file(tmp_path):
    result, _, _ = run_render(tmp_path, "[stack\n")
    assert result.exit_code == 2 and "not valid TOML" in result.output
    result = CliRunner().invoke(cli, ["render", "--all", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and "config file not found" in result.output


def test_env_overrides_merge_over_defaults(tmp_path):
    text = BASE + "\n[env.qa]\nalerts = \"none\"\nnat_gateways = 2\n[env.qa.functions.hello]\nmemory = 1024\n"
    qa = load_config(project(tmp_path, text)).env("qa")
    assert qa.nat_gateways == 2 and qa.function("hello").memory == 1024
    assert qa.function("hello").timeout == 300 and qa.stack_name == "infragen-qa"


@pytest.mark.parametrize("old,new,key", [
    ('stack_name = "infragen-{env}"', 'stack_name = "' + "s" * 60 + '"', "stack.stack_name"),
    ('bootstrap_stack = "infragen-bootstrap"', 'bootstrap_stack = "Infragen-Bootstrap"',
     "stack.bootstrap_stack"),
])
def test_names_that_would_break_derived_aws_names_are_refused(tmp_path, old, new, key):
    result, out, _ = run_render(tmp_path, BASE.replace(old, new, 1))
    assert result.exit_code == 2 and key in result.output and not out.exists()


def test_stack_name_is_bounded_once_env_is_filled_in(tmp_path):
    long_name = "a" * 40 + "{env}"  # 41 as written: allowed by the pattern
    text = BASE.replace('stack_name = "infragen-{env}"', f'stack_name = "{long_name}"', 1)
    result, out, _ = run_render(tmp_path, text + "\n[env.abcdefghijklmnop]\n")
    assert result.exit_code == 2, result.output
    assert "stack.stack_name" in result.output and "fits 64" in result.output
    assert "a" * 40 + "abcdefghijklmnop-data-processor" in result.output and not out.exists()
    result, _, _ = run_render(tmp_path, text)  # dev and prod fit
    assert result.exit_code == 0, result.output


def test_parameter_names_take_only_the_env_placeholder(tmp_path):
    text = BASE.replace('"/infragen/{env}/hello/greeting"', '"/infragen/{region}/hello/greeting"', 1)
    result, out, _ = run_render(tmp_path, text)
    assert result.exit_code == 2 and "functions.hello.parameters" in result.output
    assert not out.exists()


def test_unreadable_config_is_exit_2_not_a_traceback(tmp_path):
    result = CliRunner().invoke(cli, ["render", "--all", "--config", str(tmp_path)])
    assert result.exit_code == 2 and "cannot read the config file" in result.output
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[stack]")
    result = CliRunner().invoke(cli, ["render", "--all", "--config", str(binary)])
    assert result.exit_code == 2 and "not UTF-8" in result.output
