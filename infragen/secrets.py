"""Secrets as SSM SecureString parameters, which CloudFormation cannot create.

Values come from stdin or a hidden prompt (never argv) and are never printed.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from infragen.config import EnvConfig
from infragen.deploy.aws_errors import aws_errors
from infragen.errors import AwsError, UsageError
from infragen.stack.names import key_alias


@dataclass(frozen=True)
class SecretSlot:
    function: str
    key: str
    parameter: str


def secret_slots(cfg: EnvConfig) -> list[SecretSlot]:
    """Every SSM parameter a function of this environment reads."""
    return [SecretSlot(fn.name, key, name) for fn in cfg.functions for key, name in fn.parameters]


def find_slot(cfg: EnvConfig, function: str, key: str) -> SecretSlot:
    for slot in secret_slots(cfg):
        if (slot.function, slot.key) == (function, key):
            return slot
    known = ", ".join(f"{s.function} {s.key}" for s in secret_slots(cfg))
    raise UsageError(f"no parameter {key!r} for function {function!r} in [env.{cfg.env}]",
                     hint=f"configured: {known}")


def require_value(value: str) -> str:
    """The value, unless SSM could not store it faithfully: empty, NUL, or not encodable as UTF-8
    (lone surrogates, e.g. undecodable bytes smuggled in by a surrogateescape stream)."""
    if not value:
        raise UsageError("the secret value is empty", hint="pipe the value on stdin or type it at the prompt")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"the secret value is not valid Unicode text (character {exc.start + 1} is a "
                         "lone surrogate, e.g. from bytes that are not UTF-8)",
                         hint="give the value as UTF-8 text; nothing was stored") from None
    if "\0" in value:
        raise UsageError(f"the secret value contains a NUL character (character {value.index(chr(0)) + 1})",
                         hint="give the value as text without NUL; nothing was stored")
    return value


_WRITE_HINTS = {
    "ValidationException": "Standard-tier values are at most 4 KB; an existing Advanced-tier "
                           "parameter cannot be overwritten as Standard",
    "AccessDeniedException": "grant ssm:PutParameter on the parameter and kms:Encrypt on the key",
}


STALE_KEY = "encrypted with another KMS key"  # the state that makes `secrets status` fail


def current_key_arn(kms, cfg: EnvConfig) -> str | None:
    """The ARN of the key the stack's alias names now; None when the stack (and alias) is not there."""
    try:
        return kms.describe_key(KeyId=key_alias(cfg))["KeyMetadata"]["Arn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NotFoundException", "InvalidKeyId"):
            return None
        raise AwsError(f"could not read KMS key {key_alias(cfg)}: {exc.response['Error']['Code']}",
                       hint="your identity needs kms:DescribeKey on the stack's key") from None
    except BotoCoreError as exc:
        raise AwsError(f"could not read KMS key {key_alias(cfg)}: {exc}") from None


def put_secret(ssm, kms, cfg: EnvConfig, slot: SecretSlot, value: str) -> int:
    """Write the value as a SecureString under the stack's key; return the new version.

    The key is given by ARN, not alias, so Parameter Store records which key it is: after a
    destroy and redeploy the alias names a new key, and `secret_status` can tell the difference.
    """
    require_value(value)
    key_arn = current_key_arn(kms, cfg)
    if key_arn is None:
        raise AwsError(f"KMS key {key_alias(cfg)} not found",
                       hint=f"deploy the stack first: infragen deploy --env {cfg.env}")
    try:
        reply = ssm.put_parameter(Name=slot.parameter, Value=value, Type="SecureString",
                                  KeyId=key_arn, Overwrite=True, Tier="Standard")
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("InvalidKeyId", "NotFoundException"):
            raise AwsError(f"KMS key {key_alias(cfg)} not found",
                           hint=f"deploy the stack first: infragen deploy --env {cfg.env}") from None
        # Only the code: some services echo request values in their messages.
        raise AwsError(f"could not write {slot.parameter}: {code}", hint=_WRITE_HINTS.get(code)) from None
    except BotoCoreError as exc:
        raise AwsError(f"could not write {slot.parameter}: {exc}") from None
    return reply["Version"]


def secret_status(ssm, cfg: EnvConfig, kms=None) -> list[tuple[SecretSlot, str]]:
    """(slot, state) for every configured parameter, without reading values.

    States: 'missing', 'set (vN, SecureString)', or — given `kms` — that plus STALE_KEY when the
    parameter was written under a key other than the one the stack's alias names now (it becomes
    unreadable once that key is deleted; write it again).
    """
    slots = secret_slots(cfg)
    found: dict[str, dict] = {}
    names = [s.parameter for s in slots]
    paginator = ssm.get_paginator("describe_parameters")
    with aws_errors(f"Reading the parameters of {cfg.stack_name}"):
        for start in range(0, len(names), 10):  # a Name filter takes at most 10 values
            for page in paginator.paginate(ParameterFilters=[
                    {"Key": "Name", "Option": "Equals", "Values": names[start:start + 10]}]):
                found.update({p["Name"]: p for p in page["Parameters"]})
    current = current_key_arn(kms, cfg) if kms is not None and found else None
    rows = []
    for slot in slots:
        meta = found.get(slot.parameter)
        if meta is None:
            rows.append((slot, "missing"))
            continue
        state = f"set (v{meta['Version']}, {meta['Type']})"
        key = meta.get("KeyId", "")
        if current and key.startswith("arn:") and key != current:
            state += f", {STALE_KEY} ({key.rsplit('/', 1)[-1]}): write it again with `infragen secrets set`"
        rows.append((slot, state))
    return rows


def existing_parameters(ssm, cfg: EnvConfig) -> list[str]:
    """The configured parameters that exist (names only; no value is read)."""
    return [slot.parameter for slot, state in secret_status(ssm, cfg) if state != "missing"]


def orphaned_secrets_notice(cfg: EnvConfig, names: list[str]) -> str:
    """What `destroy` says about secrets it keeps: the stack's key is scheduled for deletion, after
    which a SecureString written with it cannot be decrypted (AWS KMS Developer Guide, "Deleting
    AWS KMS keys": data encrypted under a deleted key is unrecoverable)."""
    return (f"{len(names)} SecureString parameter(s) of {cfg.stack_name} stay: {', '.join(names)}. "
            f"They were encrypted with the stack's KMS key, which the deletion schedules for deletion "
            f"(30-day waiting period): after that they cannot be decrypted, and a new stack's key "
            f"cannot read them either. Delete them with --delete-secrets, or set them again "
            f"(`infragen secrets set`) after the next deploy.")


def delete_secrets(ssm, names: list[str]) -> list[str]:
    """Delete these parameters; return the names SSM reported deleted."""
    deleted: list[str] = []
    with aws_errors("Deleting the stack's SecureString parameters"):
        for start in range(0, len(names), 10):  # DeleteParameters takes at most 10 names
            deleted += ssm.delete_parameters(Names=names[start:start + 10])["DeletedParameters"]
    return deleted
