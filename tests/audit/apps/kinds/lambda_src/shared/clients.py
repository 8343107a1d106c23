"""Clients made by a factory, as lambda_src/common/aws.py does."""

from __future__ import annotations

from typing import Any

_made: dict[str, Any] = {}


def client(service: str) -> Any:
    if service not in _made:
        import boto3

        _made[service] = boto3.client(service)
    return _made[service]
