"""Least privilege, checked on every policy document in every template."""

import json

from tests.stack.helpers import as_list, props, resources_of

ENI_AND_XRAY = {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses", "xray:PutTraceSegments",
                "xray:PutTelemetryRecords"}
# Actions AWS authorises only on "*" that a service role of ours needs (flow-log and API Gateway roles).
STAR_ONLY_LOOKUPS = {"logs:DescribeLogGroups"}


def all_policy_documents(template):
    docs = []
    for logical_id, resource in template["Resources"].items():
        p = resource.get("Properties", {})
        for policy in p.get("Policies", []):
            docs.append((logical_id, "identity", policy["PolicyDocument"]))
        if "PolicyDocument" in p:
            docs.append((logical_id, "resource", p["PolicyDocument"]))
        if "KeyPolicy" in p:
            docs.append((logical_id, "key", json.loads(p["KeyPolicy"]["Fn::Sub"])))
    return docs


def test_no_star_action_anywhere(template, bootstrap):
    for t in (template, bootstrap):
        for logical_id, _, doc in all_policy_documents(t):
            for statement in doc["Statement"]:
                assert "*" not in as_list(statement["Action"]), logical_id


def test_service_wide_actions_only_in_deny_or_for_the_key_administrator(template, bootstrap):
    for t in (template, bootstrap):
        for logical_id, kind, doc in all_policy_documents(t):
            for s in doc["Statement"]:
                wide = [a for a in as_list(s["Action"]) if a.endswith(":*")]
                if wide and s["Effect"] == "Allow":
                    assert kind == "key" and s["Sid"] == "AccountAdministers", logical_id


def test_star_resource_only_for_network_interfaces_and_xray(template):
    for logical_id, kind, doc in all_policy_documents(template):
        if kind != "identity":
            continue
        for s in doc["Statement"]:
            if "*" in as_list(s["Resource"]):
                assert set(as_list(s["Action"])) <= ENI_AND_XRAY | STAR_ONLY_LOOKUPS, (
                    logical_id, s["Action"])


