"""Each finding kind, from needs and policy statements written out (independent of the stack)."""

from __future__ import annotations

from infragen.audit.compare import compare
from infragen.audit.needs import Need, Unresolved
from infragen.audit.scan import Site
from infragen.policy_model import statements

SITE = Site("fn/handler.py", 7, "client.publish")
PARAM = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/app/"


def policy(*statement_list: dict):
    return statements({"Version": "2012-10-17", "Statement": list(statement_list)}, "Role policy p")


def allow(actions, resources, condition=None):
    return {"Effect": "Allow", "Action": actions, "Resource": resources,
            **({"Condition": condition} if condition else {})}


def need(action, resource, *, site=SITE, service=None, exact=True):
    return Need(action, resource, site, "call", service or action.split(":")[0], exact)


def kinds(findings):
    return [(f.kind, f.where) for f in findings]


def test_exact_grants_for_exact_needs_have_no_finding():
    needs = [need("sns:Publish", "${Topic}"), need("ssm:GetParameter", PARAM + "x")]
    assert compare(needs, [], policy(allow(["sns:Publish"], [{"Ref": "Topic"}]),
                                     allow(["ssm:GetParameter"], [{"Fn::Sub": PARAM + "x"}]))) == []


def test_missing_names_the_call_site_and_the_config_that_would_grant_it():
    findings = compare([need("ssm:GetParameter", PARAM + "x")], [], policy())
    assert kinds(findings) == [("missing", "fn/handler.py:7")]
    assert 'parameters = { key = "/app/x" }' in findings[0].message


def test_unused_grant():
    findings = compare([], [], policy(allow(["s3:GetObject"], ["arn:aws:s3:::b/*"])))
    assert kinds(findings) == [("unused", "Role policy p #1")]


def test_too_broad_path_wildcard_where_one_name_is_read():
    findings = compare([need("ssm:GetParameter", PARAM + "x")], [],
                       policy(allow(["ssm:GetParameter"], [{"Fn::Sub": PARAM + "*"}])))
    assert kinds(findings) == [("too broad", "Role policy p #1")]
    assert PARAM + "x" in findings[0].message


def test_too_broad_index_grant_where_only_the_table_is_queried():
    table_grant = allow(["dynamodb:Query"], [{"Fn::GetAtt": ["T", "Arn"]}])
    index_grant = allow(["dynamodb:Query"], [{"Fn::Sub": ["${Arn}/index/*", {"Arn": {"Fn::GetAtt": ["T", "Arn"]}}]}])
    findings = compare([need("dynamodb:Query", "${T.Arn}")], [], policy(table_grant, index_grant))
    assert kinds(findings) == [("too broad", "Role policy p #2")]


def test_ineffective_action_that_takes_only_star():
    log_groups = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
    findings = compare([], [], policy(allow(["logs:DescribeLogGroups"], [{"Fn::Sub": log_groups}])))
    assert kinds(findings) == [("ineffective", "Role policy p #1")]
    assert 'takes only Resource "*"' in findings[0].message


def test_ineffective_arn_of_another_service():
    table = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/t"
    findings = compare([], [], policy(allow(["s3:GetObject"], [{"Fn::Sub": table}])))
    assert kinds(findings) == [("ineffective", "Role policy p #1")]
    assert "s3:GetObject applies to s3 ARNs, not dynamodb ones" in findings[0].message


def test_ineffective_unknown_action_and_unsupported_condition_key():
    findings = compare([], [], policy(
        allow(["s3:GetObjects"], ["arn:aws:s3:::b/*"]),
        allow(["s3:GetObject"], ["arn:aws:s3:::b/*"], {"StringEquals": {"dynamodb:LeadingKeys": "x"}})))
    assert [f.kind for f in findings] == ["ineffective", "ineffective"]
    assert "no such IAM action" in findings[0].message
    assert "does not support the condition key dynamodb:LeadingKeys" in findings[1].message


