"""Where a command's AWS calls go: real AWS, a given endpoint, or the local emulator.

The only module that creates boto3 sessions and clients; everything else receives clients.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Iterator, Literal

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConfigParseError, HTTPClientError, ProfileNotFound

from infragen import __version__
from infragen.endpoint_url import endpoint_url_problem
from infragen.errors import AwsError, ConfigError, UsageError
from infragen.regions import region_problem

Kind = Literal["aws", "endpoint", "local"]
_KINDS = ("aws", "endpoint", "local")
_DUMMY_KEY = "testing"
_EC2_HINTS = (  # Linux files that say "this machine is an EC2 instance" without a network call
    (Path("/sys/devices/virtual/dmi/id/sys_vendor"), "Amazon EC2"),
    (Path("/sys/devices/virtual/dmi/id/board_asset_tag"), "i-"),
    (Path("/sys/hypervisor/uuid"), "ec2"),
)
_CONFIGURE_HINT = (
    "Run `aws configure` (or `aws sso login --profile NAME`), set AWS_PROFILE or pass --profile, "
    "or use --local to deploy to the local emulator."
)
# The dummy-credential session reads no AWS config or credentials file and no AWS_PROFILE:
# a malformed or foreign ~/.aws/config must not matter to the emulator.
_NO_USER_FILES = {
    "profile": (None, None, None, None),
    "config_file": (None, None, os.devnull, None),
    "credentials_file": (None, None, os.devnull, None),
}


@dataclass(frozen=True)
class CallLimits:
    """How long one AWS call may take, so an endpoint that accepts and never answers cannot stall a
    command: per attempt (connect, then each read of the answer) and in all (no retry starts once
    `budget_s` has passed since the call began). Control-plane calls answer in seconds; S3 gets longer
    reads for uploads."""

    connect_s: float = 5.0
    read_s: float = 20.0
    upload_read_s: float = 60.0
    max_attempts: int = 3  # in all, the first attempt included
    budget_s: float = 45.0

    def at_most(self, seconds: float | None) -> "CallLimits":
        """These limits, none above `seconds` (a command's --wait-timeout)."""
        if seconds is None:
            return self
        return replace(self, connect_s=min(self.connect_s, seconds), read_s=min(self.read_s, seconds),
                       upload_read_s=min(self.upload_read_s, seconds), budget_s=min(self.budget_s, seconds))


CALL_LIMITS = CallLimits()


class CallTimedOut(BotoCoreError):
    """An AWS call found no usable answer within its budget (retries included)."""

    fmt = ("no answer from {endpoint} for {operation} within {budget:g} s ({attempts} attempt(s)); "
           "the endpoint or the network is not responding")


@dataclass(frozen=True)
class Target:
    """Where AWS calls go.

    `region` is resolved by the caller with this precedence: an explicit `--region` option, else the
    config file's region (whose default is us-west-2). AWS_REGION, AWS_DEFAULT_REGION and the profile's
    region are ignored on purpose: the config, not the shell, decides where the stack lives.
    `profile` is `--profile` (None: boto3's default chain, including AWS_PROFILE).
    `endpoint_url` is required for "endpoint" and "local" targets and refused for "aws".
    """

    kind: Kind
    region: str
    profile: str | None = None
    endpoint_url: str | None = None
    limits: CallLimits = CALL_LIMITS

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ConfigError(f"Unknown target kind {self.kind!r}; expected one of {', '.join(_KINDS)}.")
        if (self.kind == "aws") == bool(self.endpoint_url):
            wanted = "takes no" if self.kind == "aws" else "needs an"
            raise ConfigError(f"A {self.kind!r} target {wanted} endpoint URL.")
        if self.endpoint_url and (problem := endpoint_url_problem(self.endpoint_url)):
            raise ConfigError(f"Endpoint URL {problem}.")
        _require_region(self.region, self.kind)


def _require_region(region: str, kind: Kind) -> None:
    """A region of botocore's partitions; any well-formed name for a custom endpoint."""
    if problem := region_problem(region, custom_endpoint=kind == "endpoint"):
        raise ConfigError(f"Region {region!r}: {problem}.", hint="pass --region or set region in the config")


@dataclass(frozen=True)
class Identity:
    """Who the credentials belong to (sts:GetCallerIdentity)."""

    account: str
    arn: str


class Clients:
    """The boto3 clients of one target; each is created on first use, then reused."""

    def __init__(self, target: Target, session: boto3.Session):
        self.target = target
        self.session = session

    @cached_property
    def cloudformation(self):
        return self._client("cloudformation")

    @cached_property
    def s3(self):
        return self._client("s3")

    @cached_property
    def ec2(self):
        return self._client("ec2")

    @cached_property
    def ssm(self):
        return self._client("ssm")

    @cached_property
    def sts(self):
        return self._client("sts")

    @cached_property
    def logs(self):
        return self._client("logs")

    @cached_property
    def sns(self):
        return self._client("sns")

    @cached_property
    def lambda_(self):
        return self._client("lambda")

    @cached_property
    def service_quotas(self):
        return self._client("service-quotas")

    @cached_property
    def kms(self):
        return self._client("kms")

    @cached_property
    def apigateway(self):
        return self._client("apigateway")

    def _client(self, service: str):
        limits = self.target.limits
        config = Config(
            retries={"mode": "standard", "total_max_attempts": limits.max_attempts},
            connect_timeout=limits.connect_s,
            read_timeout=limits.upload_read_s if service == "s3" else limits.read_s,
            user_agent_extra=f"infragen/{__version__}",
            # Emulators and custom endpoints rarely serve bucket-name subdomains.
            s3={"addressing_style": "path"} if self.target.endpoint_url else None,
        )
        try:
            client = self.session.client(service, endpoint_url=self.target.endpoint_url, config=config)
        except ConfigParseError as exc:
            raise _config_file_error(exc) from exc
        client.meta.events.register("request-created", _budget_guard(limits.budget_s),
                                    unique_id="infragen-call-budget")
        return client


def _budget_guard(budget_s: float):
    """A request-created hook: note when a call starts; refuse a retry once its budget is spent."""
    def guard(request, operation_name, **_):
        context = request.context
        started = context.setdefault("infragen_started", time.monotonic())
        attempt = context.get("retries", {}).get("attempt", 1)
        if attempt > 1 and time.monotonic() - started >= budget_s:
            raise CallTimedOut(endpoint=request.url.split("?")[0], operation=operation_name,
                               budget=budget_s, attempts=attempt - 1)
    return guard


def _config_file_error(exc: ConfigParseError) -> ConfigError:
    return ConfigError(f"Cannot read an AWS config file: {exc}",
                       hint="fix or move that file (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE "
                            "name others), or use --local")


def make_session(target: Target) -> Clients:
    """Create the boto3 session for `target` (no network call); clients come lazily from the result.

    The local emulator always gets dummy credentials (`testing`), so real keys never reach it or
    handlers run against it; another endpoint gets them only when none are configured.
    """
    if target.kind == "local":
        return Clients(target, _dummy_session(target))
    session = _session(target, metadata_lookup=target.kind == "aws" and _on_ec2())
    if target.kind == "endpoint" and _credentials(session) is None:
        session = _dummy_session(target)
    return Clients(target, session)


def _dummy_session(target: Target) -> boto3.Session:
    """Dummy credentials, and no user AWS config read at all (see _NO_USER_FILES)."""
    core = botocore.session.Session(session_vars=_NO_USER_FILES)
    return boto3.Session(botocore_session=core, region_name=target.region,
                         aws_access_key_id=_DUMMY_KEY, aws_secret_access_key=_DUMMY_KEY)


def require_credentials(clients: Clients) -> None:
    """Fail before any call when there are no credentials at all (no network call).

    Credentials AWS rejects surface on the command's first call, before anything changes.
    """
    if _credentials(clients.session) is None:
        raise AwsError("No AWS credentials found.", hint=_CONFIGURE_HINT)


def check_credentials(clients: Clients) -> Identity:
    """Fail early, before anything changes, if there are no usable credentials; return whose they are.

    Missing credentials are detected locally, without a network call; present ones are then verified
    with sts:GetCallerIdentity.
    """
    require_credentials(clients)
    try:
        reply = clients.sts.get_caller_identity()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise AwsError(f"AWS rejected the credentials ({code}).", hint=_CONFIGURE_HINT) from exc
    except (CallTimedOut, HTTPClientError) as exc:  # the network, not the credentials
        raise AwsError(f"Could not reach the target to verify the credentials: {exc}",
                       hint="check the endpoint, the network or proxy settings, then retry") from exc
    except BotoCoreError as exc:
        raise AwsError(f"Could not verify the AWS credentials: {exc}", hint=_CONFIGURE_HINT) from exc
    return Identity(account=reply["Account"], arn=reply["Arn"])


def _session(target: Target, *, metadata_lookup: bool) -> boto3.Session:
    """A session for the target's profile; without `metadata_lookup` it never asks the EC2 metadata service."""
    core = botocore.session.Session(profile=target.profile)
    try:
        core.full_config  # parse the AWS config file now: a malformed one is bad input, named
        if not metadata_lookup:
            core.get_component("credential_provider").remove("iam-role")
        return boto3.Session(botocore_session=core, region_name=target.region)
    except ConfigParseError as exc:
        raise _config_file_error(exc) from exc
    except ProfileNotFound as exc:
        raise ConfigError(
            f"AWS profile {core.profile!r} is not configured.",
            hint="Check the name with `aws configure list-profiles`, or create it with `aws configure --profile NAME`.",
        ) from exc


def _credentials(session: boto3.Session):
    try:
        return session.get_credentials()
    except BotoCoreError as exc:
        raise AwsError(f"Could not load AWS credentials: {exc}", hint=_CONFIGURE_HINT) from exc


def _on_ec2() -> bool:
    """Whether this looks like an EC2 instance, the only place the metadata service can give credentials."""
    for path, marker in _EC2_HINTS:
        try:
            if path.read_text().strip().startswith(marker):
                return True
        except OSError:
            continue
    return False


@contextmanager
def open_target(region: str, *, local: bool, endpoint_url: str | None, profile: str | None,
                state_dir: Path, console, call_timeout: float | None = None) -> Iterator[Clients]:
    """Clients for the target the command-line flags name: --local, --endpoint-url, or AWS.

    `call_timeout` (a command's --wait-timeout) caps how long any single AWS call may take.
    """
    if local and endpoint_url:
        raise UsageError("--local and --endpoint-url cannot be combined", hint="pick one target")
    limits = CALL_LIMITS.at_most(call_timeout)
    if local:
        from infragen.local import local_endpoint

        _require_region(region, "local")  # before starting an emulator
        with local_endpoint(state_dir, console) as url:
            yield make_session(Target(kind="local", region=region, endpoint_url=url, limits=limits))
    elif endpoint_url:
        yield make_session(Target(kind="endpoint", region=region, profile=profile,
                                  endpoint_url=endpoint_url, limits=limits))
    else:
        yield make_session(Target(kind="aws", region=region, profile=profile, limits=limits))


def handler_environment(clients: Clients) -> dict[str, str]:
    """Variables that point handler code run in-process (its own boto3) at the same target, as the
    same identity: the endpoint, and the credentials the command resolved (`--profile` included).

    Without credentials, none are set and the handler finds its own (or fails as Lambda would).
    """
    variables = {"AWS_ENDPOINT_URL": clients.target.endpoint_url} if clients.target.endpoint_url else {}
    try:
        credentials = clients.session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials else None
    except BotoCoreError:  # e.g. an expired SSO login: the handler's own boto3 will say so
        frozen = None
    if frozen is None:
        return variables
    variables |= {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key}
    if frozen.token:
        variables["AWS_SESSION_TOKEN"] = frozen.token
    return variables
