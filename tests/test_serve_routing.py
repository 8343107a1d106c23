"""Routes read from a rendered template and matched as API Gateway matches them; proxy responses."""

import json
from pathlib import Path

import pytest

from infragen.project import load_env
from infragen.render import stack_template
from infragen.serve.responses import MalformedResponse, proxy_response
from infragen.serve.routing import is_binary, route_table

SHOP = Path(__file__).resolve().parent / "apps" / "shop" / "infragen.toml"


@pytest.fixture(scope="module")
def table():
    return route_table(json.loads(stack_template(load_env(SHOP, "dev"))))


def test_every_route_of_the_template_with_its_auth_and_model(table):
    rows = {(e.route.method, e.route.path): (e.function_logical_id, e.api_key_required, e.body_schema is not None)
            for e in table.endpoints}
    assert rows == {
        ("GET", "/orders"): ("OrdersFunction", False, False),  # open_routes
        ("POST", "/orders"): ("OrdersFunction", True, True),
        ("GET", "/orders/{id}"): ("OrdersFunction", True, False),
        ("DELETE", "/orders/{id}"): ("OrdersFunction", True, False),
        ("GET", "/orders/{id}/items"): ("OrderItemsFunction", True, False),
        ("PUT", "/orders/{id}/items"): ("OrderItemsFunction", True, False),  # another function's model
        ("ANY", "/reports/{name}"): ("ReportsFunction", True, False),
    }
    assert table.has_api_key and table.binary_media_types == ()


@pytest.mark.parametrize("method, path, expected", [
    ("GET", "/orders/42", ("/orders/{id}", {"id": "42"})),
    ("GET", "/orders/42/items", ("/orders/{id}/items", {"id": "42"})),
    ("PATCH", "/reports/q1", ("/reports/{name}", {"name": "q1"})),  # ANY
    ("PATCH", "/orders/42", None),  # a resource without the method
    ("GET", "/reports", None),  # a resource without methods
    ("GET", "/orders/", ("/orders", {})), ("GET", "/orders/42/", ("/orders/{id}", {"id": "42"})),  # one trailing slash
    ("GET", "/orders//", None), ("GET", "//orders", None), ("GET", "/orders//42", None),
    ("GET", "/", None), ("GET", "/orders/1/2", None), ("GET", "orders", None),
])
def test_matching(table, method, path, expected):
    found = table.match(method, path)
    assert (found and (found.endpoint.route.path, found.path_values)) == expected


def test_a_literal_resource_wins_over_a_path_parameter():
    template = {"Resources": {
        "A": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {}, "PathPart": "a"}},
        "Mine": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Ref": "A"}, "PathPart": "mine"}},
        "Id": {"Type": "AWS::ApiGateway::Resource", "Properties": {"ParentId": {"Ref": "A"}, "PathPart": "{id}"}},
        **{f"M{r}": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "ResourceId": {"Ref": r}, "HttpMethod": "GET",
            "Integration": {"Uri": {"Fn::Sub": f"arn:…/functions/${{{r}Function.Arn}}/invocations"}}}}
           for r in ("Mine", "Id")}}}
    table = route_table(template)
    assert table.match("GET", "/a/mine").endpoint.function_logical_id == "MineFunction"
    assert table.match("GET", "/a/other").path_values == {"id": "other"}


def test_binary_media_types():
    assert is_binary("image/png", ("image/*",)) and is_binary("application/pdf; x=1", ("application/pdf",))
    assert not is_binary("application/json", ("image/*",)) and not is_binary(None, ())


def test_proxy_responses_and_the_malformed_ones():
    status, headers, body = proxy_response({"statusCode": 201, "headers": {"A": "1", "B": True, "C": "x"},
                                            "multiValueHeaders": {"A": ["x", "y"], "C": ["x"]}, "body": "hi"},
                                           binary_reply=False)
    assert (status, body) == (201, b"hi")
    # merged into one list, a pair given in both once (proxy output format)
    assert headers == [("A", "x"), ("A", "y"), ("C", "x"), ("A", "1"), ("B", "true"),
                       ("Content-Type", "application/json")]
    for malformed in (None, [], {"body": "x"}, {"statusCode": "OK"}, {"statusCode": 200, "body": {}},
                      {"statusCode": 200, "headers": []}, {"statusCode": 200, "multiValueHeaders": {"a": "b"}},
                      {"statusCode": 200, "body": "***", "isBase64Encoded": True}, {"statusCode": 99},
                      {"statusCode": 100}, {"statusCode": 101}, {"statusCode": 600},
                      {"statusCode": 200, "headers": {"X": "a\r\nSet-Cookie: evil=1"}},
                      {"statusCode": 200, "headers": {"X": "a\nb"}}, {"statusCode": 200, "headers": {"Bad Name": "v"}},
                      {"statusCode": 200, "multiValueHeaders": {"X": ["ok", "a\x00b"]}}):
        with pytest.raises(MalformedResponse):
            proxy_response(malformed, binary_reply=True)


def test_a_base64_body_is_decoded_only_for_a_binary_reply():
    response = {"statusCode": 200, "body": "aGk=", "isBase64Encoded": True}
    assert proxy_response(response, binary_reply=True)[2] == b"hi"
    assert proxy_response(response, binary_reply=False)[2] == b"aGk="  # the client gets the base64 text
    assert proxy_response({**response, "body": "***"}, binary_reply=False)[2] == b"***"


def test_framing_and_gateway_owned_headers_are_remapped_and_null_values_dropped():
    _, headers, _ = proxy_response({"statusCode": 200, "body": "x", "headers": {
        "Content-Length": "999", "Transfer-Encoding": "chunked", "Connection": "close",
        "WWW-Authenticate": "Bearer", "X-Null": None, "X-Unicode": "€"}}, binary_reply=False)
    assert headers == [("x-amzn-Remapped-Content-Length", "999"), ("x-amzn-Remapped-Transfer-Encoding", "chunked"),
                       ("x-amzn-Remapped-Connection", "close"), ("x-amzn-Remapped-WWW-Authenticate", "Bearer"),
                       ("X-Unicode", "€"), ("Content-Type", "application/json")]
