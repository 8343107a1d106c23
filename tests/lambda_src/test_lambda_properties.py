"""Property-based: no client input yields a 5xx or escapes the handler; signing holds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import event as label
from hypothesis import strategies as st

# Fixtures hold per-test state (moto, fresh modules) that is safe to share between examples.
PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

header_names = st.one_of(
    st.text(min_size=1, max_size=20),
    st.sampled_from(["Authorization", "X-Api-Key", "Cookie", "X-Amz-Security-Token"]).map(
        lambda name: "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(name))
    ),
)
headers = st.dictionaries(header_names, st.text(max_size=40), max_size=6)
multi_value_headers = st.dictionaries(
    header_names, st.lists(st.text(max_size=20), max_size=3), max_size=4
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
scalars = (
    st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20)
)


@st.composite
def bodies(draw) -> tuple[object, object]:
    """(body, isBase64Encoded) pairs: junk, JSON, near-valid payloads, base64 either way."""
    text = draw(
        st.one_of(
            st.none(),
            st.text(max_size=200),
            json_values.map(json.dumps),
            st.fixed_dictionaries({"data": json_values}).map(json.dumps),
            st.fixed_dictionaries({"data": st.lists(json_values, max_size=6)}).map(json.dumps),
            st.fixed_dictionaries({"data": st.lists(scalars, max_size=6)}).map(json.dumps),
        )
    )
    encoding = draw(st.sampled_from(["plain", "base64", "flag-only", "odd-flag"]))
    if encoding == "base64" and text is not None:
        return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode(), True
    if encoding == "base64":
        return base64.b64encode(draw(st.binary(max_size=100))).decode(), True
    if encoding == "flag-only":
        return text, True  # claims base64, usually is not
    if encoding == "odd-flag":
        return text, draw(st.sampled_from(["true", 1, None]))
    return text, False


def _client_event(base: dict, draw_body, draw_headers, draw_multi) -> dict:
    body, is_base64 = draw_body
    event = dict(base, body=body, isBase64Encoded=is_base64)
    event["headers"] = draw_headers
    event["multiValueHeaders"] = draw_multi
    return event


@PROPERTY
@given(body=bodies(), hdrs=headers, multi=multi_value_headers)
def test_data_processor_never_5xx_on_client_input(
    data_processor, data_event, context, body_of, body, hdrs, multi
):
    event = _client_event(data_event(), body, hdrs, multi)

    response = data_processor.handler(event, context())

    label(f"status {response['statusCode']}")
    assert response["statusCode"] in {200, 400, 413}
    payload = body_of(response)
    assert payload["requestId"] == event["requestContext"]["requestId"]
    if response["statusCode"] != 200:
        assert isinstance(payload["error"], str) and payload["error"]


@PROPERTY
@given(body=bodies(), hdrs=headers, multi=multi_value_headers)
def test_hello_answers_200_whatever_the_client_sends(
    hello, hello_event, context, body_of, body, hdrs, multi
):
    response = hello.handler(_client_event(hello_event, body, hdrs, multi), context())

    assert response["statusCode"] == 200
    assert body_of(response)["greetingConfigured"] is True


@PROPERTY
@given(data=st.lists(scalars, max_size=8), as_base64=st.booleans())
def test_valid_items_are_batched_normalised_and_verifiably_signed(
    data_processor, data_event, context, body_of, known, data, as_base64
):
    batch = 3  # BATCH_SIZE in the lambda_env fixture
    event = data_event({"data": data}, base64_encoded=as_base64)

    body = body_of(data_processor.handler(event, context()))

    expected = [
        unicodedata.normalize("NFC", item).strip() if isinstance(item, str) else item
        for item in data[:batch]
    ]
    assert body["items"] == expected
    assert (body["received"], body["processed"], body["leftOver"]) == (
        len(data),
        min(len(data), batch),
        max(0, len(data) - batch),
    )
    canonical = json.dumps(
        body["items"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    digest = hmac.new(known.signing_key.encode(), canonical, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(body["signature"], digest)


@PROPERTY
@given(hdrs=headers, multi=multi_value_headers)
def test_redacted_event_keeps_no_credential_header(hello, hello_event, hdrs, multi):
    redact = sys.modules["common.redact"]
    event = dict(hello_event, headers=hdrs, multiValueHeaders=multi)

    cleaned = redact.safe_event(event)

    for section, original in (("headers", hdrs), ("multiValueHeaders", multi)):
        kept = cleaned[section]
        assert not any(redact.is_sensitive(name) for name in kept)
        for name in original:
            lowered = name.lower()
            if any(word in lowered for word in ("authorization", "api-key", "cookie", "token")):
                assert name not in kept
            elif not redact.is_sensitive(name):
                assert name in kept
