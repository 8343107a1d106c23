"""Scanned calls → actions on ARNs, resolved through a template, and the platform's needs."""

from __future__ import annotations

from infragen.audit.compare import compare
from infragen.audit.needs import FunctionContext, call_needs, platform_needs
from infragen.audit.scan import Call, Site
from infragen.audit.values import UNKNOWN, Env, Fmt, Lit

SITE = Site("fn/handler.py", 3, "client.x")
ACCOUNT = "arn:${AWS::Partition}:SERVICE:${AWS::Region}:${AWS::AccountId}:"
RESOURCES = {
    "OrdersTable": {"Type": "AWS::DynamoDB::Table",
                    "Properties": {"SSESpecification": {"KMSMasterKeyId": {"Ref": "Key"}}}},
    "ErrorTopic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}},
    "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
    "FnLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
}
FUNCTION = {
    "Environment": {"Variables": {"ORDERS_TABLE": {"Ref": "OrdersTable"}, "TOPIC": {"Ref": "ErrorTopic"},
                                  "TOKEN_PARAMETER": "/app/dev/token", "ENVIRONMENT": "dev"}},
    "KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]},
    "LoggingConfig": {"LogGroup": {"Ref": "FnLogGroup"}},
    "TracingConfig": {"Mode": "PassThrough"},
}
CTX = FunctionContext("fn", RESOURCES, FUNCTION)


def call(service, method, via="client", **args):
    return Call(SITE, Lit(service) if isinstance(service, str) else service, method,
                tuple(sorted((k, frozenset(v)) for k, v in args.items())), via)


def needed(c):
    found, unresolved = call_needs(c, CTX)
    assert unresolved == []
    return {(n.action, n.resource, n.exact) for n in found}


def test_names_from_the_templates_variables_become_arns():
    assert needed(call("dynamodb", "get_item", TableName={Env("ORDERS_TABLE")})) == {
        ("dynamodb:GetItem", "${OrdersTable.Arn}", True), ("kms:Decrypt", "${Key.Arn}", True)}
    assert needed(call("sns", "publish", TopicArn={Env("TOPIC")})) == {
        ("sns:Publish", "${ErrorTopic}", True), ("kms:GenerateDataKey", "${Key.Arn}", True),
        ("kms:Decrypt", "${Key.Arn}", True)}
    assert needed(call("ssm", "get_parameter", Name={Env("TOKEN_PARAMETER")}, WithDecryption={Lit("True")})) == {
        ("ssm:GetParameter", ACCOUNT.replace("SERVICE", "ssm") + "parameter/app/dev/token", True),
        ("kms:Decrypt", "${Key.Arn}", True)}
    assert needed(call("ssm", "get_parameter", Name={Lit("plain")})) == {
        ("ssm:GetParameter", ACCOUNT.replace("SERVICE", "ssm") + "parameter/plain", True)}


def test_writes_to_an_encrypted_table_need_the_keys_write_actions_and_indexes_their_arn():
    assert needed(call("dynamodb", "put_item", TableName={Env("ORDERS_TABLE")})) == {
        ("dynamodb:PutItem", "${OrdersTable.Arn}", True), ("kms:Encrypt", "${Key.Arn}", True),
        ("kms:Decrypt", "${Key.Arn}", True), ("kms:GenerateDataKey", "${Key.Arn}", True)}
    assert ("dynamodb:Query", "${OrdersTable.Arn}/index/by-date", True) in needed(
        call("dynamodb", "query", TableName={Env("ORDERS_TABLE")}, IndexName={Lit("by-date")}))
    assert needed(call("dynamodb", "describe_table", TableName={Lit("legacy")})) == {
        ("dynamodb:DescribeTable", ACCOUNT.replace("SERVICE", "dynamodb") + "table/legacy", True)}


def test_s3_objects_buckets_copies_and_computed_names():
    bucket = {Fmt((Lit("reports-"), Env("ENVIRONMENT")))}
    assert needed(call("s3", "get_object", Bucket=bucket, Key={Lit("a.txt")})) == {
        ("s3:GetObject", "arn:${AWS::Partition}:s3:::reports-dev/a.txt", True)}
    assert needed(call("s3", "get_object", Bucket=bucket, Key={UNKNOWN})) == {
        ("s3:GetObject", "arn:${AWS::Partition}:s3:::reports-dev/*", False)}
    assert needed(call("s3", "list_objects_v2", "paginator", Bucket=bucket)) == {
        ("s3:ListBucket", "arn:${AWS::Partition}:s3:::reports-dev", True)}
    assert needed(call("s3", "copy", "transfer", Bucket={Lit("b")}, Key={Lit("k")})) == {
        ("s3:PutObject", "arn:${AWS::Partition}:s3:::b/k", True),
        ("s3:GetObject", "arn:${AWS::Partition}:s3:::*", False)}


def test_a_waiter_needs_its_operations_action():
    assert needed(call("dynamodb", "table_exists", "waiter", TableName={Env("ORDERS_TABLE")})) == {
        ("dynamodb:DescribeTable", "${OrdersTable.Arn}", True)}


def test_kwargs_dispatch_leaves_the_resource_unknown():
    c = call("dynamodb", "put_item", **{"**": {UNKNOWN}})
    (need, *_), _ = call_needs(c, CTX)
    assert (need.action, need.resource, need.exact) == ("dynamodb:PutItem", None, False)
    grant = {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": {"Fn::GetAtt": ["OrdersTable", "Arn"]}}
    from infragen.policy_model import statements

    findings = compare([need], [], statements({"Statement": [grant]}, "p"))
    assert [f.kind for f in findings] == ["unknown"]


def test_calls_that_cannot_be_resolved_say_why():
    cases = {
        call(UNKNOWN, "get_object"): "the service is computed at run time",
        call("dynamodb", UNKNOWN): "the method is computed at run time (getattr)",
        call("s3", "get_objects"): "'get_objects' is no client operation of s3",
        call("nosuchservice", "x"): "'nosuchservice' is not an AWS service botocore knows",
    }
    for c, reason in cases.items():
        needs, (unresolved,) = call_needs(c, CTX)
        assert needs == [] and unresolved.reason == reason


def test_platform_needs_follow_the_functions_settings():
    needs = {(n.action, n.resource) for n in platform_needs(CTX, "Fn")}
    # no VpcConfig, tracing PassThrough, no destination; the environment key is Lambda's grant, not the role's
    assert needs == {("logs:CreateLogStream", "${FnLogGroup.Arn}"), ("logs:PutLogEvents", "${FnLogGroup.Arn}")}
    traced = FunctionContext("fn", {**RESOURCES, "FnAsync": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
        "FunctionName": {"Ref": "Fn"}, "DestinationConfig": {"OnFailure": {"Destination": {"Ref": "ErrorTopic"}}}}}},
        {**FUNCTION, "TracingConfig": {"Mode": "Active"}, "VpcConfig": {"SubnetIds": []}})
    needs = {(n.action, n.resource) for n in platform_needs(traced, "Fn")}
    assert {("xray:PutTraceSegments", "*"), ("ec2:CreateNetworkInterface", "*"), ("sns:Publish", "${ErrorTopic}"),
            ("kms:GenerateDataKey", "${Key.Arn}")} <= needs
