"""`infragen deploy` (and `destroy`) end to end: the click CLI, over HTTP, against the moto server.

Each test copies the project (infragen.toml + lambda_src/) into its own tmp dir and runs the real
CLI in-process through CliRunner with `--endpoint-url <moto>`. AWS calls are counted client-side:
`Clients._client` is wrapped so that every boto3 client infragen creates records each operation
(botocore `before-call`) and keeps the API parameters (`before-parameter-build`).

moto specifics relied on (see /work/shared/notes/local-emulator.md): stacks created through change
sets have no Outputs (so a no-op also lists the stack's resources), and a parameter-only change
may come back from moto's change set with no resource rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from infragen.cli import cli
from infragen.target import Clients
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]
STACK = "infragen-dev"
BOOTSTRAP = "infragen-bootstrap"
# ${AWS::StackName}-${AWS::AccountId}-${AWS::Region} of the bootstrap stack on moto
BUCKET = "infragen-bootstrap-123456789012-us-west-2"
FUNCTIONS = {"hello": "infragen-dev-hello", "data_processor": "infragen-dev-data-processor"}
CODE_KEYS = {"hello": "HelloCodeKey", "data_processor": "DataProcessorCodeKey"}
NO_OP_CALLS = [
    ("cloudformation", "DescribeStacks"),
    ("cloudformation", "GetTemplate"),
    ("cloudformation", "ListStackResources"),  # moto gives change-set stacks no Outputs
    ("ec2", "DescribeSecurityGroups"),  # hardening verified on every deploy (the VPC id is listed above)
]
_ROW = re.compile(r"^(Add|Modify|Remove|Import|Dynamic)\s{2,}(\S+)\s{2,}(AWS::\S+)")


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path) -> Path:
    """A fresh copy of the project; returns its infragen.toml."""
    root = tmp_path / "project"
    root.mkdir()
    return copy_project(root)


class ApiLog:
    """Every AWS call made by the clients infragen creates: (service, operation), in order."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.params: list[tuple[str, str, dict]] = []  # (service, operation, API parameters)

    def clear(self) -> None:
        self.calls.clear()
        self.params.clear()

    def attach(self, service: str, client) -> None:
        def before_call(model, **_):
            self.calls.append((service, model.name))

        def before_build(model, params, **_):
            self.params.append((service, model.name, dict(params)))

        client.meta.events.register("before-call", before_call)
        client.meta.events.register("before-parameter-build", before_build)


@pytest.fixture
def api_log(monkeypatch) -> ApiLog:
    log = ApiLog()
    original = Clients._client

    def recording_client(self, service):
        client = original(self, service)
        log.attach(service, client)
        return client

    monkeypatch.setattr(Clients, "_client", recording_client)
    return log


@dataclass
class Run:
    exit_code: int
    output: str  # stdout and stderr as a terminal shows them
    calls: list[tuple[str, str]]
    params: list[tuple[str, str, dict]]
    exception: BaseException | None = None

    def count(self, operation: str) -> int:
        return sum(1 for _, op in self.calls if op == operation)

    def api_params(self, operation: str) -> list[dict]:
        return [params for _, op, params in self.params if op == operation]

    def put_keys(self) -> list[str]:
        return [params["Key"] for params in self.api_params("PutObject")]

    @property
    def rows(self) -> list["ReviewRow"]:
        return review_rows(self.output)


@dataclass
class ReviewRow:
    action: str
    logical_id: str
    resource_type: str
    details: list[str] = field(default_factory=list)  # the indented lines under the row


def review_rows(output: str) -> list[ReviewRow]:
    """The change-review rows printed before a deploy (every stack's review, in order)."""
    rows: list[ReviewRow] = []
    for line in output.splitlines():
        match = _ROW.match(line)
        if match:
            rows.append(ReviewRow(*match.groups()))
        elif rows and line.startswith("    ") and line.strip():
            rows[-1].details.append(line.strip())
    return rows


