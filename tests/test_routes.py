"""Routes as written in infragen.toml: parsed into method and path parts, or refused."""

import pytest

from infragen.routes import METHODS, Route, parse_route, sibling_parameter_conflict


@pytest.mark.parametrize("method", METHODS)
def test_every_api_gateway_method_parses(method):
    route = parse_route(f"{method} /orders")
    assert route == Route(method, "/orders") and route.key == f"{method} /orders"


@pytest.mark.parametrize("text", [
    "GET /orders/", "GET //orders", "get /orders", "Get /orders", "GET /orders/{}", "GET /{id",
    "GET /{id}x", "GET /{proxy+}", "GET /{1d}", "GET orders", "GET  /orders", " GET /orders",
    "GET /orders ", "GET\t/orders", "GET /a?b=1", "GET /a#b", "GET /ä", "CONNECT /x", "GET",
    "/orders", "", "GET /a/{id}/b/{id}", None, 5,
])
def test_malformed_routes_are_none(text):
    assert parse_route(text) is None


def test_root_parameters_and_source_arn():
    root = parse_route("GET /")
    assert root.parts == () and root.source_arn_path == "GET/"
    route = parse_route("DELETE /orders/{id}/items/{item_id}")
    assert route.parts == ("orders", "{id}", "items", "{item_id}")
    assert route.path_parameters == ("id", "item_id")
    assert route.source_arn_path == "DELETE/orders/*/items/*"
    assert parse_route("ANY /a.b/c-d_e").source_arn_path == "*/a.b/c-d_e"


def test_only_body_methods_carry_a_body():
    assert [m for m in METHODS if parse_route(f"{m} /x").carries_body] == ["POST", "PUT", "PATCH"]


def test_sibling_parameters_with_different_names_conflict():
    routes = [parse_route(r) for r in ("GET /orders/{id}", "GET /orders/{orderId}/items", "GET /orders")]
    assert sibling_parameter_conflict(routes) == ("/orders", "{id}", routes[1], "{orderId}")
    root = [parse_route("GET /{a}"), parse_route("PUT /{b}")]
    assert sibling_parameter_conflict(root) == ("/", "{a}", root[1], "{b}")


def test_same_parameter_name_and_literal_siblings_do_not_conflict():
    routes = [parse_route(r) for r in ("GET /orders/{id}", "PUT /orders/{id}/items/{item}",
                                       "GET /orders/new", "GET /users/{name}", "GET /users/{name}/orders/{id}")]
    assert sibling_parameter_conflict(routes) is None
