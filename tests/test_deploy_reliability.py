"""Issue 8 over the wire (moto over HTTP, the real CLI): faults a deploy must survive or report truly.

Deleted artifact bucket (H3), a roll-back of code the emulator's change set calls empty (M8),
hardening verified on a no-op deploy (M9), what a decline says was changed (L8), the live code
compared by `status` (L12).
"""

from __future__ import annotations

import io
import zipfile

from infragen import console as console_module
from tests.test_deploy_integration import (  # noqa: F401  (fixtures)
    BOOTSTRAP,
    BUCKET,
    CODE_KEYS,
    FUNCTIONS,
    STACK,
    api_log,
    b64_sha256,
    bucket_objects,
    change_sets,
    deploy,
    lambda_client,
    parameters,
    project,
    run_cli,
    stack,
)


def _delete_bucket(aws_clients) -> None:
    s3 = aws_clients.s3
    versions = s3.list_object_versions(Bucket=BUCKET)
    doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
              for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])]
    if doomed:
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": doomed})
    s3.delete_bucket(Bucket=BUCKET)


def _bucket_exists(aws_clients) -> bool:
    return BUCKET in [b["Name"] for b in aws_clients.s3.list_buckets()["Buckets"]]


def _edit_handler(project, text: str = "\n# changed\n") -> str:
    handler = project.parent / "lambda_src" / "hello" / "handler.py"
    original = handler.read_text()
    handler.write_text(original + text)
    return original


# --- H3: the artifact bucket deleted out of band ----------------------------------------------------


def test_a_deleted_artifact_bucket_is_detected_and_recreated_only_with_replace_failed(
        project, moto_endpoint, aws_clients, api_log):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    _delete_bucket(aws_clients)
    target = ["--config", str(project), "--endpoint-url", moto_endpoint, "--wait-timeout", "60"]

    refused = run_cli(api_log, "bootstrap", *target, "--yes")
    assert refused.exit_code == 4, refused.output
    assert "No changes" not in refused.output
    assert f"artifact bucket {BUCKET} of stack {BOOTSTRAP} does not exist" in refused.output
    assert "infragen bootstrap --replace-failed" in refused.output
    assert refused.count("DeleteStack") == 0 and not _bucket_exists(aws_clients)

    recreated = run_cli(api_log, "bootstrap", *target, "--yes", "--replace-failed")
    assert recreated.exit_code == 0, recreated.output
    assert f"Artifact bucket: {BUCKET}" in recreated.output
    assert _bucket_exists(aws_clients)
    assert stack(aws_clients, BOOTSTRAP)["StackStatus"] == "UPDATE_COMPLETE"  # role, then account

    # The next code change uploads into the recreated bucket.
    _edit_handler(project)
    changed = deploy(api_log, project, moto_endpoint)
    assert changed.exit_code == 0, changed.output
    assert parameters(aws_clients)[CODE_KEYS["hello"]] in bucket_objects(aws_clients)


def test_a_deploy_that_needs_the_deleted_bucket_says_exactly_how_to_recover(
        project, moto_endpoint, aws_clients, api_log):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    _delete_bucket(aws_clients)
    _edit_handler(project)

    refused = deploy(api_log, project, moto_endpoint)
    assert refused.exit_code == 4, refused.output
    assert "set another bucket" not in refused.output
    assert "--replace-failed" in refused.output and refused.count("PutObject") == 0

    recovered = run_cli(api_log, "deploy", "--config", str(project), "--endpoint-url", moto_endpoint,
                        "--wait-timeout", "60", "--yes", "--replace-failed")
    assert recovered.exit_code == 0, recovered.output
    assert recovered.count("PutObject") == 2  # both zips are back in the new bucket
    assert "Stack infragen-dev: UPDATE_COMPLETE." in recovered.output


def test_upload_to_a_deleted_bucket_names_the_recovery_not_a_setting_that_does_not_exist(
        project, moto_endpoint, aws_clients, api_log):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    _delete_bucket(aws_clients)
    _edit_handler(project)
    run = run_cli(api_log, "package", "--config", str(project), "--endpoint-url", moto_endpoint)
    assert run.exit_code == 3, run.output
    assert "set another bucket" not in run.output
    assert "infragen bootstrap --replace-failed" in run.output


def test_destroy_include_bootstrap_finishes_when_the_bucket_is_already_gone(
        project, moto_endpoint, aws_clients, api_log):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    _delete_bucket(aws_clients)
    run = run_cli(api_log, "destroy", "--config", str(project), "--endpoint-url", moto_endpoint,
                  "--yes", "--include-bootstrap", "--wait-timeout", "60")
    assert run.exit_code == 0, run.output
    assert "already gone" in run.output
    assert stack(aws_clients, STACK) is None
    assert (stack(aws_clients, BOOTSTRAP) or {}).get("StackStatus") in (None, "DELETE_COMPLETE")


# --- M8: rolling code back is deployed --------------------------------------------------------------