def run_cli(api_log: ApiLog, *args: str) -> Run:
    api_log.clear()
    result = CliRunner().invoke(cli, list(args))  # stdin is not a terminal
    run = Run(result.exit_code, result.output, list(api_log.calls), list(api_log.params),
              result.exception if not isinstance(result.exception, SystemExit) else None)
    assert run.exception is None, f"unexpected exception:\n{result.output}\n{run.exception!r}"
    return run


def deploy(api_log: ApiLog, config: Path, endpoint: str, *, yes: bool = True) -> Run:
    args = ["deploy", "--config", str(config), "--endpoint-url", endpoint, "--wait-timeout", "60"]
    return run_cli(api_log, *args, *(["--yes"] if yes else []))


def stack(aws_clients: Clients, name: str) -> dict | None:
    """The stack as describe_stacks gives it, or None if there is none."""
    try:
        return aws_clients.cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def parameters(aws_clients: Clients, name: str = STACK) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack(aws_clients, name)["Parameters"]}


def change_sets(aws_clients: Clients, name: str) -> list[dict]:
    """Change sets of the stack still waiting to be executed or deleted (none should be left).

    Executed ones are skipped: AWS removes them, moto keeps them as EXECUTE_COMPLETE. moto also
    ignores the StackName filter, hence the check on the summary's StackName.
    """
    summaries = aws_clients.cloudformation.list_change_sets(StackName=name)["Summaries"]
    return [s for s in summaries
            if s["StackName"] == name and s.get("ExecutionStatus") != "EXECUTE_COMPLETE"]


def lambda_client(aws_clients: Clients, endpoint: str):
    return aws_clients.session.client("lambda", endpoint_url=endpoint)


