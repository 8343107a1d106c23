"""boto3 clients created on first use and reused for the life of the container.

boto3 is imported lazily, so importing a handler costs nothing and requests that
are rejected before any AWS call never pay for the SDK.
"""

from __future__ import annotations

from typing import Any

# Fail fast inside the function's timeout instead of hanging on the network.
_CLIENT_CONFIG = {
    "connect_timeout": 2,
    "read_timeout": 5,
    "retries": {"max_attempts": 3, "mode": "standard"},
}
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """The container's client for `service` (e.g. "ssm", "sns")."""
    existing = _clients.get(service)
    if existing is not None:
        return existing
    import boto3
    from botocore.config import Config

    created = boto3.client(service, config=Config(**_CLIENT_CONFIG))
    _clients[service] = created
    return created
