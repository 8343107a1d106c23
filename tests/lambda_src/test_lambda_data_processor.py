"""POST /data: batching, normalisation, signing, and every client-error rule."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest


def _expected_signature(key: str, items: list) -> str:
    canonical = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def test_example_event_is_batched_normalised_and_signed(
    data_processor, data_event, context, body_of, known
):
    event = data_event()

    response = data_processor.handler(event, context())

    assert response["statusCode"] == 200
    body = body_of(response)
    # example data: ["  alpha  ", "Cafe\u0301", 42, 3.5, true, " omega"], BATCH_SIZE=3
    assert body["items"] == ["alpha", "Caf\u00e9", 42]
    assert (body["received"], body["processed"], body["leftOver"]) == (6, 3, 3)
    assert body["signingConfigured"] is True
    assert body["signatureAlgorithm"] == "HMAC-SHA256"
    assert body["signature"] == _expected_signature(known.signing_key, body["items"])
    assert body["requestId"] == event["requestContext"]["requestId"]


def test_numbers_and_booleans_are_kept_and_small_batches_fully_processed(
    data_processor, data_event, context, body_of
):
    body = body_of(data_processor.handler(data_event({"data": [True, -7, 0.25]}), context()))

    assert body["items"] == [True, -7, 0.25]
    assert (body["received"], body["processed"], body["leftOver"]) == (3, 3, 0)


def test_empty_list_is_processed_and_signed(data_processor, data_event, context, body_of, known):
    body = body_of(data_processor.handler(data_event({"data": []}), context()))

    assert (body["received"], body["processed"], body["leftOver"]) == (0, 0, 0)
    assert body["signature"] == _expected_signature(known.signing_key, [])


def test_batch_size_comes_from_env(data_processor, data_event, context, body_of, monkeypatch):
    monkeypatch.setenv("BATCH_SIZE", "1")

    body = body_of(data_processor.handler(data_event({"data": ["a", "b"]}), context()))

    assert (body["processed"], body["leftOver"], body["items"]) == (1, 1, ["a"])


def test_missing_signing_key_means_no_signature(
    data_processor, data_event, context, body_of, aws
):
    aws.ssm.delete_parameter(Name="/infragen/dev/signing-key")

    response = data_processor.handler(data_event({"data": [" x "]}), context())

    assert response["statusCode"] == 200
    body = body_of(response)
    assert body["items"] == ["x"]
    assert body["signingConfigured"] is False
    assert "signature" not in body


def test_signature_never_reveals_the_key(data_processor, data_event, context, known):
    response = data_processor.handler(data_event({"data": ["a"]}), context())

    assert known.signing_key not in json.dumps(response)


def test_base64_body_is_decoded(data_processor, data_event, context, body_of):
    event = data_event({"data": ["  b64  "]}, base64_encoded=True)

    body = body_of(data_processor.handler(event, context()))

    assert body["items"] == ["b64"]


@pytest.mark.parametrize(
    ("body", "fields", "message"),
    [
        (None, {}, "request body is required"),
        ("", {}, "request body is required"),
        ("{not json", {}, "request body is not valid JSON"),
        ('{"data": [NaN]}', {}, "request body is not valid JSON"),
        ('{"data": [Infinity]}', {}, "request body is not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, {}, "request body is not valid JSON"),
        ("1" * 5000, {}, "request body is not valid JSON"),
        ("\udcff", {}, "request body is not valid JSON"),
        ("not base64!", {"isBase64Encoded": True}, "request body is not valid base64"),
        ("/w==", {"isBase64Encoded": True}, "request body is not valid JSON"),
        ('{"items": []}', {}, "body must be a JSON object with a 'data' list"),
        ('["data"]', {}, "body must be a JSON object with a 'data' list"),
        ('{"data": "abc"}', {}, "'data' must be a list"),
        ('{"data": {"a": 1}}', {}, "'data' must be a list"),
        ('{"data": null}', {}, "'data' must be a list"),
        ('{"data": ["ok", 1, {"a": 1}]}', {}, "data[2]: unsupported item type 'object'"),
        ('{"data": [[1]]}', {}, "data[0]: unsupported item type 'array'"),
        ('{"data": ["a", null]}', {}, "data[1]: unsupported item type 'null'"),
        ('{"data": [1, 1e999]}', {}, "data[1]: number is out of range"),
        ('{"data": ["\\ud800"]}', {}, "data[0]: string is not valid Unicode"),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_client_errors_are_400_with_a_json_message(
    data_processor, data_event, context, body_of, body, fields, message
):
    event = data_event(body, **fields)
    ctx = context()

    response = data_processor.handler(event, ctx)

    assert response["statusCode"] == 400
    error = body_of(response)
    assert error["error"].startswith(message)
    assert error["requestId"] == event["requestContext"]["requestId"]


def test_invalid_item_beyond_the_batch_still_rejects_the_request(
    data_processor, data_event, context, body_of
):
    response = data_processor.handler(data_event({"data": ["a", "b", "c", "d", {}]}), context())

    assert response["statusCode"] == 400
    assert body_of(response)["error"].startswith("data[4]:")


def _body_of_size(size: int) -> str:
    """A valid JSON body of exactly `size` UTF-8 bytes."""
    skeleton = '{"data": [""]}'
    return skeleton.replace('""', '"' + "x" * (size - len(skeleton)) + '"')


@pytest.mark.parametrize("base64_encoded", [False, True])
def test_size_limit_is_on_the_decoded_body(
    data_processor, data_event, context, body_of, base64_encoded
):
    limit = data_processor.MAX_BODY_BYTES
    at_limit = data_event(_body_of_size(limit), base64_encoded=base64_encoded)
    over_limit = data_event(_body_of_size(limit + 1), base64_encoded=base64_encoded)

    assert data_processor.handler(at_limit, context())["statusCode"] == 200
    response = data_processor.handler(over_limit, context())
    assert response["statusCode"] == 413
    assert body_of(response)["error"] == f"request body exceeds {limit} bytes"


def test_size_counts_utf8_bytes_not_characters(data_processor, data_event, context):
    limit = data_processor.MAX_BODY_BYTES
    body = '{"data": ["' + "\u00e9" * (limit // 2) + '"]}'  # 2 bytes per character
    assert len(body) < limit < len(body.encode())

    assert data_processor.handler(data_event(body), context())["statusCode"] == 413
