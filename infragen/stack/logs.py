"""KMS-encrypted log groups with retention: one builder for every log group in the stack."""

from __future__ import annotations

from troposphere import AWSHelperFn, GetAtt, Template
from troposphere.logs import LogGroup

from infragen.config import EnvConfig


def add_log_group(t: Template, cfg: EnvConfig, logical_id: str, name: str | AWSHelperFn,
                  key) -> LogGroup:
    return t.add_resource(LogGroup(
        logical_id,
        LogGroupName=name,
        RetentionInDays=cfg.log_retention_days,
        KmsKeyId=GetAtt(key, "Arn"),
        **_retention_skip(cfg),
    ))


def _retention_skip(cfg: EnvConfig) -> dict:
    """checkov asks for a year of retention; shorter retention is a config choice, said so here."""
    if cfg.log_retention_days >= 365:
        return {}
    reason = (f"Retention is {cfg.log_retention_days} days by choice in infragen.toml "
              f"([env.{cfg.env}] log_retention_days); long-term retention is for prod.")
    return {"Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_338", "comment": reason}]}}}