def test_function_roles_use_no_managed_policies(template):
    for role in resources_of(template, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
        assert len(role["Properties"]["Policies"]) == 1


def _role_statements(template, stem):
    [policy] = props(template, f"{stem}Role")["Policies"]
    return policy["PolicyDocument"]["Statement"]


SSM_VIA_SERVICE = {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}


def _parameter_arns(env_cfg, name):
    return [{"Fn::Sub": f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{p}"}
            for _, p in env_cfg.function(name).parameters]


def test_each_role_reads_exactly_its_own_parameters(template, env_cfg):
    granted = {}
    for stem, name in (("Hello", "hello"), ("DataProcessor", "data_processor")):
        statements = _role_statements(template, stem)
        expected = _parameter_arns(env_cfg, name)
        assert expected, f"{name} has no parameters in the config: nothing to check"

        [ssm] = [s for s in statements if any(a.startswith("ssm:") for a in s["Action"])]
        assert ssm["Effect"] == "Allow" and ssm["Action"] == ["ssm:GetParameter"]
        assert ssm["Resource"] == expected
        granted[name] = {r["Fn::Sub"] for r in ssm["Resource"]}

        [via_ssm] = [s for s in statements
                     if s.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
                     == SSM_VIA_SERVICE]
        assert via_ssm["Action"] == ["kms:Decrypt"]
        assert via_ssm["Resource"] == [{"Fn::GetAtt": ["Key", "Arn"]}]
        assert via_ssm["Condition"] == {"StringEquals": {
            "kms:ViaService": SSM_VIA_SERVICE, "kms:EncryptionContext:PARAMETER_ARN": expected}}
    assert granted["hello"].isdisjoint(granted["data_processor"])


def test_kms_decrypt_is_conditioned_on_its_use(template):
    for stem in ("Hello", "DataProcessor"):
        for s in _role_statements(template, stem):
            if "kms:Decrypt" in s["Action"]:
                assert s["Resource"] == [{"Fn::GetAtt": ["Key", "Arn"]}]
                assert s["Condition"]


def test_logs_only_to_the_functions_own_log_group(template):
    for stem in ("Hello", "DataProcessor"):
        logs = [s for s in _role_statements(template, stem)
                if any(a.startswith("logs:") for a in s["Action"])]
        assert [s["Resource"] for s in logs] == [[{"Fn::GetAtt": [f"{stem}LogGroup", "Arn"]}]]


def test_sns_publish_only_to_the_error_topic(template):
    for stem in ("Hello", "DataProcessor"):
        publish = [s for s in _role_statements(template, stem) if "sns:Publish" in s["Action"]]
        assert [s["Resource"] for s in publish] == [[{"Ref": "ErrorTopic"}]]


def _identity_allows(*templates):
    for t in templates:
        for logical_id, kind, doc in all_policy_documents(t):
            if kind == "identity":
                for s in doc["Statement"]:
                    if s["Effect"] == "Allow":
                        yield logical_id, s


def test_no_grant_is_ineffective(template, bootstrap):
    """An action without resource types (Service Authorization Reference) is authorised only by
    Resource "*": naming ARNs for it grants nothing, silently. Seen with logs:DescribeLogGroups
    on `log-group:*` (issue 9 #4)."""
    from infragen.iam_catalog import lookup

    for logical_id, s in _identity_allows(template, bootstrap):
        if as_list(s["Resource"]) == ["*"]:
            continue
        for action in as_list(s["Action"]):
            info = lookup(action)
            assert info is not None, (logical_id, action, "not an IAM action")
            assert info.supports_resource_scoping, (
                f"{logical_id}: {action} takes only Resource '*'; on {s['Resource']} it grants nothing")


# The condition operator for each condition key our policies use, by the key's type in the Service
# Authorization Reference: encryption-context keys are strings (AWS KMS Developer Guide,
# "kms:EncryptionContext:context-key"), CloudWatch Logs' aws:logs:arn context included (its own
# example uses ArnLike; parliament reports that as MISMATCHED_TYPE); aws:SourceArn is an ARN key,
# aws:SourceAccount and kms:ViaService strings.
DOCUMENTED_OPERATORS = {
    "kms:ViaService": {"StringEquals"},
    "kms:EncryptionContext:PARAMETER_ARN": {"StringEquals", "StringLike"},
    "kms:EncryptionContext:aws:dynamodb:tableName": {"StringEquals"},
    "kms:EncryptionContext:aws:logs:arn": {"StringLike", "StringEquals"},
    "aws:SourceAccount": {"StringEquals"},
    "aws:SourceArn": {"ArnLike", "ArnEquals"},
    "aws:SecureTransport": {"StringEquals", "Bool"},
}


def test_every_condition_uses_the_operator_aws_documents_for_its_key(template, bootstrap):
    for t in (template, bootstrap):
        for logical_id, _, doc in all_policy_documents(t):
            for s in doc["Statement"]:
                for operator, keys in s.get("Condition", {}).items():
                    for key in keys:
                        assert key in DOCUMENTED_OPERATORS, (logical_id, key, "undocumented key")
                        assert operator in DOCUMENTED_OPERATORS[key], (logical_id, operator, key)


def test_function_roles_use_the_key_only_through_a_service(template):
    """Lambda decrypts the function's environment through its own grant (README, "Encryption"):
    every key statement a function role has is bound to the service that uses the key for it."""
    for stem in ("Hello", "DataProcessor"):
        for s in _role_statements(template, stem):
            if any(a.startswith("kms:") for a in as_list(s["Action"])):
                assert s["Condition"]["StringEquals"]["kms:ViaService"], s
                assert "LambdaFunctionName" not in json.dumps(s)



def test_no_statement_conditions_an_action_on_a_key_its_requests_lack(template):
    """A condition on an encryption-context key never matches an action whose request has no
    context (DescribeKey, CreateGrant…): the grant is silently void (parliament:
    UNKNOWN_CONDITION_FOR_ACTION)."""
    with_context = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                    "kms:GenerateDataKey", "kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*",
                    "kms:GenerateDataKey*"}
    for logical_id, _, doc in all_policy_documents(template):
        for s in doc["Statement"]:
            if "kms:EncryptionContext" in json.dumps(s.get("Condition", {})):
                assert set(as_list(s["Action"])) <= with_context, (logical_id, s["Action"])
