"""The ast scan: every form of making and using a boto3 client the issue lists, including each
one Chalice's policy generation misses, found without importing or running the code."""

from __future__ import annotations

import textwrap
from pathlib import Path

from infragen.audit.run import merge
from infragen.audit.scan import Scan, module_files
from infragen.audit.values import UNKNOWN, Env, Fmt, Lit


def scan(tmp_path: Path, files: dict[str, str], entry: str = "handler"):
    """Write `files` (paths under the project; shared/… is the shared package), scan from `entry`."""
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    modules = module_files(tmp_path / "fn", [tmp_path / "shared"])
    found = Scan(modules, tmp_path)
    return merge(found.run(entry)), found


def methods(calls) -> set[tuple]:
    return {(c.service.text if isinstance(c.service, Lit) else c.service, c.method, c.via) for c in calls}


def test_direct_client_and_the_aliases_chalice_misses(tmp_path):
    calls, _ = scan(tmp_path, {"fn/handler.py": """
        import boto3
        import boto3 as b3
        from boto3 import client
        from boto3 import client as make
        def handler(event, context):
            boto3.client("sns").publish(TopicArn="t", Message="m")
            b3.client("sqs").send_message(QueueUrl="q", MessageBody="m")
            client("s3").get_object(Bucket="b", Key="k")
            make(service_name="lambda").invoke(FunctionName="f")
    """})
    assert methods(calls) == {("sns", "publish", "client"), ("sqs", "send_message", "client"),
                              ("s3", "get_object", "client"), ("lambda", "invoke", "client")}
    assert {(c.site.path, c.site.line) for c in calls} == {("fn/handler.py", n) for n in (7, 8, 9, 10)}


def test_sessions(tmp_path):
    calls, _ = scan(tmp_path, {"fn/handler.py": """
        import boto3
        import boto3.session
        from boto3.session import Session
        def handler(event, context):
            boto3.Session().client("ssm").get_parameter(Name="/a")
            boto3.session.Session().client("ssm").put_parameter(Name="/b", Value="v")
            Session(region_name="eu-west-1").resource("dynamodb").Table("t").get_item(Key={})
    """})
    assert methods(calls) == {("ssm", "get_parameter", "client"), ("ssm", "put_parameter", "client"),
                              ("dynamodb", "get_item", "resource")}


def test_client_from_a_factory_in_a_shared_package_two_imports_away(tmp_path):
    """Like lambda_src: the handler imports a helper, which imports the factory module."""
    calls, _ = scan(tmp_path, {
        "fn/handler.py": """
            from shared import secrets
            def handler(event, context):
                return secrets.read("SECRET_NAME")
        """,
        "shared/__init__.py": "",
        "shared/secrets.py": """
            import os
            from shared import aws
            def read(variable):
                name = os.environ.get(variable, "").strip()
                return aws.client("ssm").get_parameter(Name=name, WithDecryption=True)
        """,
        "shared/aws.py": """
            from __future__ import annotations
            from typing import Any
            _clients: dict[str, Any] = {}
            def client(service: str) -> Any:
                existing = _clients.get(service)
                if existing is not None:
                    return existing
                import boto3
                created = boto3.client(service)
                _clients[service] = created
                return created
        """,
    })
    call, = calls
    assert (call.service, call.method, call.site.path) == (Lit("ssm"), "get_parameter", "shared/secrets.py")
    assert call.arg("Name") == {Env("SECRET_NAME")}
    assert call.arg("WithDecryption") == {Lit("True")}


def test_future_annotations_and_module_level_annotated_assignment(tmp_path):
    """The module shape that makes Chalice crash with KeyError: 'dict'."""
    calls, found = scan(tmp_path, {"fn/handler.py": """
        from __future__ import annotations
        import boto3
        TABLE: str = "orders"
        _client: dict[str, object] = {"db": boto3.client("dynamodb")}
        db: "boto3.client" = boto3.client("dynamodb")
        def handler(event: dict, context: object) -> dict:
            return db.get_item(TableName=TABLE, Key={})
    """})
    assert methods(calls) == {("dynamodb", "get_item", "client")}
    assert calls[0].arg("TableName") == {Lit("orders")}
    assert found.problems == []


def test_clients_passed_as_arguments_and_stored_on_self(tmp_path):
    calls, _ = scan(tmp_path, {"fn/handler.py": """
        import boto3
        class Store:
            def __init__(self, s3):
                self.s3 = s3
                self.sns = boto3.client("sns")
            def save(self, key):
                self.s3.put_object(Bucket="bucket", Key=key, Body=b"")
                self.sns.publish(TopicArn="arn:aws:sns:us-west-2:1:t", Message=key)
        def send(queue_client, body):
            queue_client.send_message(QueueUrl="q", MessageBody=body)
        def handler(event, context):
            Store(boto3.client("s3")).save("k")
            send(boto3.client("sqs"), "hello")
    """})
    assert methods(calls) == {("s3", "put_object", "client"), ("sns", "publish", "client"),
                              ("sqs", "send_message", "client")}


def test_clients_in_class_bodies(tmp_path):
    calls, _ = scan(tmp_path, {"fn/handler.py": """
        import os
        import boto3
        class Repository:
            table = boto3.resource("dynamodb").Table(os.environ["ITEMS_TABLE"])
            queue: object = boto3.client("sqs")
            def get(self, key):
                return self.table.get_item(Key=key)
        def handler(event, context):
            Repository.queue.send_message(QueueUrl="q", MessageBody="m")
            return Repository().get({"id": "1"})
    """})
    assert methods(calls) == {("dynamodb", "get_item", "resource"), ("sqs", "send_message", "client")}


