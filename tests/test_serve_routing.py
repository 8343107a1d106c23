"""Routes read from a rendered template and matched as API Gateway matches them; proxy responses."""

import json
from pathlib import Path

import pytest

from infragen.project import load_env
from infragen.render import stack_template
from infragen.serve.app import proxy_response
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
    ("GET", "/orders/", None), ("GET", "//orders", None), ("GET", "/", None), ("GET", "/orders/1/2", None),
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
    status, headers, body = proxy_response({"statusCode": 201, "headers": {"A": "1", "B": True},
                                            "multiValueHeaders": {"A": ["x", "y"]}, "body": "hi"})
    assert (status, body) == (201, b"hi")
    assert headers == [("A", "x"), ("A", "y"), ("B", "true"), ("Content-Type", "application/json")]
    assert proxy_response({"statusCode": 200, "body": "aGk=", "isBase64Encoded": True})[2] == b"hi"
    for malformed in (None, [], {"body": "x"}, {"statusCode": "OK"}, {"statusCode": 200, "body": {}},
                      {"statusCode": 200, "headers": []}, {"statusCode": 200, "multiValueHeaders": {"a": "b"}},
                      {"statusCode": 200, "body": "***", "isBase64Encoded": True}, {"statusCode": 99}):
        with pytest.raises(ValueError):
            proxy_response(malformed)
