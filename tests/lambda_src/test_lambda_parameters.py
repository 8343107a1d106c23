"""The shared parameter accessor: per-container TTL cache, unconfigured parameters."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture
def clock(monkeypatch):
    """Controllable clock for the freshly imported common.parameters."""

    class Clock:
        now = 1000.0

        def __call__(self) -> float:
            return self.now

    fake = Clock()
    monkeypatch.setattr(sys.modules["common.parameters"], "_clock", fake)
    return fake


def test_warm_invocations_within_ttl_make_no_ssm_call(
    hello, hello_event, context, ssm_calls, clock
):
    calls = ssm_calls()

    for _ in range(5):
        assert hello.handler(hello_event, context())["statusCode"] == 200
        clock.now += 10

    assert calls == ["/infragen/dev/greeting"]


def test_parameter_is_fetched_again_after_ttl(
    hello, hello_event, context, ssm_calls, clock, monkeypatch, aws, body_of
):
    monkeypatch.setenv("PARAMETER_TTL_SECONDS", "60")
    calls = ssm_calls()

    hello.handler(hello_event, context())
    aws.ssm.put_parameter(
        Name="/infragen/dev/greeting", Value="Rotated", Type="SecureString", Overwrite=True
    )
    clock.now += 59.9
    stale = body_of(hello.handler(hello_event, context()))["greeting"]
    clock.now += 0.1
    fresh = body_of(hello.handler(hello_event, context()))["greeting"]

    assert len(calls) == 2
    assert stale != "Rotated"
    assert fresh == "Rotated"


def test_default_ttl_is_300_seconds(hello, hello_event, context, ssm_calls, clock):
    calls = ssm_calls()

    hello.handler(hello_event, context())
    clock.now += 299
    hello.handler(hello_event, context())
    assert len(calls) == 1
    clock.now += 1
    hello.handler(hello_event, context())
    assert len(calls) == 2


def test_zero_ttl_disables_the_cache(hello, hello_event, context, ssm_calls, monkeypatch):
    monkeypatch.setenv("PARAMETER_TTL_SECONDS", "0")
    calls = ssm_calls()

    for _ in range(3):
        hello.handler(hello_event, context())

    assert len(calls) == 3


def test_each_function_caches_its_own_parameter(
    data_processor, data_event, context, ssm_calls, clock
):
    calls = ssm_calls()

    for _ in range(3):
        assert data_processor.handler(data_event(), context())["statusCode"] == 200

    assert calls == ["/infragen/dev/signing-key"]


def test_missing_parameter_is_cached_and_logged_by_name_only(
    hello, hello_event, context, ssm_calls, clock, aws, capsys
):
    aws.ssm.delete_parameter(Name="/infragen/dev/greeting")
    calls = ssm_calls()

    hello.handler(hello_event, context())
    hello.handler(hello_event, context())

    assert len(calls) == 1
    warnings = [line for line in capsys.readouterr().out.splitlines() if "WARNING" in line]
    assert len(warnings) == 1
    assert "/infragen/dev/greeting" in warnings[0]


def test_invalid_ttl_is_a_server_error(hello, hello_event, context, monkeypatch):
    monkeypatch.setenv("PARAMETER_TTL_SECONDS", "soon")

    assert hello.handler(hello_event, context())["statusCode"] == 500


def test_parameter_is_requested_decrypted(hello, hello_event, context):
    client = sys.modules["common.aws"].client("ssm")
    seen: list[dict] = []
    client.meta.events.register(
        "before-parameter-build.ssm.GetParameter", lambda params, **_: seen.append(dict(params))
    )

    hello.handler(hello_event, context())

    assert seen == [{"Name": "/infragen/dev/greeting", "WithDecryption": True}]


def test_a_parameter_its_key_cannot_decrypt_is_logged_clearly_and_fails_the_request(
    hello, hello_event, context, capsys
):
    """After a destroy the key is pending deletion: SSM refuses to decrypt (issue 9 #7)."""
    from botocore.stub import Stubber

    client = sys.modules["common.aws"].client("ssm")
    with Stubber(client) as stub:
        stub.add_client_error("get_parameter", "KMS.KMSInvalidStateException",
                              "arn:aws:kms:us-west-2:123456789012:key/k is pending deletion.")
        response = hello.handler(hello_event, context())
    assert response["statusCode"] == 500
    lines = [line for line in capsys.readouterr().out.splitlines() if "cannot be decrypted" in line]
    assert len(lines) == 1 and "infragen secrets set" in lines[0] and "/infragen/dev/greeting" in lines[0]
    assert "KMS.KMSInvalidStateException" in lines[0]
