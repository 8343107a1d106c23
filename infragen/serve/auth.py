"""API Gateway's checks before the integration runs: API keys and SigV4 (AWS_IAM) signatures.

Each check returns None when the request may pass, else the Rejection API Gateway would answer
with (status, message and x-amzn-ErrorType as its default gateway responses carry them).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MISSING_TOKEN = "Missing Authentication Token"
SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. Consult the service "
                      "documentation for details.")
INVALID_TOKEN = "The security token included in the request is invalid."
MAX_SKEW = timedelta(minutes=5)  # SigV4: a signature is valid 5 minutes either side of its x-amz-date
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")
_SIGNED_HEADERS = re.compile(r"SignedHeaders=([^,\s]+)")
_SIGNATURE = re.compile(r"Signature=([0-9a-f]+)")


@dataclass(frozen=True)
class Rejection:
    status: int
    message: str
    error_type: str


FORBIDDEN = Rejection(403, "Forbidden", "ForbiddenException")
NO_ROUTE = Rejection(403, MISSING_TOKEN, "MissingAuthenticationTokenException")


def header(headers: dict[str, list[str]], name: str) -> str | None:
    """The last value of header `name` (case-insensitive), as API Gateway's single-value map keeps it."""
    found = [v for k, values in headers.items() if k.lower() == name for v in values]
    return found[-1] if found else None


def check_api_key(headers: dict[str, list[str]], valid_key: str) -> Rejection | None:
    """ApiKeyRequired: a missing or wrong `x-api-key` is 403 {"message":"Forbidden"} (API Gateway's
    INVALID_API_KEY gateway response), before the integration runs."""
    given = header(headers, "x-api-key")
    if given is None or not hmac.compare_digest(given.encode(), valid_key.encode()):
        return FORBIDDEN
    return None


@dataclass(frozen=True)
class Signer:
    """The target's credentials: the only ones whose SigV4 signatures this API accepts."""

    access_key: str
    secret_key: str
    token: str | None
    region: str
    account_id: str

    def check(self, method: str, url_path: str, query: str, headers: dict[str, list[str]], body: bytes,
              now: datetime | None = None) -> Rejection | None:
        """AWS_IAM: verify the request's SigV4 signature by recomputing it with botocore's signer.

        Mirrors API Gateway's answers: no Authorization header → 403 Missing Authentication Token;
        a malformed one → 403 IncompleteSignatureException; another access key or session token →
        403 "The security token included in the request is invalid."; a wrong region or service in
        the scope, or a signature older or newer than 5 minutes → 403 with API Gateway's text;
        any other difference → 403 "The request signature we calculated does not match…".
        """
        authorization = header(headers, "authorization")
        if authorization is None:
            return Rejection(403, MISSING_TOKEN, "MissingAuthenticationTokenException")
        credential = _CREDENTIAL.search(authorization)
        signed = _SIGNED_HEADERS.search(authorization)
        signature = _SIGNATURE.search(authorization)
        amz_date = header(headers, "x-amz-date")
        if not (authorization.startswith("AWS4-HMAC-SHA256 ") and credential and signed and signature
                and amz_date):
            return Rejection(403, f"Authorization header requires 'Credential', 'Signature', "
                                  f"'SignedHeaders' and 'X-Amz-Date' parameters. Authorization={authorization}",
                             "IncompleteSignatureException")
        access_key, date, region, service = credential.groups()
        if access_key != self.access_key or header(headers, "x-amz-security-token") != self.token:
            return Rejection(403, INVALID_TOKEN, "UnrecognizedClientException")
        if service != "execute-api":
            return Rejection(403, "Credential should be scoped to correct service: 'execute-api'. ",
                             "InvalidSignatureException")
        if region != self.region:
            return Rejection(403, f"Credential should be scoped to a valid region, not '{region}'. ",
                             "InvalidSignatureException")
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return Rejection(403, SIGNATURE_MISMATCH, "InvalidSignatureException")
        now = now or datetime.now(timezone.utc)
        if abs(now - signed_at) > MAX_SKEW:
            stamp = "%Y%m%dT%H%M%SZ"
            return Rejection(403, f"Signature expired: {amz_date} is now earlier than "
                                  f"{(now - MAX_SKEW).strftime(stamp)} ({now.strftime(stamp)} - 5 min.)",
                             "InvalidSignatureException")
        expected = self._signature(method, url_path, query, headers, body, signed.group(1).split(";"),
                                   amz_date, region)
        if date != amz_date[:8] or not hmac.compare_digest(expected, signature.group(1)):
            return Rejection(403, SIGNATURE_MISMATCH, "InvalidSignatureException")
        return None

    def _signature(self, method, url_path, query, headers, body, signed_headers, amz_date, region) -> str:
        """The signature botocore computes for this request over exactly the headers the client signed."""
        kept = {name: header(headers, name) or "" for name in signed_headers}
        request = AWSRequest(method=method, url=f"https://{kept.get('host', 'localhost')}{url_path}"
                                                 + (f"?{query}" if query else ""),
                             headers=kept, data=body)
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(self.access_key, self.secret_key, self.token), "execute-api", region)
        signer.headers_to_sign = lambda _request: _Headers(kept)  # what the client signed, nothing more
        canonical = signer.canonical_request(request)
        return signer.signature(signer.string_to_sign(request, canonical), request)


class _Headers(dict):
    """The header map botocore's canonical_headers expects (get_all → a list)."""

    def get_all(self, name):
        return [self[name]] if name in self else []