def test_ineffective_operator_of_the_wrong_type_and_the_need_it_was_meant_for_is_missing():
    decrypt = allow(["kms:Decrypt"], [{"Fn::GetAtt": ["Key", "Arn"]}], {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}},
        "ArnLike": {"kms:EncryptionContext:PARAMETER_ARN": [PARAM + "x"]}})
    findings = compare([need("kms:Decrypt", "${Key.Arn}", service="ssm")], [], policy(decrypt))
    assert kinds(findings) == [("missing", "fn/handler.py:7"), ("ineffective", "Role policy p #1")]
    assert "ArnLike compares Arn values but kms:EncryptionContext:PARAMETER_ARN is of type String" in findings[1].message

    fixed = allow(["kms:Decrypt"], [{"Fn::GetAtt": ["Key", "Arn"]}], {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"},
                         "kms:EncryptionContext:PARAMETER_ARN": {"Fn::Sub": PARAM + "x"}}})
    assert compare([need("kms:Decrypt", "${Key.Arn}", service="ssm")], [], policy(fixed)) == []


def test_ineffective_encryption_context_the_service_never_sends():
    """Lambda decrypts environment variables under aws:lambda:FunctionArn, not LambdaFunctionName."""
    env_decrypt = Need("kms:Decrypt", "${Key.Arn}", None, "Lambda: environment decryption", "lambda")
    by_name = allow(["kms:Decrypt"], [{"Fn::GetAtt": ["Key", "Arn"]}],
                    {"StringEquals": {"kms:EncryptionContext:LambdaFunctionName": "app-dev-fn"}})
    findings = compare([env_decrypt], [], policy(by_name))
    assert kinds(findings) == [("missing", "Lambda platform"), ("ineffective", "Role policy p #1")]
    by_arn = allow(["kms:Decrypt"], [{"Fn::GetAtt": ["Key", "Arn"]}],
                   {"StringEquals": {"kms:EncryptionContext:aws:lambda:FunctionArn": "arn:…"}})
    assert compare([env_decrypt], [], policy(by_arn)) == []


def test_a_key_grant_for_one_service_does_not_cover_another_services_need():
    via_sns = allow(["kms:Decrypt"], [{"Fn::GetAtt": ["Key", "Arn"]}],
                    {"StringEquals": {"kms:ViaService": {"Fn::Sub": "sns.${AWS::Region}.amazonaws.com"}}})
    findings = compare([need("kms:Decrypt", "${Key.Arn}", service="ssm")], [], policy(via_sns))
    assert kinds(findings) == [("missing", "fn/handler.py:7"), ("unused", "Role policy p #1")]


def test_platform_needs_use_the_platform_grants():
    enis = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces"]
    needs = [Need(a, "*", None, "Lambda: network interfaces", "ec2") for a in enis]
    assert compare(needs, [], policy(allow(enis, ["*"]))) == []


def test_computed_names_covered_by_a_wildcard_are_proven_otherwise_unknown():
    data_key = need("s3:GetObject", "arn:${AWS::Partition}:s3:::reports-dev/*", exact=False)
    grant = allow(["s3:GetObject"], [{"Fn::Sub": "arn:${AWS::Partition}:s3:::reports-dev/*"}])
    assert compare([data_key], [], policy(grant)) == []

    computed_name = need("ssm:GetParameter", PARAM + "*", exact=False)
    findings = compare([computed_name], [], policy(allow(["ssm:GetParameter"], [{"Fn::Sub": PARAM + "x"}])))
    assert kinds(findings) == [("unknown", "fn/handler.py:7")]


def test_unknown_calls_fail_unless_acknowledged_by_site_or_by_call_text():
    item = Unresolved(Site("lambda_src/fn/handler.py", 12, "getattr(client, name)"), "getattr(client, name)(…)",
                      "the method is computed at run time (getattr)")
    assert kinds(compare([], [item], policy())) == [("unknown", "lambda_src/fn/handler.py:12")]
    assert compare([], [item], policy(), (("lambda_src/fn/handler.py:12", "admin tool"),)) == []
    assert compare([], [item], policy(), (("handler.py:12", "admin tool"),)) == []
    assert compare([], [item], policy(), (("getattr(client, name)", "admin tool"),)) == []
    assert kinds(compare([], [item], policy(), (("handler.py:13", "another line"),))) == [
        ("unknown", "lambda_src/fn/handler.py:12")]
