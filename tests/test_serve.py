"""`infragen serve` end to end: a server on a free port, real HTTP clients, the emulator as target."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import re
import shutil
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from click.testing import CliRunner

from infragen.cli import cli
from infragen.config import load_config
from infragen.console import Console
from infragen.serve.app import LocalApi, deployed_api_key
from infragen.serve.sdk import handler_services, share_sdk_models
from infragen.serve.server import ApiServer, RequestLog
from tests.wheels import write_wheel

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "tests" / "apps" / "shop"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def copy_app(source: Path, tmp_path: Path, *, drop: tuple[str, ...] = ()) -> Path:
    shutil.copy(source / "infragen.toml", tmp_path)
    shutil.copytree(source / "lambda_src", tmp_path / "lambda_src", ignore=shutil.ignore_patterns("__pycache__"))
    if (source / "schemas").is_dir():
        shutil.copytree(source / "schemas", tmp_path / "schemas")
    config = tmp_path / "infragen.toml"
    for function in drop:  # e.g. the shop's `reports`, whose requirement needs a package index
        text = config.read_text()
        config.write_text(re.sub(rf"\[functions\.{function}\]\n(?:[^\[\n].*\n|\n)*", "", text))
        shutil.rmtree(tmp_path / "lambda_src" / function)
    return config


def with_hello_handler(tmp_path: Path, source: str) -> Path:
    """The example app in `tmp_path`, its hello handler replaced by `source`; the config path."""
    config = copy_app(ROOT, tmp_path)
    (tmp_path / "lambda_src" / "hello" / "handler.py").write_text(source)
    return config


class Served:
    """A running server plus what its request log printed."""

    def __init__(self, server: ApiServer, log: io.StringIO):
        self.server, self.log = server, log
        self.url = server.url
        self.api = server.api

    def request(self, method: str, path: str, *, body: bytes | str | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with _DIRECT.open(request, timeout=30) as reply:
                return reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, **kwargs) -> tuple[int, dict]:
        status, _, body = self.request(method, path, **kwargs)
        return status, json.loads(body or b"null")

    def keyed(self, method: str, path: str, **kwargs) -> tuple[int, dict]:
        headers = {"x-api-key": self.api.api_key, **kwargs.pop("headers", {})}
        return self.json(method, path, headers=headers, **kwargs)


@pytest.fixture
def serve(aws_clients, monkeypatch):
    """Start `serve` for a config on a free port in a thread, as `infragen serve` does (handlers
    fork with the SDK models it shares); stopped after the test."""
    import boto3

    running = []
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # the shared one is dropped afterwards

    def start(config: Path, **options) -> Served:
        log, as_json = io.StringIO(), options.pop("json", False)
        api = LocalApi(config, None, aws_clients, console=Console(), **options)
        share_sdk_models(aws_clients, handler_services(api.loaded.cfg))
        server = ApiServer(("127.0.0.1", 0), api, RequestLog(stream=log, as_json=as_json))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        running.append(server)
        return Served(server, log)

    yield start
    for server in running:
        server.shutdown()
        server.server_close()


@pytest.fixture
def app(tmp_path):
    return copy_app(ROOT, tmp_path)


def test_example_app_routes_answer_with_a_full_proxy_event_behind_the_api_key(app, serve):
    served = serve(app)
    status, body = served.keyed("GET", "/hello")
    assert status == 200 and body["greeting"] == "Hello from infragen!" and body["environment"] == "dev"
    status, body = served.keyed("POST", "/data", body=json.dumps({"data": [" a ", 2]}),
                                headers={"Content-Type": "application/json"})
    assert status == 200 and body["items"] == ["a", 2]
    log = served.log.getvalue()
    assert re.search(r"^GET /hello 200 [\d.]+ ms hello [0-9a-f-]{36}$", log, re.M)
    assert re.search(r"^    \S+ INFO request completed", log, re.M)  # the handler's JSON lines, readable


def test_the_event_is_what_api_gateway_sends(tmp_path, serve):
    config = with_hello_handler(tmp_path,
        "import json\n"
        "def handler(event, context):\n"
        "    return {'statusCode': 200, 'body': json.dumps(event),\n"
        "            'multiValueHeaders': {'Set-Cookie': ['a=1', 'b=2']}, 'headers': {'X-One': 1}}\n")
    served = serve(config)
    status, headers, raw = served.request(
        "GET", "/hello?tag=a&tag=b&empty=", headers={"x-api-key": served.api.api_key, "X-Custom": "v"})
    event = json.loads(raw)
    assert status == 200 and headers["X-One"] == "1"
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "empty": [""]}
    assert event["queryStringParameters"] == {"tag": "b", "empty": ""}
    assert event["headers"]["X-Custom"] == "v" and event["multiValueHeaders"]["X-Custom"] == ["v"]
    port = served.server.server_address[1]  # what API Gateway adds to the request's headers
    assert (event["headers"]["X-Forwarded-For"], event["headers"]["X-Forwarded-Port"],
            event["headers"]["X-Forwarded-Proto"]) == ("127.0.0.1", str(port), "http")
    assert event["headers"]["X-Amzn-Trace-Id"] == headers["X-Amzn-Trace-Id"]
    _, _, raw = served.request("GET", "/hello?a=1;b=2&c=%3B", headers={
        "x-api-key": served.api.api_key, "X-Forwarded-For": "203.0.113.9"})
    split = json.loads(raw)
    assert split["queryStringParameters"] == {"a": "1", "b": "2", "c": ";"}  # a literal `;` splits
    assert split["headers"]["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    context = event["requestContext"]
    assert context["requestId"] == headers["x-amzn-RequestId"]
    assert (context["stage"], context["resourcePath"], context["path"]) == ("v1", "/hello", "/v1/hello")
    assert context["apiId"] and context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["apiKey"] == served.api.api_key
    assert event["isBase64Encoded"] is False and event["body"] is None


def test_api_key_missing_or_wrong_is_forbidden_before_the_handler_runs(app, serve):
    served = serve(app)
    assert served.json("GET", "/hello") == (403, {"message": "Forbidden"})
    assert served.json("GET", "/hello", headers={"x-api-key": "wrong"}) == (403, {"message": "Forbidden"})
    assert "GET /hello 403" in served.log.getvalue() and " hello " not in served.log.getvalue()


def test_undefined_path_and_method_answer_missing_authentication_token(app, serve):
    served = serve(app)
    missing = (403, {"message": "Missing Authentication Token"})
    assert served.keyed("GET", "/nope") == missing
    assert served.keyed("DELETE", "/hello") == missing  # the resource exists, the method does not
    for method in ("FOO", "get", "PROPFIND", "TRACE"):  # a method no API Gateway resource defines
        assert served.keyed(method, "/hello") == missing, method
    assert served.keyed("GET", "/hello//") == missing
    assert served.keyed("GET", "//hello") == missing  # an empty segment, leading ones too
    status, headers, _ = served.request("GET", "/nope")
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert served.keyed("GET", "/hello/")[0] == 200  # one trailing slash: the same resource
    status, headers, body = served.request("GET", "/" + "x" * 70_000)  # refused by the HTTP layer itself
    assert (status, headers["Content-Type"], json.loads(body)) == (
        414, "application/json", {"message": "Request-URI Too Long"})


def test_body_violating_the_model_is_400_before_the_handler(app, serve):
    served = serve(app)
    invalid = (400, {"message": "Invalid request body"})
    json_type = {"Content-Type": "application/json"}
    assert served.keyed("POST", "/data", body='{"items": []}', headers=json_type) == invalid
    assert served.keyed("POST", "/data", body='{"data": "no list"}', headers=json_type) == invalid
    assert served.keyed("POST", "/data", body="{not json", headers=json_type) == invalid
    assert "data_processor" not in served.log.getvalue()  # never reached the function


def test_oversized_body_is_413_unread(app, serve):
    served = serve(app)
    status, body = served.keyed("POST", "/data", body=b"x" * (10 * 1024 * 1024 + 1),
                                headers={"Content-Type": "application/json"})
    assert (status, body) == (413, {"message": "Request Too Long"})


def test_binary_body_reaches_the_handler_base64_encoded(tmp_path, serve):
    config = copy_app(ROOT, tmp_path)
    (tmp_path / "lambda_src" / "data_processor" / "handler.py").write_text(
        "import base64, hashlib\n"
        "def handler(event, context):\n"
        "    raw = base64.b64decode(event['body']) if event['isBase64Encoded'] else b''\n"
        "    return {'statusCode': 200, 'isBase64Encoded': True, 'body': base64.b64encode(raw[::-1]).decode(),\n"
        "            'headers': {'Content-Type': 'application/octet-stream'}}\n")
    served = serve(config)
    payload = bytes(range(256))
    sent = {"x-api-key": served.api.api_key, "Content-Type": "application/octet-stream"}
    status, headers, raw = served.request("POST", "/data", body=payload, headers=sent)
    # the stack declares no binary media types: API Gateway hands the client the base64 text
    assert (status, raw, headers["Content-Type"]) == (200, base64.b64encode(payload[::-1]), "application/octet-stream")
    loaded = served.api.loaded  # an API that declares one: decoded when the first Accept type is binary
    loaded.table = dataclasses.replace(loaded.table, binary_media_types=("application/octet-stream",))
    for accept, reply in (("application/octet-stream", payload[::-1]), ("*/*", base64.b64encode(payload[::-1])),
                          ("application/json, application/octet-stream", base64.b64encode(payload[::-1]))):
        assert served.request("POST", "/data", body=payload, headers={**sent, "Accept": accept})[2] == reply, accept


def test_handler_exception_and_malformed_response_are_502(tmp_path, serve):
    config = copy_app(ROOT, tmp_path)
    handler = tmp_path / "lambda_src" / "hello" / "handler.py"
    handler.write_text("def handler(event, context):\n    raise RuntimeError('boom')\n")
    served = serve(config)
    assert served.keyed("GET", "/hello") == (502, {"message": "Internal server error"})
    assert "RuntimeError: boom" in served.log.getvalue()
    for malformed in ("{'body': 'no status'}", "{'statusCode': 200, 'body': {'not': 'a string'}}", "'text'"):
        handler.write_text(f"def handler(event, context):\n    return {malformed}\n")
        assert served.keyed("GET", "/hello") == (502, {"message": "Internal server error"}), malformed
    assert "Malformed Lambda proxy response" in served.log.getvalue()


def test_responses_reach_the_client_as_api_gateway_maps_them(tmp_path, serve):
    config = copy_app(ROOT, tmp_path)
    handler = tmp_path / "lambda_src" / "hello" / "handler.py"
    served = serve(config)
    cases = [  # (response the handler returns, what the client gets)
        ("{'statusCode': 200, 'headers': {'X-U': '€', 'Content-Length': '999', 'Transfer-Encoding': 'chunked'},"
         " 'body': 'ok'}", (200, "€", "999", "ok")),
        ("{'statusCode': 100, 'body': ''}", (502, None, None, None)),  # not a final status: no hung client
        ("{'statusCode': 200, 'headers': {'X-Inj': 'a\\r\\nSet-Cookie: evil=1'}, 'body': ''}", (502, None, None, None)),
        ("{'statusCode': 200, 'body': 'x' * (6 * 1024 * 1024 + 100)}", (502, None, None, None)),  # Lambda's 6 MB
    ]
    for response, (status, unicode_value, remapped_length, body) in cases:
        handler.write_text(f"def handler(event, context):\n    return {response}\n")
        got, headers, raw = served.request("GET", "/hello", headers={"x-api-key": served.api.api_key})
        assert got == status, response
        if status == 200:
            assert headers["X-U"].encode("latin-1").decode() == unicode_value  # sent as UTF-8
            assert headers["x-amzn-Remapped-Content-Length"] == remapped_length and raw == body.encode()
            assert headers["Content-Length"] == "2" and "Transfer-Encoding" not in headers
    assert "Function.ResponseSizeTooLarge" in served.log.getvalue()


def test_an_event_above_lambda_s_payload_limit_is_refused_before_the_handler(tmp_path, serve):
    config = copy_app(ROOT, tmp_path)
    served = serve(config)
    body = json.dumps({"data": ["x" * (6 * 1024 * 1024)]})  # under API Gateway's 10 MB, over Lambda's 6 MB
    status, body = served.keyed("POST", "/data", body=body, headers={"Content-Type": "application/json"})
    assert (status, body) == (413, {"message": "Request Too Long"})
    assert "RequestEntityTooLargeException" in served.log.getvalue()


def test_body_models_take_json_as_rfc_8259_has_it(app, serve):
    served = serve(app)
    for not_json in ('{"data": [NaN]}', '{"data": [Infinity]}', '{"data": [-Infinity]}'):
        assert served.keyed("POST", "/data", body=not_json, headers={"Content-Type": "application/json"}) == (
            400, {"message": "Invalid request body"}), not_json


def test_integration_timeout_is_504(tmp_path, serve):
    config = with_hello_handler(tmp_path,
        "import time\ndef handler(event, context):\n    time.sleep(30)\n")
    served = serve(config, integration_timeout_s=0.5)
    started = time.monotonic()
    assert served.keyed("GET", "/hello") == (504, {"message": "Endpoint request timed out"})
    assert time.monotonic() - started < 5


def test_hot_reload_of_code_config_and_a_syntax_error(tmp_path, serve):
    config = copy_app(ROOT, tmp_path)
    handler = tmp_path / "lambda_src" / "hello" / "handler.py"
    good = "def handler(event, context):\n    return {'statusCode': 200, 'body': '\"%s\"'}\n"
    handler.write_text(good % "one")
    served = serve(config)
    assert served.keyed("GET", "/hello") == (200, "one")
    handler.write_text(good % "two")
    assert served.keyed("GET", "/hello") == (200, "two")
    handler.write_text("def handler(event, context)\n    return 1\n")
    assert served.keyed("GET", "/hello") == (502, {"message": "Internal server error"})
    assert "SyntaxError" in served.log.getvalue()
    handler.write_text(good % "three")
    assert served.keyed("GET", "/hello") == (200, "three")
    # infragen.toml: a new route and an opened one are served on the next request
    text = config.read_text().replace('routes = ["GET /hello"]', 'routes = ["GET /hello", "GET /hi/{name}"]')
    config.write_text(text.replace("open_routes = []", 'open_routes = ["GET /hi/{name}"]'))
    assert served.json("GET", "/hi/you") == (200, "three")


def test_json_request_log(app, serve):
    served = serve(app, json=True)
    served.keyed("GET", "/hello")
    record = json.loads(served.log.getvalue().splitlines()[0])
    assert {k: record[k] for k in ("method", "path", "status", "function")} == {
        "method": "GET", "path": "/hello", "status": 200, "function": "hello"}
    assert record["latencyMs"] > 0 and any(isinstance(line, dict) and line.get("level") == "INFO"
                                           for line in record["logs"])


# -- AWS_IAM ------------------------------------------------------------------------------------

def signed(url: str, method: str = "GET", body: bytes = b"", *, key: str = "testing", secret: str = "testing",
           region: str = "us-west-2") -> dict:
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret), "execute-api", region).add_auth(request)
    return dict(request.headers.items())


def test_iam_routes_need_a_sigv4_signature_of_the_target_credentials(tmp_path, serve):
    config = copy_app(ROOT, tmp_path)
    config.write_text(config.read_text().replace('api_auth = "api_key"', 'api_auth = "iam"'))
    served = serve(config)
    url = served.url + "/hello?x=1"
    assert served.json("GET", "/hello") == (403, {"message": "Missing Authentication Token"})
    status, body = served.json("GET", "/hello?x=1", headers=signed(url))
    assert status == 200 and body["greeting"]
    mismatch = served.json("GET", "/hello?x=2", headers=signed(url))  # signed for another query
    assert mismatch[0] == 403 and mismatch[1]["message"].startswith(
        "The request signature we calculated does not match")
    assert served.json("GET", "/hello?x=1", headers=signed(url, secret="other")) == mismatch
    assert served.json("GET", "/hello?x=1", headers=signed(url, key="AKIDOTHER")) == (
        403, {"message": "The security token included in the request is invalid."})
    status, body = served.json("GET", "/hello?x=1", headers=signed(url, region="eu-west-1"))
    assert status == 403 and "region" in body["message"]
    data = b'{"data": [1]}'
    status, body = served.json("POST", "/data", body=data, headers=signed(served.url + "/data", "POST", data))
    assert status == 200 and body["items"] == [1]
    (tmp_path / "lambda_src" / "hello" / "handler.py").write_text(
        "import json\ndef handler(event, context):\n"
        "    return {'statusCode': 200, 'body': json.dumps([n.lower() for n in event['headers']])}\n")
    status, names = served.json("GET", "/hello?x=1", headers=signed(url))
    assert status == 200 and "x-amz-date" in names and "authorization" not in names  # a SigV4 one is dropped


# -- the app-model test app, deployed -------------------------------------------------------------

def test_shop_routes_with_path_parameters_open_routes_and_its_model(tmp_path, moto_endpoint, serve):
    config = copy_app(SHOP, tmp_path, drop=("reports",))
    deployed = CliRunner().invoke(cli, ["deploy", "--config", str(config), "--endpoint-url", moto_endpoint, "--yes"])
    assert deployed.exit_code == 0, deployed.output
    served = serve(config)
    assert served.json("GET", "/orders") == (200, {"orders": []})  # open route: no key needed
    assert served.json("POST", "/orders", body='{"item": "tea", "quantity": 2}') == (403, {"message": "Forbidden"})
    assert served.keyed("POST", "/orders", body='{"item": "tea", "quantity": 0}',
                        headers={"Content-Type": "application/json"}) == (400, {"message": "Invalid request body"})
    status, order = served.keyed("POST", "/orders", body='{"item": "tea", "quantity": 2}',
                                 headers={"Content-Type": "application/json"})
    assert status == 201 and order["item"] == "tea"
    status, other = served.keyed("POST", "/orders", body='{"item": "cup", "quantity": 1, "customer": "ann"}',
                                 headers={"Content-Type": "application/json"})
    assert status == 201
    assert served.json("GET", "/orders?customer=ann") == (200, {"orders": [other]})  # the by_customer index
    assert served.json("GET", "/orders?customer=bob") == (200, {"orders": []})
    assert served.keyed("DELETE", f"/orders/{other['id']}") == (204, None)
    assert served.keyed("GET", f"/orders/{order['id']}") == (200, order)  # quantity read back as a number
    assert served.keyed("GET", f"/orders/{order['id']}/items") == (200, {"id": order["id"], "items": ["tea"]})
    assert served.keyed("PUT", f"/orders/{order['id']}/items", body='["cup"]') == (
        202, {"id": order["id"], "items": ["cup"]})
    assert served.keyed("DELETE", f"/orders/{order['id']}") == (204, None)  # HTTP: no body
    assert served.keyed("GET", f"/orders/{order['id']}") == (404, {"message": "no such order"})
    assert served.json("GET", "/orders") == (200, {"orders": []})
    assert served.keyed("PATCH", "/orders/1") == (403, {"message": "Missing Authentication Token"})
    assert served.keyed("GET", "/reports/x") == (403, {"message": "Missing Authentication Token"})


def test_a_secret_set_with_the_cli_is_read_by_the_served_handler(app, moto_endpoint, serve):
    target = ["--config", str(app), "--endpoint-url", moto_endpoint]
    assert CliRunner().invoke(cli, ["deploy", *target, "--yes"]).exit_code == 0
    stored = CliRunner().invoke(cli, ["secrets", "set", "hello", "greeting", "--env", "dev", *target],
                                input="Hej världen")
    assert stored.exit_code == 0, stored.output
    served = serve(app)
    status, body = served.keyed("GET", "/hello")
    assert (status, body["greeting"], body["greetingConfigured"]) == (200, "Hej världen", True)
    assert "Hej" not in served.log.getvalue()


def test_handlers_get_parsed_sdk_models_but_resolve_their_own_credentials(tmp_path, serve, monkeypatch):
    import boto3

    config = with_hello_handler(tmp_path,
        "import boto3\n\n"
        "def handler(event, context):\n"
        "    boto3.client('ssm')\n"
        "    return {'statusCode': 200, 'body': boto3.DEFAULT_SESSION.get_credentials().access_key}\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "the-shell-s-key")  # the server's own; not the handler's
    served = serve(config)
    loader = served.api.clients.session._session.get_component("data_loader")
    assert boto3.DEFAULT_SESSION._session.get_component("data_loader") is loader
    status, _, body = served.request("GET", "/hello", headers={"x-api-key": served.api.api_key})
    assert (status, body) == (200, b"testing")  # the target's credentials, from the handler's environment


def test_the_services_warmed_for_handlers_are_those_their_roles_grant():
    assert handler_services(load_config(ROOT / "infragen.toml").env("dev")) == ["sns", "ssm"]
    assert handler_services(load_config(SHOP / "infragen.toml").env("dev")) == ["dynamodb", "s3", "sns"]


def test_the_deployed_api_key_is_read_from_the_target(aws_clients):
    created = aws_clients.apigateway.create_api_key(name="infragen-dev-default", enabled=True)
    assert deployed_api_key(aws_clients, {"ApiKey": created["id"]}.get, Console()) == created["value"]
    assert deployed_api_key(aws_clients, {}.get, Console()) is None  # not deployed: a local key


def test_an_unhandled_error_reaches_the_error_topic_on_the_target(app, moto_endpoint, aws_clients, serve):
    target = ["--config", str(app), "--endpoint-url", moto_endpoint]
    assert CliRunner().invoke(cli, ["deploy", *target, "--yes"]).exit_code == 0
    topic = next(r["PhysicalResourceId"] for r in aws_clients.cloudformation.list_stack_resources(
        StackName="infragen-dev")["StackResourceSummaries"] if r["LogicalResourceId"] == "ErrorTopic")
    sqs = aws_clients.session.client("sqs", endpoint_url=moto_endpoint)
    queue = sqs.create_queue(QueueName="errors")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws_clients.session.client("sns", endpoint_url=moto_endpoint).subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    handler = app.parent / "lambda_src" / "hello" / "handler.py"
    handler.write_text(handler.read_text().replace('    greeting = parameters', '    1 / 0\n    greeting = parameters'))
    served = serve(app)
    status, body = served.keyed("GET", "/hello")
    assert status == 500 and body["error"]  # the shared runtime answers 500 itself…
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    assert "ZeroDivisionError" in messages[0]["Body"]  # … and alerts the error topic
    handler.write_text("def handler(event, context):\n    raise ValueError('escaped')\n")
    for _ in range(3):  # the Errors alarm moves to ALARM once: one notification, as CloudWatch sends
        assert served.keyed("GET", "/hello") == (502, {"message": "Internal server error"})
    envelope = json.loads(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"][0]["Body"])
    alarm = json.loads(envelope["Message"])
    assert envelope["Subject"] == 'ALARM: "infragen-dev-hello-errors" in US West (Oregon)'
    assert (alarm["AlarmName"], alarm["NewStateValue"], alarm["OldStateValue"]) == (
        "infragen-dev-hello-errors", "ALARM", "OK")
    assert alarm["Trigger"]["Dimensions"] == [{"value": "infragen-dev-hello", "name": "FunctionName"}]
    assert alarm["AlarmActions"] == [topic] and alarm["AlarmArn"].endswith(":alarm:infragen-dev-hello-errors")
    assert "notification published to " + topic in served.log.getvalue()
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])  # Ctrl-C, or a process manager's stop
def test_the_serve_command_starts_answers_and_stops_on_ctrl_c(app, moto_endpoint, stop):
    import os
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "infragen", "serve", "--config", str(app), "--endpoint-url", moto_endpoint,
         "--port", "0", "--output", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        banner = [process.stderr.readline() for _ in range(4)]
        url = re.search(r"at (http://127\.0\.0\.1:\d+)", banner[0]).group(1)
        key = re.search(r"x-api-key: (\S+)", "".join(banner)).group(1)
        reply = _DIRECT.open(urllib.request.Request(url + "/hello", headers={"x-api-key": key}), timeout=30)
        assert reply.status == 200 and json.loads(reply.read())["greeting"]
        assert json.loads(process.stdout.readline())["status"] == 200
        workers = [int(pid) for task in Path(f"/proc/{process.pid}/task").iterdir()
                   for pid in (task / "children").read_text().split()]
        assert workers and all(_alive(pid) for pid in workers)  # the hello function's warm worker
    finally:
        process.send_signal(getattr(signal, stop))
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 130 and "Traceback" not in stderr
    assert not any(_alive(pid) for pid in workers)  # stopped with the server


def test_a_broken_config_answers_502_until_fixed_and_a_schema_edit_applies(tmp_path, serve):
    config = copy_app(ROOT, tmp_path)
    served = serve(config)
    json_type = {"Content-Type": "application/json"}
    assert served.keyed("POST", "/data", body='{"data": "x"}', headers=json_type)[0] == 400
    schema = tmp_path / "lambda_src" / "data_processor" / "request.schema.json"
    schema.write_text(schema.read_text().replace('"type": "array"', '"type": ["array", "string"]'))
    assert served.keyed("POST", "/data", body='{"data": "x"}', headers=json_type)[0] == 400  # the handler's own 400
    assert re.search(r"^POST /data 400 [\d.]+ ms data_processor ", served.log.getvalue(), re.M)  # reached it
    good = config.read_text()
    config.write_text(good.replace("[functions.hello]", "[functions.hello"))
    assert served.keyed("GET", "/hello") == (502, {"message": "Internal server error"})
    assert "infragen.toml" in served.log.getvalue()
    config.write_text(good)
    assert served.keyed("GET", "/hello")[0] == 200


def test_chunked_bodies_and_encoded_path_parameters(tmp_path, serve):
    import http.client

    config = copy_app(ROOT, tmp_path)
    config.write_text(config.read_text().replace('routes = ["GET /hello"]', 'routes = ["GET /hello/{name}"]')
                      .replace('open_routes = []', 'open_routes = ["GET /hello/{name}", "POST /data"]'))
    (tmp_path / "lambda_src" / "hello" / "handler.py").write_text(
        "import json\ndef handler(event, context):\n"
        "    return {'statusCode': 200, 'body': json.dumps([event['path'], event['pathParameters']])}\n")
    served = serve(config)
    assert served.json("GET", "/hello/a%20b") == (200, ["/hello/a b", {"name": "a b"}])
    connection = http.client.HTTPConnection(served.url.removeprefix("http://"), timeout=30)
    connection.request("POST", "/data", body=iter([b'{"data": ', b'[1, 2]}']),
                       headers={"Content-Type": "application/json"}, encode_chunked=True)
    reply = connection.getresponse()
    assert (reply.status, json.loads(reply.read())["items"]) == (200, [1, 2])
    connection.request("POST", "/data", body=iter([b"x" * (6 << 20)] * 2), encode_chunked=True)
    reply = connection.getresponse()
    assert (reply.status, json.loads(reply.read())) == (413, {"message": "Request Too Long"})


# -- warm workers (a Lambda execution environment per worker) -----------------------------------

def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_parameter_cache_stays_warm_across_requests(app, serve):
    served = serve(app)  # the greeting parameter does not exist: each SSM fetch logs a warning
    for _ in range(3):
        status, body = served.keyed("GET", "/hello")
        assert status == 200 and body["greetingConfigured"] is False
    log = served.log.getvalue()
    assert len(re.findall(r"^GET /hello 200 ", log, re.M)) == 3
    assert log.count("SSM parameter not found") == 1  # one SSM call; the next two answered from the cache


def test_an_edit_is_served_on_the_very_next_request(tmp_path, serve, monkeypatch):
    import sys

    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as on a developer's machine: .pyc files written
    config = copy_app(ROOT, tmp_path)
    handler = tmp_path / "lambda_src" / "hello" / "handler.py"
    source = "import os\ndef handler(event, context):\n    return {'statusCode': 200, 'body': '\"%s\"'}\n"
    served = serve(config)
    for value in ("v0", "v1", "v2", "v3", "v4", "v5"):  # same size, rewritten right after an answer
        handler.write_text(source % value)
        assert served.keyed("GET", "/hello") == (200, value)
    (tmp_path / "lambda_src" / "common" / "extra.py").write_text("VALUE = 'shared'\n")  # a shared package
    handler.write_text("from common.extra import VALUE\n"
                       "def handler(event, context):\n    return {'statusCode': 200, 'body': '\"%s\"' % VALUE}\n")
    assert served.keyed("GET", "/hello") == (200, "shared")
    (tmp_path / "lambda_src" / "common" / "extra.py").write_text("VALUE = 'edited'\n")
    assert served.keyed("GET", "/hello") == (200, "edited")


PID_HANDLER = (
    "import json, os, time\n"
    "def handler(event, context):\n"
    "    query = event['queryStringParameters'] or {}\n"
    "    if 'exit' in query:\n        os._exit(3)\n"
    "    time.sleep(float(query.get('sleep', 0)))\n"
    "    print(json.dumps({'level': 'INFO', 'message': 'pid %d' % os.getpid()}))\n"
    "    return {'statusCode': 200, 'body': json.dumps(os.getpid())}\n")


def test_a_timeout_or_a_dead_worker_is_replaced_and_the_next_request_works(tmp_path, serve):
    config = with_hello_handler(tmp_path, PID_HANDLER)
    served = serve(config, integration_timeout_s=1.0)
    status, first = served.keyed("GET", "/hello")
    assert status == 200 and served.keyed("GET", "/hello") == (200, first)  # the same warm worker
    assert served.keyed("GET", "/hello?sleep=5") == (504, {"message": "Endpoint request timed out"})
    assert not _alive(first)  # killed with its process group
    status, second = served.keyed("GET", "/hello")
    assert status == 200 and second != first
    assert served.keyed("GET", "/hello?exit=1") == (502, {"message": "Internal server error"})
    assert "Runtime.ExitError" in served.log.getvalue()
    status, third = served.keyed("GET", "/hello")
    assert status == 200 and third not in (first, second)
    assert f"pid {third}" in served.log.getvalue().rsplit("GET /hello 200", 1)[1]  # its logs, per invocation


def test_concurrent_requests_to_one_function_run_on_separate_workers(tmp_path, serve):
    config = with_hello_handler(tmp_path, (
        "import json, os, time\n"
        "def handler(event, context):\n"
        "    began = time.time()\n"
        "    time.sleep(1)\n"
        "    print(json.dumps({'level': 'INFO', 'message': 'pid %d' % os.getpid()}))\n"
        "    return {'statusCode': 200, 'body': json.dumps([os.getpid(), began, time.time()])}\n"))
    served = serve(config)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(served.keyed("GET", "/hello")))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200, 200]
    (pid_a, began_a, ended_a), (pid_b, began_b, ended_b) = (body for _, body in answers)
    assert pid_a != pid_b and max(began_a, began_b) < min(ended_a, ended_b)  # side by side, however slow
    log = served.log.getvalue()
    for pid in (pid_a, pid_b):  # each request's log holds its own handler line
        assert re.search(rf"^GET /hello 200 [^\n]*\n    INFO pid {pid}$", log, re.M)


def test_waiting_for_a_free_worker_does_not_count_against_the_integration_timeout(tmp_path, serve):
    from infragen.serve.workers import WorkerPool

    config = with_hello_handler(tmp_path, PID_HANDLER)
    served = serve(config, integration_timeout_s=1.5)
    served.api.workers = WorkerPool(max_per_function=1)  # every request queues behind the one before
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(served.keyed("GET", "/hello?sleep=0.6")[0]))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 4  # the last waited ~1.8 s (over 1.5 s), then ran 0.6 s of its 1.5 s
    served.api.workers.close()


def test_a_client_that_leaves_before_its_answer_costs_no_traceback(tmp_path, serve, capfd):
    import socket

    config = with_hello_handler(tmp_path, PID_HANDLER)
    served = serve(config)
    host, port = served.server.server_address[:2]
    for _ in range(3):
        with socket.create_connection((host, port)) as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            client.sendall(f"GET /hello?sleep=0.3 HTTP/1.1\r\nHost: x\r\nx-api-key: {served.api.api_key}\r\n\r\n".encode())
        # closed with a reset while the handler runs: the answer has nowhere to go
    time.sleep(1.5)
    assert served.keyed("GET", "/hello")[0] == 200
    assert "Traceback" not in capfd.readouterr().err


def test_a_port_in_use_is_a_usage_error(app, moto_endpoint):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--config", str(app), "--endpoint-url", moto_endpoint,
                                          "--port", str(port)])
    assert result.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_ipv6_loopback_is_served(app, serve, aws_clients):
    import socket

    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    api = LocalApi(app, None, aws_clients, console=Console())
    try:
        server = ApiServer(("::1", 0), api, RequestLog(stream=io.StringIO()))
    except OSError:
        api.close()
        pytest.skip("no IPv6 loopback here")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert server.url.startswith("http://[::1]:")
        reply = _DIRECT.open(urllib.request.Request(server.url + "/hello", headers={"x-api-key": api.api_key}),
                             timeout=30)
        assert reply.status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_handler_log_lines_of_any_shape_keep_the_answer_and_json_output_stays_json(tmp_path, serve):
    config = with_hello_handler(tmp_path,
        "import json\ndef handler(event, context):\n"
        "    print(json.dumps({'level': {'n': 1}, 'message': 'm', 'exception': ['a', 'b'], 'ratio': float('nan')}))\n"
        "    print('\\x1b[31mred')\n"
        "    return {'statusCode': 200, 'body': 'ok'}\n")
    text = serve(config)
    assert text.request("GET", "/hello", headers={"x-api-key": text.api.api_key})[0] == 200
    assert '{"n": 1} m  ratio=NaN' in text.log.getvalue() and "\\x1b[31mred" in text.log.getvalue()
    as_json = serve(config, json=True)
    assert as_json.request("GET", "/hello", headers={"x-api-key": as_json.api.api_key})[0] == 200
    record = json.loads(as_json.log.getvalue().splitlines()[-1], parse_constant=pytest.fail)
    assert record["logs"][0]["ratio"] == "NaN"


def test_a_function_removed_from_the_config_takes_its_workers_with_it(tmp_path, serve):
    config = with_hello_handler(tmp_path, PID_HANDLER)
    served = serve(config)
    _, pid = served.keyed("GET", "/hello")
    assert _alive(pid)
    text = config.read_text()
    for table in (r"functions\.hello", r"env\.prod\.functions\.hello"):
        text = re.sub(rf"\[{table}\]\n(?:[^\[\n].*\n|\n)*", "", text)
    config.write_text(text)
    assert served.keyed("GET", "/hello")[0] == 403
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_a_request_line_split_by_tabs_is_answered(app, serve):
    import socket

    served = serve(app)
    with socket.create_connection(served.server.server_address[:2]) as client:
        client.sendall(f"GET\t/hello\tHTTP/1.1\r\nHost: x\r\nx-api-key: {served.api.api_key}\r\n"
                       "Connection: close\r\n\r\n".encode())
        reply = b""
        while chunk := client.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200 ")


def test_what_clients_send_and_handlers_raise_reaches_the_log_escaped(tmp_path, serve):
    import socket

    config = with_hello_handler(tmp_path,
        "def handler(event, context):\n    raise ValueError('\\x1b]0;pwned\\x07\\x1b[2J')\n")
    for as_json in (False, True):
        served = serve(config, json=as_json)
        assert served.keyed("GET", "/hello")[0] == 502
        with socket.create_connection(served.server.server_address[:2]) as client:
            client.sendall(b"G\x1b[31mET /\x1b]0;t\x07x\x9b2J HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            while client.recv(65536):
                pass
        log = served.log.getvalue()
        assert not any(c in log for c in "\x1b\x07\x9b"), log
        assert ("\\x1b]0;pwned" in log) if not as_json else ("\\u001b]0;pwned" in log)


def test_a_fault_in_serve_itself_is_a_502_and_a_traceback_in_the_log(app, serve):
    served = serve(app)
    served.api.handle = lambda *args, **kwargs: 1 / 0
    assert served.keyed("GET", "/hello") == (502, {"message": "Internal server error"})
    assert "ZeroDivisionError" in served.log.getvalue()


def test_no_worker_outlives_the_server(tmp_path, aws_clients):
    config = copy_app(ROOT, tmp_path)
    api = LocalApi(config, None, aws_clients, console=Console())
    server = ApiServer(("127.0.0.1", 0), api, RequestLog(stream=io.StringIO()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    served = Served(server, io.StringIO())
    assert served.keyed("GET", "/hello")[0] == 200 and served.keyed("POST", "/data", body='{"data": [1]}')[0] == 200
    pids = api.workers.pids()
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    server.shutdown()
    server.server_close()
    assert not any(_alive(pid) for pid in pids)


def test_the_code_fingerprint_sees_a_same_stat_rewrite_and_is_stable_after_it(tmp_path, monkeypatch):
    import os

    from infragen.serve import workers
    from infragen.serve.workers import code_fingerprint

    module = tmp_path / "a.py"
    module.write_text("x = 1\n")
    stat = module.stat()
    first = code_fingerprint([tmp_path])
    assert code_fingerprint([tmp_path]) == first
    module.write_text("x = 2\n")  # same size; the same mtime as within one timestamp tick
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = code_fingerprint([tmp_path])
    assert second != first
    monkeypatch.setattr(workers, "RACY_S", 0)  # later: no longer racy, the digest must not move
    assert code_fingerprint([tmp_path]) == second
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"x")
    assert code_fingerprint([tmp_path]) == second
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "b.py").write_text("")
    assert code_fingerprint([tmp_path]) != second
    assert code_fingerprint([tmp_path], extra=("env", "A=1")) != code_fingerprint([tmp_path], extra=("env", "A=2"))


def test_a_deleted_handler_module_is_502_until_it_is_back(app, serve):
    served = serve(app)
    handler = app.parent / "lambda_src" / "hello" / "handler.py"
    source = handler.read_text()
    assert served.keyed("GET", "/hello")[0] == 200
    handler.unlink()
    assert served.keyed("GET", "/hello") == (502, {"message": "Internal server error"})
    assert "no handler module 'handler'" in served.log.getvalue()
    handler.write_text(source)
    assert served.keyed("GET", "/hello")[0] == 200


def test_requirements_added_or_changed_while_serving_are_installed_for_the_next_request(
        tmp_path, serve, monkeypatch):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for version in ("1.0", "1.1"):
        write_wheel(wheels, "tinyfmt", version, files={"tinyfmt/__init__.py": f"VERSION = {version!r}\n"})
    for name in [n for n in os.environ if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    project = tmp_path / "app"
    project.mkdir()
    config = copy_app(ROOT, project)
    function = project / "lambda_src" / "hello"
    (function / "handler.py").write_text(
        "def handler(event, context):\n"
        "    import tinyfmt\n"
        "    return {'statusCode': 200, 'body': tinyfmt.VERSION}\n")
    served = serve(config)
    assert served.keyed("GET", "/hello")[0] == 502  # ModuleNotFoundError: not installed yet
    pinned = project / "pins.txt"  # outside the function's folder, included by its requirements.txt
    pinned.write_text("tinyfmt==1.0\n")
    (function / "requirements.txt").write_text("-r ../../pins.txt\n")
    assert served.request("GET", "/hello", headers={"x-api-key": served.api.api_key})[::2] == (200, b"1.0")
    pinned.write_text("tinyfmt==1.1\n")
    assert served.request("GET", "/hello", headers={"x-api-key": served.api.api_key})[::2] == (200, b"1.1")


def test_stop_signals_end_serving_once_and_their_handlers_come_back():
    import os
    import signal

    from infragen.serve.server import STOP_SIGNALS, stopped_by_signals

    before = {stop: signal.getsignal(stop) for stop in STOP_SIGNALS}
    with pytest.raises(KeyboardInterrupt):
        with stopped_by_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # interrupted at once
    with stopped_by_signals():
        try:
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(5)
        except KeyboardInterrupt:
            os.kill(os.getpid(), signal.SIGTERM)  # during the cleanup: ignored
            time.sleep(0.05)
    assert {stop: signal.getsignal(stop) for stop in STOP_SIGNALS} == before
