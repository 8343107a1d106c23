"""Reading botocore errors, and turning unexpected ones into AwsError with context."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from infragen.errors import AwsError

_THROTTLING = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
           "Forbidden", "403"}
_BAD_CREDENTIALS = {"AuthFailure", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
                    "RequestExpired", "SignatureDoesNotMatch", "UnrecognizedClientException"}


def code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def message(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Message", "") or str(exc)


def is_throttling(exc: ClientError) -> bool:
    return code(exc) in _THROTTLING


def kind_of_failure(exc: BaseException) -> str:
    """What a failed AWS call means for the user: "denied" (permissions), "credentials",
    "unreachable" (no connection, timeouts), "throttled" or "other"."""
    if isinstance(exc, ClientError):
        error = code(exc)
        if error in _DENIED:
            return "denied"
        if error in _BAD_CREDENTIALS:
            return "credentials"
        return "throttled" if error in _THROTTLING else "other"
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return "unreachable"
    return "other"


def is_missing_stack(exc: ClientError) -> bool:
    """CloudFormation's way of saying a stack does not exist."""
    return code(exc) == "ValidationError" and "does not exist" in message(exc)


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Re-raise botocore failures inside the block as AwsError naming what was being done."""
    try:
        yield
    except ClientError as exc:
        raise AwsError(f"{doing} failed: {message(exc)} ({code(exc) or 'no error code'})") from exc
    except ResponseParserError as exc:  # an answer botocore cannot read: show what the service sent
        body = " ".join(str(exc).splitlines()[1:]).strip() or str(exc)
        raise AwsError(f"{doing} failed; the service sent an unreadable answer: {_cut(body)}") from exc
    except BotoCoreError as exc:  # no connection, no credentials, …
        raise AwsError(f"{doing} failed: {exc}") from exc


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
