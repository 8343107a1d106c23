import pytest

from infragen.deploy.stacks import DeployedStack, describe, deployed_template, is_unchanged, parse_template
from infragen.deploy.stacks import required_capabilities
from tests.deploy.helpers import STACK, STACK_ID, body, missing_stack, stacks_response, template

QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}}
ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}


@pytest.mark.parametrize(
    "tpl, expected",
    [
        (template(Queue=QUEUE), []),
        (template(Role=ROLE), ["CAPABILITY_IAM"]),
        (template(Role={**ROLE, "Properties": {"RoleName": "fixed"}}), ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]),
        (template(P={"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "inline-not-named"}}), ["CAPABILITY_IAM"]),
        ({"Transform": "AWS::Serverless-2016-10-31", **template(Queue=QUEUE)}, ["CAPABILITY_AUTO_EXPAND"]),
        (template(Q={"Type": "AWS::SQS::Queue", "Fn::Transform": {"Name": "AWS::Include"}}), ["CAPABILITY_AUTO_EXPAND"]),
        # a property called Transform (IoT SiteWise asset models have one) is not a macro
        (template(M={"Type": "AWS::IoTSiteWise::AssetModel", "Properties": {"Type": {"Transform": {}}}}), []),
    ],
)
def test_required_capabilities(tpl, expected):
    assert required_capabilities(tpl) == expected


def deployed(params=None, tags=None):
    return DeployedStack(STACK, STACK_ID, "UPDATE_COMPLETE", parameters=params or {}, tags=tags or {})


def test_is_unchanged_compares_canonical_template_parameters_and_tags():
    tpl = {"Parameters": {"Stage": {"Type": "String", "Default": "dev"}}, **template(Queue=QUEUE)}
    reordered = '{"Resources": {"Queue": {"Properties": {"VisibilityTimeout": 30}, "Type": "AWS::SQS::Queue"}},' \
                ' "Parameters": {"Stage": {"Default": "dev", "Type": "String"}}}'
    current = deployed({"Stage": "dev"}, {"team": "a"})
    assert is_unchanged(current, tpl, reordered, {}, {"team": "a"})  # default fills the omitted parameter
    assert not is_unchanged(current, tpl, reordered, {"Stage": "prod"}, {"team": "a"})
    assert not is_unchanged(current, tpl, reordered, {}, {})  # dropping a tag is a change
    changed = template(Queue={**QUEUE, "Properties": {"VisibilityTimeout": 60}})
    assert not is_unchanged(current, tpl, body({**tpl, **changed}), {}, {"team": "a"})


def test_is_unchanged_is_conservative_about_values_resolved_at_deploy_time():
    ssm = {"Parameters": {"Ami": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/ami"}}, **template(Q=QUEUE)}
    assert not is_unchanged(deployed({"Ami": "/ami"}), ssm, body(ssm), {}, {})
    secret = {"Parameters": {"Pw": {"Type": "String", "NoEcho": True}}, **template(Q=QUEUE)}
    assert not is_unchanged(deployed({"Pw": "****"}), secret, body(secret), {"Pw": "hunter2"}, {})
    macro = {"Transform": "AWS::Serverless-2016-10-31", **template(Q=QUEUE)}
    assert not is_unchanged(deployed(), macro, body(macro), {}, {})


def test_parse_template_accepts_dict_json_and_short_form_yaml():
    assert parse_template({"a": 1}) == {"a": 1}
    assert parse_template('{"a": 1}') == {"a": 1}
    yaml = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Name: !Ref Stage\n"
    assert parse_template(yaml)["Resources"]["Q"]["Properties"]["Name"] == {"Ref": "Stage"}


def test_describe_reads_the_stack_and_treats_does_not_exist_as_none(cfn):
    cfn.stub.add_response(
        "describe_stacks",
        stacks_response("UPDATE_COMPLETE", outputs={"Url": "https://x"}, params={"Stage": "dev"}, tags={"t": "1"}),
        {"StackName": STACK},
    )
    missing_stack(cfn.stub)
    stack = describe(cfn, STACK)
    assert (stack.stack_id, stack.status, stack.outputs, stack.parameters, stack.tags) == (
        STACK_ID, "UPDATE_COMPLETE", {"Url": "https://x"}, {"Stage": "dev"}, {"t": "1"}
    )
    assert describe(cfn, STACK) is None


def test_deployed_template_asks_for_the_original_stage(cfn):
    expected = {"StackName": STACK, "TemplateStage": "Original"}
    cfn.stub.add_response("get_template", {"TemplateBody": '{"Resources": {}}'}, expected)
    assert deployed_template(cfn, STACK) == {"Resources": {}}