def b64_sha256(data: bytes) -> str:
    """How Lambda reports a zip's CodeSha256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def bucket_objects(aws_clients: Clients) -> dict[str, bytes]:
    s3 = aws_clients.s3
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


# --- the deploy lifecycle on one emulator state --------------------------------------------------


def test_deploy_lifecycle_first_noop_code_change_config_change(project, moto_endpoint, aws_clients,
                                                               api_log):
    lam = lambda_client(aws_clients, moto_endpoint)
    first = check_first_deploy(project, moto_endpoint, aws_clients, api_log, lam)
    check_noop_redeploy(project, moto_endpoint, api_log)
    check_code_change(project, moto_endpoint, aws_clients, api_log, lam, first)
    check_config_change(project, moto_endpoint, aws_clients, api_log, lam)
    check_declined_update(project, moto_endpoint, aws_clients, api_log, lam)


def check_first_deploy(project, endpoint, aws_clients, api_log, lam) -> dict[str, str]:
    """1. Bootstrap stack, uploads with SSE, main stack, functions on the uploaded zips."""
    run = deploy(api_log, project, endpoint)
    assert run.exit_code == 0, run.output
    assert "Stack infragen-bootstrap: CREATE_COMPLETE." in run.output
    assert "Stack infragen-dev: CREATE_COMPLETE." in run.output
    # issue 9 #1: the bootstrap creates API Gateway's role first, then sets the account to it
    assert "Stack infragen-bootstrap: UPDATE_COMPLETE." in run.output
    assert run.output.index("infragen-bootstrap: CREATE_COMPLETE") < run.output.index(
        "infragen-bootstrap: UPDATE_COMPLETE") < run.output.index("infragen-dev: CREATE_COMPLETE")
    bootstrap = stack(aws_clients, BOOTSTRAP)
    assert bootstrap["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in bootstrap["Parameters"]} == {
        "SetApiGatewayAccount": "true", "CreateWelcomeLogGroup": "true"}
    listed = aws_clients.cloudformation.list_stack_resources(StackName=BOOTSTRAP)
    assert {"ApiGatewayLoggingRole", "ApiGatewayWelcomeLogGroup"} <= {
        r["LogicalResourceId"] for r in listed["StackResourceSummaries"]}
    assert stack(aws_clients, STACK)["StackStatus"] == "CREATE_COMPLETE"

    objects = bucket_objects(aws_clients)
    keys = {}
    for function in FUNCTIONS:
        (key,) = [k for k in objects if k.startswith(f"infragen/{function}/")]
        assert key == f"infragen/{function}/{hashlib.sha256(objects[key]).hexdigest()}.zip"
        keys[function] = key
    assert sorted(run.put_keys()) == sorted(keys.values())  # each zip sent once
    for put in run.api_params("PutObject"):
        assert put["ServerSideEncryption"] in ("AES256", "aws:kms"), put  # SSE requested …
        head = aws_clients.s3.head_object(Bucket=BUCKET, Key=put["Key"])
        assert head["ServerSideEncryption"] == put["ServerSideEncryption"]  # … and applied

    assert parameters(aws_clients) == {"ArtifactBucket": BUCKET,
                                       **{CODE_KEYS[f]: keys[f] for f in FUNCTIONS}}
    for function, name in FUNCTIONS.items():
        live = lam.get_function(FunctionName=name)
        assert live["Code"]["RepositoryType"] == "S3"
        assert live["Code"]["Location"].endswith(keys[function])
        assert live["Configuration"]["CodeSha256"] == b64_sha256(objects[keys[function]])

    assert change_sets(aws_clients, BOOTSTRAP) == []
    assert change_sets(aws_clients, STACK) == []

    # issue 9 #3: status says who the error topic reaches (dev opts out explicitly)
    status = run_cli(api_log, "status", "--config", str(project), "--endpoint-url", endpoint)
    assert status.exit_code == 0, status.output
    assert "Alerts (error topic subscribers):" in status.output
    assert 'nobody (alerts = "none")' in status.output
    return keys


def check_noop_redeploy(project, endpoint, api_log) -> None:
    """2. Nothing changed: four reads (hardening verified), no upload, no change set."""
    run = deploy(api_log, project, endpoint)
    assert run.exit_code == 0, run.output
    assert "No changes: stack infragen-dev is up to date" in run.output
    assert run.calls == NO_OP_CALLS
    assert run.count("PutObject") == 0 and run.count("CreateChangeSet") == 0


def check_code_change(project, endpoint, aws_clients, api_log, lam, first_keys) -> None:
    """3. One handler edited: one upload, only HelloCodeKey (and so HelloFunction) changes."""
    deployed_template = aws_clients.cloudformation.get_template(
        StackName=STACK, TemplateStage="Original")["TemplateBody"]
    handler = project.parent / "lambda_src" / "hello" / "handler.py"
    handler.write_text(handler.read_text() + "\n# a code-only change\n")

    run = deploy(api_log, project, endpoint)
    assert run.exit_code == 0, run.output
    (new_key,) = run.put_keys()
    assert new_key.startswith("infragen/hello/") and new_key != first_keys["hello"]

    main_change_sets = [p for p in run.api_params("CreateChangeSet") if p["StackName"] == STACK]
    (request,) = main_change_sets
    assert request["ChangeSetType"] == "UPDATE"
    assert _same_json(request["TemplateBody"], deployed_template), "the rendered template changed"
    after = parameters(aws_clients)
    assert after[CODE_KEYS["hello"]] == new_key
    assert after[CODE_KEYS["data_processor"]] == first_keys["data_processor"]

    # moto's change set lists no resource for a parameter-only change; infragen adds the row from
    # the parameters that changed (AWS lists HelloFunction itself).
    (row,) = run.rows
    assert (row.action, row.logical_id) == ("Modify", "HelloFunction")
    assert [d.split(":")[0] for d in row.details] == ["Properties.Code.S3Key"]
    assert row.details[0].endswith("(parameter HelloCodeKey)")
    assert "Stack infragen-dev: UPDATE_COMPLETE." in run.output

    zip_bytes = aws_clients.s3.get_object(Bucket=BUCKET, Key=new_key)["Body"].read()
    hello = lam.get_function_configuration(FunctionName=FUNCTIONS["hello"])
    assert hello["CodeSha256"] == b64_sha256(zip_bytes)
    assert lam.get_function(FunctionName=FUNCTIONS["data_processor"])["Code"]["Location"].endswith(
        first_keys["data_processor"])
    assert change_sets(aws_clients, STACK) == []


def check_config_change(project, endpoint, aws_clients, api_log, lam) -> None:
    """4. Memory raised in the config: no upload, one property changes on HelloFunction."""
    before = parameters(aws_clients)
    with project.open("a") as config:
        config.write("\n[env.dev.functions.hello]\nmemory = 1024\n")

    run = deploy(api_log, project, endpoint)
    assert run.exit_code == 0, run.output
    assert run.count("PutObject") == 0
    assert [(r.action, r.logical_id) for r in run.rows] == [("Modify", "HelloFunction")]
    assert run.rows[0].details == ["Properties.MemorySize: 512 → 1024"]
    assert "Stack infragen-dev: UPDATE_COMPLETE." in run.output

    memory = {f: lam.get_function_configuration(FunctionName=name)["MemorySize"]
              for f, name in FUNCTIONS.items()}
    assert memory == {"hello": 1024, "data_processor": 512}
    assert parameters(aws_clients) == before
    assert change_sets(aws_clients, STACK) == []


def check_declined_update(project, endpoint, aws_clients, api_log, lam) -> None:
    """5b. A change, no --yes, no terminal: exit 4, change set deleted, nothing applied."""
    before = stack(aws_clients, STACK)
    project.write_text(project.read_text().replace("memory = 1024", "memory = 2048"))

    run = deploy(api_log, project, endpoint, yes=False)
    assert run.exit_code == 4, run.output
    assert "--yes" in run.output
    assert run.count("CreateChangeSet") == 1 and run.count("DeleteChangeSet") == 1
    assert run.count("ExecuteChangeSet") == 0
    assert change_sets(aws_clients, STACK) == []
    assert stack(aws_clients, STACK)["StackStatus"] == before["StackStatus"]
    assert lam.get_function_configuration(FunctionName=FUNCTIONS["hello"])["MemorySize"] == 1024


def _same_json(a, b) -> bool:
    def load(x):
        return json.loads(x) if isinstance(x, str) else x

    return load(a) == load(b)


# --- no terminal, no --yes, nothing deployed yet --------------------------------------------------


def test_first_deploy_without_yes_or_terminal_refuses_and_changes_nothing(project, moto_endpoint,
                                                                           aws_clients, api_log):
    run = deploy(api_log, project, moto_endpoint, yes=False)

    assert run.exit_code == 4, run.output
    assert "no terminal" in run.output and "--yes" in run.output
    assert run.count("ExecuteChangeSet") == 0 and run.count("PutObject") == 0
    assert stack(aws_clients, STACK) is None
    assert aws_clients.s3.list_buckets()["Buckets"] == []
    bootstrap = stack(aws_clients, BOOTSTRAP)
    # The declined CREATE change set was deleted; at most its empty placeholder stack remains.
    assert bootstrap is None or bootstrap["StackStatus"] == "REVIEW_IN_PROGRESS"
    if bootstrap:
        assert change_sets(aws_clients, BOOTSTRAP) == []


def test_declined_first_deploy_leaves_no_placeholder_stack(project, moto_endpoint, aws_clients,
                                                           api_log):
    run = deploy(api_log, project, moto_endpoint, yes=False)
    assert run.exit_code == 4, run.output
    assert (stack(aws_clients, BOOTSTRAP) or {}).get("StackStatus") in (None, "DELETE_COMPLETE")


# --- destroy ---------------------------------------------------------------------------------------


def test_destroy_keeps_the_bootstrap_stack_unless_asked(project, moto_endpoint, aws_clients, api_log):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    base = ["destroy", "--config", str(project), "--endpoint-url", moto_endpoint,
            "--wait-timeout", "60"]

    refused = run_cli(api_log, *base)
    assert refused.exit_code == 4 and "--yes" in refused.output
    assert refused.count("DeleteStack") == 0
    assert stack(aws_clients, STACK)["StackStatus"] == "CREATE_COMPLETE"

    gone = run_cli(api_log, *base, "--yes")
    assert gone.count("DeleteStack") == 1
    assert stack(aws_clients, STACK) is None
    # The emulator answers the delete with DependencyViolation yet removes the stack: a request
    # error for a stack that is gone is reported as a warning, not a failure.
    assert gone.exit_code == 0, gone.output
    assert "Stack infragen-dev deleted." in gone.output
    assert stack(aws_clients, BOOTSTRAP)["StackStatus"] == "UPDATE_COMPLETE"  # role, then account
    assert len(bucket_objects(aws_clients)) == 2

    everything = run_cli(api_log, *base, "--yes", "--include-bootstrap")
    assert everything.exit_code == 0, everything.output
    assert "Stack infragen-dev does not exist; nothing to delete." in everything.output
    assert (stack(aws_clients, BOOTSTRAP) or {}).get("StackStatus") in (None, "DELETE_COMPLETE")
    assert aws_clients.s3.list_buckets()["Buckets"] == []


def test_bootstrap_is_kept_while_another_environment_uses_it(project, moto_endpoint, aws_clients,
                                                             api_log):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    aws_clients.cloudformation.create_stack(  # stands in for a deployed prod environment
        StackName="infragen-prod",
        TemplateBody='{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}')

    run = run_cli(api_log, "destroy", "--config", str(project), "--endpoint-url", moto_endpoint,
                  "--yes", "--include-bootstrap", "--wait-timeout", "60")

    assert run.exit_code == 2 and "infragen-prod still deploy code from it" in run.output
    assert "nothing was deleted" in run.output
    assert run.count("DeleteStack") == 0  # refused before the environment's own stack went
    assert stack(aws_clients, STACK)["StackStatus"] == "CREATE_COMPLETE"
    assert stack(aws_clients, BOOTSTRAP)["StackStatus"] == "UPDATE_COMPLETE"  # role, then account
    assert len(bucket_objects(aws_clients)) == 2


_BREAKAGES = {
    "handler deleted": (lambda src: (src / "hello" / "handler.py").unlink(), "lambda_src/hello/handler.py is missing"),
    "common deleted": (lambda src: shutil.rmtree(src / "common"), "cannot import 'common'"),
    "syntax error": (lambda src: (src / "data_processor" / "items.py").write_text("def f(:\n"),
                     "items.py:1: SyntaxError"),
    "unresolved import": (lambda src: (src / "common" / "alerts.py").write_text("import requests\n"),
                          "alerts.py:1: cannot import 'requests'"),
    "fifo": (lambda src: __import__("os").mkfifo(src / "hello" / "pipe"), "is a FIFO"),
}


@pytest.mark.parametrize("breakage", list(_BREAKAGES))
def test_a_function_that_cannot_serve_its_handler_is_not_deployed(project, moto_endpoint, aws_clients,
                                                                  api_log, breakage):
    break_it, expected = _BREAKAGES[breakage]
    break_it(project.parent / "lambda_src")

    run = deploy(api_log, project, moto_endpoint)

    assert run.exit_code == 2, run.output
    assert expected in run.output and "Traceback" not in run.output
    assert run.calls == []  # refused before any AWS call: nothing uploaded, nothing deployed
    assert stack(aws_clients, STACK) is None and aws_clients.s3.list_buckets()["Buckets"] == []


def test_breaking_a_deployed_function_leaves_the_stack_and_bucket_as_they_were(project, moto_endpoint,
                                                                               aws_clients, api_log):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    objects, keys = bucket_objects(aws_clients), parameters(aws_clients)
    (project.parent / "lambda_src" / "hello" / "handler.py").write_text("def handle(event, context):\n    return {}\n")

    for command in (["deploy", "--yes"], ["diff"], ["status"], ["package"]):
        run = run_cli(api_log, *command, "--config", str(project), "--endpoint-url", moto_endpoint,
                      *(["--wait-timeout", "60"] if command[0] in {"deploy", "diff"} else []))
        assert run.exit_code == 2, (command, run.output)
        assert "defines no top-level 'handler'" in run.output
        assert run.count("PutObject") == run.count("CreateChangeSet") == 0
    assert bucket_objects(aws_clients) == objects and parameters(aws_clients) == keys