def test_rolling_code_back_is_deployed_although_the_change_set_comes_back_empty(
        project, moto_endpoint, aws_clients, api_log):
    lam = lambda_client(aws_clients, moto_endpoint)
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    first_key = parameters(aws_clients)[CODE_KEYS["hello"]]
    first_sha = lam.get_function_configuration(FunctionName=FUNCTIONS["hello"])["CodeSha256"]
    original = _edit_handler(project)
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    assert parameters(aws_clients)[CODE_KEYS["hello"]] != first_key

    (project.parent / "lambda_src" / "hello" / "handler.py").write_text(original)  # git checkout
    rolled_back = deploy(api_log, project, moto_endpoint)

    assert rolled_back.exit_code == 0, rolled_back.output
    assert "No changes: stack infragen-dev" not in rolled_back.output
    assert parameters(aws_clients)[CODE_KEYS["hello"]] == first_key
    assert lam.get_function_configuration(FunctionName=FUNCTIONS["hello"])["CodeSha256"] == first_sha
    assert change_sets(aws_clients, STACK) == []
    status = run_cli(api_log, "status", "--config", str(project), "--endpoint-url", moto_endpoint)
    assert "differs" not in status.output, status.output


# --- M9: hardening verified on every deploy --------------------------------------------------------


def test_a_no_op_deploy_still_locks_down_a_default_security_group_left_open(
        project, moto_endpoint, aws_clients, api_log):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    ec2 = aws_clients.ec2
    vpc_id = [r["PhysicalResourceId"] for r in aws_clients.cloudformation.list_stack_resources(
        StackName=STACK)["StackResourceSummaries"] if r["LogicalResourceId"] == "Vpc"][0]
    [group] = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    # As after a first deploy interrupted before its hardening step: the group still has rules.
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    run = deploy(api_log, project, moto_endpoint)
    assert run.exit_code == 0, run.output
    assert "No changes: stack infragen-dev is up to date" in run.output
    assert "Locked down the default security group" in run.output
    [after] = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"]
    assert after["IpPermissions"] == [] and after["IpPermissionsEgress"] == []


# --- L8: a decline says what was already changed ---------------------------------------------------


def test_declining_after_bootstrap_and_uploads_says_what_changed(project, moto_endpoint, aws_clients,
                                                                 api_log, monkeypatch):
    monkeypatch.setattr(console_module, "stdin_is_terminal", lambda: True)
    api_log.clear()
    from click.testing import CliRunner

    from infragen.cli import cli

    result = CliRunner().invoke(cli, ["deploy", "--config", str(project), "--endpoint-url", moto_endpoint,
                                      "--wait-timeout", "60"], input="y\nn\n")
    assert result.exit_code == 4, result.output
    assert "nothing was changed" not in result.output
    assert "created stack infragen-bootstrap" in result.output
    assert f"uploaded 2 zip(s) to s3://{BUCKET}" in result.output
    assert stack(aws_clients, STACK) is None or stack(aws_clients, STACK)["StackStatus"] == "REVIEW_IN_PROGRESS"


def test_declining_the_bootstrap_prompt_of_destroy_says_the_stack_was_deleted(
        project, moto_endpoint, aws_clients, api_log, monkeypatch):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    monkeypatch.setattr(console_module, "stdin_is_terminal", lambda: True)
    from click.testing import CliRunner

    from infragen.cli import cli

    result = CliRunner().invoke(cli, ["destroy", "--config", str(project), "--endpoint-url", moto_endpoint,
                                      "--include-bootstrap", "--wait-timeout", "60"], input="y\nn\n")
    assert result.exit_code == 4, result.output
    assert "nothing was changed" not in result.output
    assert "already changed: deleted stack infragen-dev" in result.output
    assert stack(aws_clients, BOOTSTRAP)["StackStatus"] == "UPDATE_COMPLETE"  # role, then account


# --- L12: status compares the live code ---------------------------------------------------------------


def test_status_compares_the_live_code_sha256_not_only_the_stack_parameter(
        project, moto_endpoint, aws_clients, api_log):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 'patched'\n")
    lam = lambda_client(aws_clients, moto_endpoint)
    lam.update_function_code(FunctionName=FUNCTIONS["hello"], ZipFile=buffer.getvalue())
    assert lam.get_function_configuration(FunctionName=FUNCTIONS["hello"])["CodeSha256"] == \
        b64_sha256(buffer.getvalue())

    run = run_cli(api_log, "status", "--config", str(project), "--endpoint-url", moto_endpoint)
    assert run.exit_code == 0, run.output
    lines = {line.split(":")[0].strip(): line for line in run.output.splitlines()[run.output.splitlines().index("Code:") + 1:]}
    assert "stack parameter same as local source" in lines["hello"]
    assert "live code differs from local source" in lines["hello"]
    assert "live code same as local source" in lines["data_processor"]


# --- L11: stdout closed mid-deploy ------------------------------------------------------------------


def test_a_deploy_whose_stdout_is_closed_still_hardens_and_writes_its_outputs(project, moto_endpoint,
                                                                             aws_clients):
    import json
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # as `infragen deploy … | head -0`: nobody reads stdout
    outputs_file = project.parent / "outputs.json"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "infragen", "deploy", "--config", str(project), "--yes",
             "--endpoint-url", moto_endpoint, "--wait-timeout", "60", "--outputs-file", str(outputs_file)],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120, env=dict(os.environ))
    finally:
        os.close(write_end)

    assert done.returncode == 0, done.stderr
    assert "stdout was closed" in done.stderr and "Traceback" not in done.stderr
    assert "Stack infragen-dev: CREATE_COMPLETE." in done.stderr  # progress went on, on stderr
    assert json.loads(outputs_file.read_text())["stack"] == STACK
    vpc_id = [r["PhysicalResourceId"] for r in aws_clients.cloudformation.list_stack_resources(
        StackName=STACK)["StackResourceSummaries"] if r["LogicalResourceId"] == "Vpc"][0]
    [group] = aws_clients.ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    assert group["IpPermissions"] == [] and group["IpPermissionsEgress"] == []
