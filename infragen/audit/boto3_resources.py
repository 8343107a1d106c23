"""boto3 resources in the scan: the service resource, sub-resources (`Table(name)`), actions,
collections, waiters and the S3 transfer helpers, read from boto3's own resource models."""

from __future__ import annotations

import ast
import functools

from botocore import xform_name

from infragen.audit.values import UNKNOWN, Bound, Builtin, Client, Collection, Lit, Resource

EMPTY: frozenset = frozenset()

# S3 transfer helpers boto3 adds to clients and resources: positional parameter names.
TRANSFER_ARGS = {
    ("client", "upload_file"): ("Filename", "Bucket", "Key"),
    ("client", "download_file"): ("Bucket", "Key", "Filename"),
    ("client", "upload_fileobj"): ("Fileobj", "Bucket", "Key"),
    ("client", "download_fileobj"): ("Bucket", "Key", "Fileobj"),
    ("client", "copy"): ("CopySource", "Bucket", "Key"),
    ("Bucket", "upload_file"): ("Filename", "Key"),
    ("Bucket", "download_file"): ("Key", "Filename"),
    ("Bucket", "upload_fileobj"): ("Fileobj", "Key"),
    ("Bucket", "download_fileobj"): ("Key", "Fileobj"),
    ("Bucket", "copy"): ("CopySource", "Key"),
    ("Object", "upload_file"): ("Filename",),
    ("Object", "download_file"): ("Filename",),
    ("Object", "upload_fileobj"): ("Fileobj",),
    ("Object", "download_fileobj"): ("Fileobj",),
    ("Object", "copy"): ("CopySource",),
}
# Resource identifiers that name the S3 bucket and key of a transfer.
_TRANSFER_IDS = {"Name": "Bucket", "BucketName": "Bucket", "Key": "Key"}
COLLECTION_LISTING = frozenset({"all", "filter", "limit", "page_size", "pages"})


@functools.cache
def resource_model(service: str) -> dict | None:
    """boto3's resource model of `service` (None when boto3 has no resources for it)."""
    import boto3  # only for code that uses resources: boto3's import is a tenth of a second

    loader = boto3.session.Session()._loader
    try:
        return loader.load_service_model(service, "resources-1")
    except Exception:  # botocore's UnknownServiceError/DataNotFoundError: no resource model
        return None


def _resource_spec(resource: Resource) -> dict:
    model = resource_model(resource.service) or {}
    return model.get("service", {}) if resource.kind == "service" else model.get("resources", {}).get(resource.kind, {})


class ResourceCalls:
    """What the scan's Frame does with resource values (it provides `_record`)."""

    def _resource_attribute(self, resource: Resource, name: str) -> frozenset:
        spec = _resource_spec(resource)
        for identifier in spec.get("identifiers", []):
            if xform_name(identifier["name"]) == name:
                return resource.id_values(identifier["name"])
        if name == "meta":
            return frozenset({Builtin(f"meta:{resource.service}")})
        if name in spec.get("hasMany", {}) or any(xform_name(k) == name for k in spec.get("hasMany", {})):
            key = next(k for k in spec["hasMany"] if k == name or xform_name(k) == name)
            return frozenset({Collection(resource, key)})
        return frozenset({Bound(resource, name)})


    def _resource_call(self, resource: Resource, name: str, positional: list, keywords: dict,
                       node: ast.Call) -> frozenset:
        spec = _resource_spec(resource)
        client = Client(Lit(resource.service))
        if name in spec.get("has", {}):
            return frozenset({self._sub_resource(resource, spec["has"][name]["resource"], positional)})
        if (resource.kind, name) in TRANSFER_ARGS:
            ids = {_TRANSFER_IDS[k]: v for k, v in resource.ids if k in _TRANSFER_IDS}
            given = dict(zip(TRANSFER_ARGS[(resource.kind, name)], positional))
            self._record(node, client.service, name, {**ids, **given, **keywords}, "transfer")
            return EMPTY
        actions = {**spec.get("actions", {}), **({"Load": spec["load"]} if "load" in spec else {})}
        for action, definition in actions.items():
            if xform_name(action) == name or (action == "Load" and name == "reload"):
                request = definition["request"]
                args = {**self._request_params(resource, request, keywords), **keywords}
                self._record(node, client.service, xform_name(request["operation"]), args, "resource")
                target = definition.get("resource")
                if target:
                    return frozenset({self._sub_resource(resource, target, positional)})
                return EMPTY
        for waiter, definition in spec.get("waiters", {}).items():
            if name == f"wait_until_{xform_name(waiter)}":
                args = {**self._request_params(resource, definition, keywords), **keywords}
                self._record(node, client.service, xform_name(definition["waiterName"]), args, "waiter")
        return EMPTY

    def _sub_resource(self, parent: Resource, target: dict, positional: list) -> Resource:
        inputs = iter(positional)
        ids = []
        for identifier in target.get("identifiers", []):
            source = identifier.get("source")
            if source == "input":
                values = next(inputs, EMPTY) or frozenset({UNKNOWN})
            elif source == "identifier":
                values = parent.id_values(identifier["name"])
            else:
                values = frozenset({UNKNOWN})
            ids.append((identifier["target"], values))
        return Resource(parent.service, target["type"], tuple(ids))

    @staticmethod
    def _request_params(resource: Resource, request: dict, keywords: dict) -> dict:
        params = {}
        for param in request.get("params", []):
            target = param["target"].split(".")[0].split("[")[0]
            if param.get("source") == "identifier":
                params[target] = resource.id_values(param["name"])
            elif param.get("source") == "string":
                params[target] = frozenset({Lit(param["value"])})
        return params

    def _list_collection(self, collection: Collection, node: ast.AST, keywords: dict) -> frozenset:
        spec = _resource_spec(collection.parent)["hasMany"][collection.name]
        args = {**self._request_params(collection.parent, spec["request"], keywords), **keywords}
        call = node if isinstance(node, ast.Call) else ast.Call(func=node, args=[], keywords=[], lineno=node.lineno)
        self._record(call, Lit(collection.parent.service), xform_name(spec["request"]["operation"]), args,
                     "collection")
        return frozenset({self._sub_resource(collection.parent, spec["resource"], [])}) if "resource" in spec else EMPTY

    def _collection_batch(self, collection: Collection, name: str, keywords: dict, node: ast.Call) -> None:
        spec = _resource_spec(collection.parent)["hasMany"][collection.name]
        item = resource_model(collection.parent.service)["resources"].get(spec.get("resource", {}).get("type"), {})
        for action, definition in item.get("batchActions", {}).items():
            if xform_name(action) == name:
                parent_ids = {_TRANSFER_IDS.get(k, k): v for k, v in collection.parent.ids}
                self._record(node, Lit(collection.parent.service), xform_name(definition["request"]["operation"]),
                             {**parent_ids, **keywords}, "collection")