def test_resource_calls_collections_and_sub_resources(tmp_path):
    calls, _ = scan(tmp_path, {"fn/handler.py": """
        import os
        import boto3
        def handler(event, context):
            table = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
            table.query(KeyConditionExpression="id = :id", IndexName="by-date")
            bucket = boto3.resource("s3").Bucket("reports")
            for summary in bucket.objects.filter(Prefix="2024/"):
                summary.delete()
            bucket.Object("index.html").put(Body=b"")
            for t in boto3.resource("dynamodb").tables.all():
                pass
    """})
    assert methods(calls) == {("dynamodb", "query", "resource"), ("s3", "list_objects", "collection"),
                              ("s3", "delete_object", "resource"), ("s3", "put_object", "resource"),
                              ("dynamodb", "list_tables", "collection")}
    by_method = {c.method: c for c in calls}
    assert by_method["query"].arg("TableName") == {Env("ORDERS_TABLE")}
    assert by_method["query"].arg("IndexName") == {Lit("by-date")}
    assert by_method["put_object"].arg("Key") == {Lit("index.html")}
    assert by_method["list_objects"].arg("Bucket") == {Lit("reports")}
    assert by_method["delete_object"].arg("Bucket") == {Lit("reports")}


def test_paginators_waiters_and_transfer_helpers(tmp_path):
    calls, _ = scan(tmp_path, {"fn/handler.py": """
        import boto3
        s3 = boto3.client("s3")
        def handler(event, context):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket="b"):
                pass
            boto3.client("dynamodb").get_waiter("table_exists").wait(TableName="t")
            s3.upload_file("/tmp/x", "b", "up/x")
            s3.download_file("b", "down/x", "/tmp/x")
            s3.copy({"Bucket": "b", "Key": "a"}, "b", "copy/x")
            boto3.resource("s3").Bucket("b2").upload_file("/tmp/y", "y")
    """})
    assert methods(calls) == {("s3", "list_objects_v2", "paginator"), ("dynamodb", "table_exists", "waiter"),
                              ("s3", "upload_file", "transfer"), ("s3", "download_file", "transfer"),
                              ("s3", "copy", "transfer")}
    uploads = {c.arg("Key") for c in calls if c.method == "upload_file"}
    assert uploads == {frozenset({Lit("up/x")}), frozenset({Lit("y")})}
    assert {c.arg("Bucket") for c in calls if c.method == "upload_file"} == {frozenset({Lit("b")}),
                                                                             frozenset({Lit("b2")})}


def test_computed_names_stay_symbolic(tmp_path):
    calls, _ = scan(tmp_path, {"fn/handler.py": """
        import os
        import boto3
        def handler(event, context):
            bucket = f"reports-{os.environ['ENVIRONMENT']}"
            boto3.client("s3").get_object(Bucket=bucket, Key=event["key"])
            boto3.client("s3").head_object(Bucket="logs-" + os.getenv("ENVIRONMENT"), Key="k")
    """})
    by_method = {c.method: c for c in calls}
    assert by_method["get_object"].arg("Bucket") == {Fmt((Lit("reports-"), Env("ENVIRONMENT")))}
    assert by_method["get_object"].arg("Key") == set()  # request data: nothing known
    assert by_method["head_object"].arg("Bucket") == {Fmt((Lit("logs-"), Env("ENVIRONMENT")))}


def test_dynamic_calls_are_kept_as_unknown(tmp_path):
    calls, _ = scan(tmp_path, {"fn/handler.py": """
        import boto3
        def handler(event, context):
            boto3.client(event["service"]).list_things()
            client = boto3.client("dynamodb")
            getattr(client, event["operation"])(**event["arguments"])
            getattr(client, "describe_table")(TableName="t")
    """})
    assert methods(calls) == {(UNKNOWN, "list_things", "client"), ("dynamodb", UNKNOWN, "client"),
                              ("dynamodb", "describe_table", "client")}
    dynamic = next(c for c in calls if c.method is UNKNOWN)
    assert dynamic.dynamic_arguments


def test_relative_imports_and_unparseable_files(tmp_path):
    calls, found = scan(tmp_path, {
        "fn/handler.py": "from shared.jobs import run\ndef handler(e, c):\n    run()\n",
        "shared/__init__.py": "",
        "shared/jobs.py": "from .clients import sqs\ndef run():\n    sqs().purge_queue(QueueUrl='q')\n",
        "shared/clients.py": "import boto3\ndef sqs():\n    return boto3.client('sqs')\n",
        "shared/broken.py": "def oops(:\n",
    })
    assert methods(calls) == {("sqs", "purge_queue", "client")}
    assert found.problems == []  # broken.py is not imported: not part of what runs

    calls, found = scan(tmp_path, {"fn/handler.py": "import shared.broken\n"})
    assert calls == [] and found.problems and "shared/broken.py" in found.problems[0]


def test_only_modules_the_handler_imports_are_scanned(tmp_path):
    calls, _ = scan(tmp_path, {
        "fn/handler.py": "def handler(e, c):\n    return 1\n",
        "fn/unused.py": "import boto3\nboto3.client('s3').delete_bucket(Bucket='b')\n",
    })
    assert calls == []
