"""Issue 9 #7: secrets outlive their key. `destroy` names the SecureString parameters the
functions read: it deletes them with --delete-secrets, else says they become unreadable."""

from __future__ import annotations

import pytest

from tests.test_deploy_integration import api_log, deploy, project, run_cli  # noqa: F401  (fixtures)

GREETING = "/infragen/dev/hello/greeting"
SIGNING_KEY = "/infragen/dev/data_processor/signing-key"


def _destroy(api_log, project, endpoint, *extra):
    return run_cli(api_log, "destroy", "--config", str(project), "--endpoint-url", endpoint,
                   "--wait-timeout", "60", "--yes", *extra)


def _names(aws_clients):
    return {p["Name"] for p in aws_clients.ssm.describe_parameters()["Parameters"]}


@pytest.mark.parametrize("delete", [False, True])
def test_destroy_says_what_happens_to_the_secrets(project, moto_endpoint, aws_clients, api_log, delete):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    aws_clients.ssm.put_parameter(Name=GREETING, Value="s3cr3t-value", Type="SecureString",
                                  KeyId="alias/infragen-dev")
    run = _destroy(api_log, project, moto_endpoint, *(["--delete-secrets"] if delete else []))
    assert run.exit_code == 0, run.output
    assert "Stack infragen-dev deleted." in run.output
    assert "s3cr3t-value" not in run.output  # names only, never values
    if delete:
        assert f"Deleted the SecureString parameter(s): {GREETING}." in run.output
        assert GREETING not in _names(aws_clients)
        assert run.count("DeleteParameters") == 1
    else:
        assert f"1 SecureString parameter(s) of infragen-dev stay: {GREETING}." in run.output
        assert "cannot be decrypted" in run.output and "--delete-secrets" in run.output
        assert SIGNING_KEY not in run.output  # never set: nothing to say about it
        assert GREETING in _names(aws_clients)
        assert run.count("DeleteParameters") == 0
