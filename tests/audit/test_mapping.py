"""Calls → IAM actions: botocore's operation names, the IAM reference, and the documented table."""

from __future__ import annotations

import pytest

from infragen import iam_catalog
from infragen.audit import mapping


@pytest.mark.parametrize("key, actions", sorted(mapping.NON_IDENTICAL.items()))
def test_every_non_identical_mapping_names_a_real_operation_and_real_actions(key, actions):
    service, operation = key
    assert operation in mapping.service_model(service).operation_names
    assert not iam_catalog.lookup(f"{mapping.iam_prefix(service)}:{operation}"), \
        "listed, but the IAM reference has an identically named action"
    for action in actions:
        assert iam_catalog.lookup(action.split("@")[0]) is not None, action


@pytest.mark.parametrize("service, method, via, expected", [
    ("s3", "list_objects_v2", "client", ("s3:ListBucket",)),
    ("s3", "list_objects_v2", "paginator", ("s3:ListBucket",)),
    ("s3", "head_object", "client", ("s3:GetObject",)),
    ("s3", "copy_object", "client", ("s3:PutObject", "s3:GetObject@source")),
    ("s3", "upload_file", "transfer", ("s3:PutObject",)),
    ("s3", "copy", "transfer", ("s3:PutObject", "s3:GetObject@source")),
    ("lambda", "invoke", "client", ("lambda:InvokeFunction",)),
    ("dynamodb", "get_item", "client", ("dynamodb:GetItem",)),
    ("dynamodb", "table_exists", "waiter", ("dynamodb:DescribeTable",)),
    ("cloudwatch", "put_metric_data", "client", ("cloudwatch:PutMetricData",)),  # signs as "monitoring"
    ("ssm", "get_parameter", "client", ("ssm:GetParameter",)),
])
def test_method_to_actions(service, method, via, expected):
    found = tuple(a for op in mapping.operations(service, method, via) for a in mapping.actions(service, op))
    assert found == expected


def test_a_method_that_is_no_operation_maps_to_nothing():
    assert mapping.operations("s3", "get_objects", "client") == ()
    assert mapping.operations("s3", "no_such_waiter", "waiter") == ()
    assert not mapping.is_service("not-a-service")


def test_coverage_of_the_services_infragen_apps_use():
    mapped, total, unmapped = mapping.coverage(["s3", "dynamodb", "ssm", "sns", "sqs", "lambda", "kms"])
    assert total > 500 and mapped / total > 0.9
    # What is left is newer than the IAM reference infragen ships, not a gap in the table.
    for name in unmapped:
        service, operation = name.split(":")
        assert iam_catalog.lookup(f"{mapping.iam_prefix(service)}:{operation}") is None
