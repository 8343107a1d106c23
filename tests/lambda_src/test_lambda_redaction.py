"""No secret-like value in any alert or log field: request bodies (JSON, base64, other), error
messages, log lines."""

from __future__ import annotations

import base64
import json
import sys

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SECRET = "hunter2-S3CRET-value"
# One spelling per family, in the casings and separators clients really send.
CREDENTIAL_KEYS = [
    "password", "Password", "PASSWORD", "new_password", "passwd", "pwd", "passphrase",
    "secret", "client_secret", "clientSecret", "token", "access_token", "refreshToken", "id-token",
    "api_key", "apiKey", "API-KEY", "x-api-key", "authorization", "Authorization", "auth",
    "cookie", "Set-Cookie", "signing_key", "signingKey", "Signing-Key", "private_key",
    "privateKey", "secret_access_key", "aws_session_token", "credentials", "signature", "key",
]


def _load_redact():
    path = Path(__file__).resolve().parents[2] / "lambda_src" / "common" / "redact.py"
    spec = importlib.util.spec_from_file_location("redact_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # redact imports nothing from common: loadable on its own
    return module


redact = _load_redact()


@pytest.fixture
def failing_data(data_processor, monkeypatch):
    monkeypatch.setenv("BATCH_SIZE", "0")  # misconfiguration: every request is a 500 with an alert
    return data_processor


@pytest.fixture
def failing_ssm(hello):
    """GET /hello fails inside the handler (as an SSM outage would): a 500 with an alert."""

    def explode(**_):
        raise RuntimeError("simulated SSM outage")

    sys.modules["common.aws"].client("ssm").meta.events.register(
        "before-parameter-build.ssm.GetParameter", explode)


def alert_for(handler, event, context, notifications) -> str:
    assert handler.handler(event, context())["statusCode"] == 500
    [notification] = notifications()
    return notification["Message"]


def test_credential_keys_in_a_json_body_are_scrubbed_at_any_depth(failing_data, data_event, context,
                                                                  notifications):
    secrets = {key: f"{SECRET}-{number}" for number, key in enumerate(CREDENTIAL_KEYS)}
    body = {"data": ["a"], **secrets, "user": {"name": "bob", **secrets,
                                               "nested": [{"deeper": {"deepest": secrets}}]}}
    raw = alert_for(failing_data, data_event(body), context, notifications)

    assert SECRET not in raw
    sent = json.loads(json.loads(raw)["event"]["body"])
    assert sent == {"data": ["a"], "user": {"name": "bob", "nested": [{"deeper": {"deepest": {}}}]}}


def test_a_base64_json_body_is_decoded_and_scrubbed(failing_data, data_event, context, notifications):
    event = data_event({"data": [1], "password": SECRET, "Api-Key": SECRET}, base64_encoded=True)
    raw = alert_for(failing_data, event, context, notifications)

    assert SECRET not in raw and base64.b64encode(SECRET.encode()).decode()[:12] not in raw
    assert json.loads(json.loads(raw)["event"]["body"]) == {"data": [1]}


@pytest.mark.parametrize("body, base64_encoded", [
    (f"password={SECRET}&user=bob", False),                 # form-encoded
    (f"{SECRET}", False),                                   # plain text
    ('{"password": "' + SECRET + '", ', False),            # truncated JSON
    (f"password={SECRET}", True),                           # base64 of non-JSON
    (b"\xff\xfe" + SECRET.encode(), True),                 # base64 of non-UTF-8
])
def test_a_body_that_is_not_json_is_left_out_with_its_size(hello, failing_ssm, hello_event, context,
                                                            notifications, body, base64_encoded):
    raw_body = body.encode() if isinstance(body, str) else body
    hello_event["body"] = base64.b64encode(raw_body).decode() if base64_encoded else body
    hello_event["isBase64Encoded"] = base64_encoded
    raw = alert_for(hello, hello_event, context, notifications)

    assert SECRET not in raw
    assert json.loads(raw)["event"]["body"].startswith("[omitted: ")


def test_error_messages_and_logs_carry_no_secret_like_value(hello, hello_event, context, notifications,
                                                            capsys):
    def leaky(**_):
        raise RuntimeError(f"login failed for password={SECRET} with Authorization: Bearer {SECRET}")

    sys.modules["common.aws"].client("ssm").meta.events.register(
        "before-parameter-build.ssm.GetParameter", leaky)
    raw = alert_for(hello, hello_event, context, notifications)

    assert SECRET not in raw
    assert json.loads(raw)["errorMessage"].startswith("login failed for password=[redacted]")
    logged = capsys.readouterr().out
    assert "login failed" in logged and SECRET not in logged


def test_log_lines_drop_credential_named_extras_and_scrub_values(hello, capsys):
    logger = sys.modules["common.logs"].get_logger()
    logger.warning("retrying with token=%s", SECRET, extra={"api_key": SECRET, "note": f"secret: {SECRET}",
                                                           "detail": {"password": SECRET, "ok": 1}})
    line = json.loads(capsys.readouterr().out)
    assert SECRET not in json.dumps(line)
    assert "api_key" not in line and line["detail"] == {"ok": 1}
    assert line["message"] == "retrying with token=[redacted]"


@pytest.mark.parametrize("text, kept", [
    (f"Authorization: Bearer {SECRET}", "Authorization: "),
    (f'{{"client_secret": "{SECRET} with spaces"}}', '{"client_secret": '),
    (f"https://x/?api_key={SECRET}&page=2", "&page=2"),
    ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here", " here"),
    ("key AKIAIOSFODNN7EXAMPLE used", " used"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", ""),
])
def test_scrub_text_replaces_secret_looking_values(text, kept):
    cleaned = redact.scrub_text(text)
    assert "[redacted]" in cleaned and kept in cleaned
    for fragment in (SECRET, "eyJzdWIiOiIxIn0", "AKIAIOSFODNN7EXAMPLE", "MIIE"):
        assert fragment not in cleaned


def test_ordinary_fields_are_kept_and_credential_fields_are_not():
    for name in ("data", "items", "user", "Content-Type", "keyboard", "monkey", "route", "path"):
        assert not redact.is_sensitive(name), name
    for name in CREDENTIAL_KEYS:
        assert redact.is_sensitive(name), name


separators = st.sampled_from(["", "-", "_", ".", " "])
casing = st.sampled_from([str.lower, str.upper, str.title, lambda s: s])
json_leaf = st.one_of(st.integers(), st.booleans(), st.none(), st.text(alphabet="abcxyz 01", max_size=8))
json_names = st.text(alphabet="abcdefgh", min_size=1, max_size=6).filter(lambda n: n not in {"key", "pin", "sig"})


@st.composite
def bodies_hiding_a_secret(draw):
    """A JSON document with SECRET under a credential-like key at a random depth."""
    words = draw(st.sampled_from([("api", "key"), ("client", "secret"), ("access", "token"),
                                  ("pass", "word"), ("signing", "key"), ("x", "auth", "token"),
                                  ("private", "key"), ("session", "id"), ("set", "cookie")]))
    key = draw(separators).join(draw(casing)(w) for w in words)
    value = {key: SECRET}
    for _ in range(draw(st.integers(0, 4))):
        siblings = draw(st.dictionaries(json_names, json_leaf, max_size=3))
        value = draw(st.sampled_from([{**siblings, draw(json_names): value}, [value]]))
    return value


@settings(max_examples=200, deadline=None)
@given(document=bodies_hiding_a_secret(), base64_encoded=st.booleans())
def test_property_no_secret_survives_in_a_scrubbed_event(document, base64_encoded):
    text = json.dumps(document)
    body = base64.b64encode(text.encode()).decode() if base64_encoded else text
    event = {"httpMethod": "POST", "body": body, "isBase64Encoded": base64_encoded,
             "Records": [{"body": text}]}  # any `body` at any depth (SQS-style records too)
    assert SECRET not in json.dumps(redact.safe_event(event))


@pytest.mark.parametrize("hostile", ["auth" + "a" * 250_000, "token" * 50_000, "x" * 250_000 + ":",
                                     'a: "' * 60_000, "Bearer " * 35_000, "eyJ" + "a" * 250_000])
def test_scrubbing_a_large_hostile_string_takes_linear_time(hostile):
    import time

    started = time.perf_counter()
    redact.scrub_text(hostile)
    assert time.perf_counter() - started < 2.0  # quadratic backtracking would take minutes
