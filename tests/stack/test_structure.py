"""One structural check per stack requirement, walking the rendered template."""

import json
import re
from dataclasses import replace

import pytest

from infragen.render import stack_template
from tests.stack.helpers import as_list, props, references, resources_of

FUNCTIONS = {"hello": "Hello", "data_processor": "DataProcessor"}
PSEUDO = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName"}


def key_policy(template):
    text = props(template, "Key")["KeyPolicy"]["Fn::Sub"]
    return json.loads(text)


def test_resources_follow_everything_they_refer_to(template):
    seen = set(template["Parameters"]) | PSEUDO
    for logical_id, resource in template["Resources"].items():
        refs = references(resource.get("Properties", {})) | set(as_list(resource.get("DependsOn", [])))
        refs |= references(resource.get("Properties", {}).get("KeyPolicy", {}))
        assert refs <= seen, f"{logical_id} refers to later or unknown {refs - seen}"
        seen.add(logical_id)


def test_kms_key_rotates_has_alias_and_narrow_service_grants(template, env_cfg):
    key = props(template, "Key")
    assert key["EnableKeyRotation"] is True
    assert props(template, "KeyAlias")["TargetKeyId"] == {"Ref": "Key"}
    statements = {s["Sid"]: s for s in key_policy(template)["Statement"]}
    assert statements["AccountAdministers"]["Principal"]["AWS"] == [
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"]
    logs = statements["LogsEncryptThisStacksLogGroups"]
    allowed = logs["Condition"]["StringLike"]["kms:EncryptionContext:aws:logs:arn"]
    # DescribeKey carries no encryption context: under this condition it would grant nothing
    assert "kms:DescribeKey" not in logs["Action"]
    assert all(f"/infragen/{env_cfg.stack_name}/" in a or "API-Gateway-Execution-Logs_${RestApi}" in a
               for a in allowed)
    alarms = statements["AlarmsPublishToEncryptedTopic"]
    assert alarms["Principal"]["Service"] == ["cloudwatch.amazonaws.com"]


def test_every_log_group_has_retention_and_the_key(template, env_cfg):
    groups = resources_of(template, "AWS::Logs::LogGroup")
    assert set(groups) >= {"FlowLogGroup", "HelloLogGroup", "DataProcessorLogGroup",
                           "ApiAccessLogGroup", "ApiExecutionLogGroup"}
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == env_cfg.log_retention_days
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["Key", "Arn"]}


def _retention_skips(template):
    """Per log group, its checkov skips (none when it has no Metadata)."""
    return {logical_id: group.get("Metadata", {}).get("checkov", {}).get("skip", [])
            for logical_id, group in resources_of(template, "AWS::Logs::LogGroup").items()}


def test_log_retention_skip_only_below_a_year_and_only_on_log_groups(template, env_cfg):
    short = json.loads(stack_template(replace(env_cfg, log_retention_days=30)))
    skips = _retention_skips(short)
    assert set(skips) == set(_retention_skips(template))
    for logical_id, skip in skips.items():
        [entry] = skip
        assert entry["id"] == "CKV_AWS_338", logical_id
        assert entry["comment"].strip(), logical_id
        assert "30 days" in entry["comment"] and "log_retention_days" in entry["comment"]
    for logical_id, resource in short["Resources"].items():
        if resource["Type"] != "AWS::Logs::LogGroup":
            assert "CKV_AWS_338" not in json.dumps(resource.get("Metadata", {})), logical_id

    for days in (365, 400):
        long = json.loads(stack_template(replace(env_cfg, log_retention_days=days)))
        assert all(skip == [] for skip in _retention_skips(long).values()), days
        assert "CKV_AWS_338" not in json.dumps(long)

    has_skip = {bool(skip) for skip in _retention_skips(template).values()}
    assert has_skip == {env_cfg.log_retention_days < 365}


def test_vpc_spans_two_azs_with_public_and_private_subnets(template):
    subnets = resources_of(template, "AWS::EC2::Subnet")
    assert sorted(subnets) == ["PrivateSubnet1", "PrivateSubnet2", "PublicSubnet1", "PublicSubnet2"]
    for kind in ("Public", "Private"):
        azs = {json.dumps(subnets[f"{kind}Subnet{i}"]["Properties"]["AvailabilityZone"])
               for i in (1, 2)}
        assert len(azs) == 2
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    cidrs = [s["Properties"]["CidrBlock"] for s in subnets.values()]
    assert len(set(cidrs)) == 4


def test_nat_gateways_follow_config_and_private_routes_use_them(template, env_cfg):
    nats = resources_of(template, "AWS::EC2::NatGateway")
    assert len(nats) == env_cfg.nat_gateways
    assert all(n["Properties"]["SubnetId"]["Ref"].startswith("PublicSubnet") for n in nats.values())
    for az in (1, 2):
        route = props(template, f"PrivateDefaultRoute{az}")
        assert route["NatGatewayId"]["Ref"] in nats
        assert "GatewayId" not in route
    assert props(template, "PublicDefaultRoute")["GatewayId"] == {"Ref": "InternetGateway"}


def test_function_security_group_has_no_ingress_and_https_egress_only(template):
    sg = props(template, "FunctionSecurityGroup")
    assert "SecurityGroupIngress" not in sg
    assert not resources_of(template, "AWS::EC2::SecurityGroupIngress")
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in sg["SecurityGroupEgress"]] == [
        ("tcp", 443, 443)]


def test_vpc_flow_logs_go_to_an_encrypted_log_group(template):
    flow = props(template, "VpcFlowLog")
    assert flow["ResourceId"] == {"Ref": "Vpc"} and flow["TrafficType"] == "ALL"
    assert flow["LogGroupName"] == {"Ref": "FlowLogGroup"}


@pytest.mark.parametrize("name,stem", FUNCTIONS.items())
def test_function_runs_as_specified(template, env_cfg, name, stem):
    fn = props(template, f"{stem}Function")
    cfg = env_cfg.function(name)
    assert fn["Runtime"] == cfg.runtime
    assert fn["Timeout"] == cfg.timeout and fn["MemorySize"] == cfg.memory
    assert fn["Code"] == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": f"{stem}CodeKey"}}
    assert "ZipFile" not in json.dumps(fn)
    assert fn["KmsKeyArn"] == {"Fn::GetAtt": ["Key", "Arn"]}
    assert [s["Ref"] for s in fn["VpcConfig"]["SubnetIds"]] == ["PrivateSubnet1", "PrivateSubnet2"]
    assert fn["VpcConfig"]["SecurityGroupIds"] == [{"Ref": "FunctionSecurityGroup"}]
    assert fn["LoggingConfig"] == {"LogGroup": {"Ref": f"{stem}LogGroup"}}
    assert fn.get("ReservedConcurrentExecutions") == cfg.reserved_concurrency
    assert fn["TracingConfig"]["Mode"] == ("Active" if env_cfg.tracing else "PassThrough")
    assert fn["Role"] == {"Fn::GetAtt": [f"{stem}Role", "Arn"]}
    variables = fn["Environment"]["Variables"]
    assert variables["ENVIRONMENT"] == env_cfg.env
    assert variables["ERROR_TOPIC_ARN"] == {"Ref": "ErrorTopic"}
    for key, parameter in cfg.parameters:
        assert variables[f"{key.upper()}_PARAMETER"] == parameter
    assert ("BATCH_SIZE" in variables) == (name == "data_processor")


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_repository_config_runs_functions_for_five_minutes_with_512_mb(config, env, name):
    """The issue's requirement, on the committed infragen.toml itself."""
    fn = config.env(env).function(name)
    assert fn.timeout == 300
    assert fn.memory == 512
    major, minor = re.fullmatch(r"python(\d+)\.(\d+)", fn.runtime).groups()
    assert (int(major), int(minor)) >= (3, 12)


def test_function_settings_and_tracing_follow_the_config(env_cfg):
    """Other values in the config give other values in the template: nothing is fixed."""
    changed = tuple(replace(f, timeout=60 + i, memory=1024 + 128 * i, runtime="python3.13")
                    for i, f in enumerate(env_cfg.functions))
    for tracing in (True, False):
        t = json.loads(stack_template(replace(env_cfg, functions=changed, tracing=tracing)))
        for i, (name, stem) in enumerate(FUNCTIONS.items()):
            fn = props(t, f"{stem}Function")
            assert (fn["Timeout"], fn["MemorySize"], fn["Runtime"]) == (
                60 + i, 1024 + 128 * i, "python3.13"), name
            assert fn["TracingConfig"]["Mode"] == ("Active" if tracing else "PassThrough")
            [policy] = props(t, f"{stem}Role")["Policies"]
            actions = {a for s in policy["PolicyDocument"]["Statement"] for a in s["Action"]}
            assert ("xray:PutTraceSegments" in actions) is tracing
        assert props(t, "ApiStage")["TracingEnabled"] is tracing


@pytest.mark.parametrize("stem", FUNCTIONS.values())
def test_failures_and_alarms_reach_the_error_topic(template, stem):
    invoke = props(template, f"{stem}AsyncFailures")
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {"Ref": "ErrorTopic"}
    for metric in ("Errors", "Throttles"):
        alarm = props(template, f"{stem}{metric}Alarm")
        assert alarm["MetricName"] == metric and alarm["Namespace"] == "AWS/Lambda"
        assert alarm["AlarmActions"] == [{"Ref": "ErrorTopic"}]
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": f"{stem}Function"}}]


def test_error_topic_is_encrypted_and_only_this_stacks_alarms_may_publish(template):
    topic = props(template, "ErrorTopic")
    assert topic["KmsMasterKeyId"] == {"Ref": "Key"}
    statements = props(template, "ErrorTopicPolicy")["PolicyDocument"]["Statement"]
    allow = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allow] == [{"Service": ["cloudwatch.amazonaws.com"]}]


LAMBDA_SUBSCRIBER = "arn:aws:lambda:us-west-2:123456789012:function:pager"
SUBSCRIBERS = (("email", "ops@corp.example.net"), ("https", "https://hooks.corp.net/alerts"),
               ("sqs", "arn:aws:sqs:us-west-2:123456789012:alerts"), ("lambda", LAMBDA_SUBSCRIBER))


def test_subscriptions_are_exactly_the_configured_alerts(env_cfg):
    """Issue 9 #3: one subscription per `alerts` entry, each with its protocol; a Lambda
    subscriber may be invoked by this topic only."""
    t = json.loads(stack_template(replace(env_cfg, alerts=SUBSCRIBERS)))
    subscriptions = resources_of(t, "AWS::SNS::Subscription")
    assert sorted((s["Properties"]["Protocol"], s["Properties"]["Endpoint"])
                  for s in subscriptions.values()) == sorted(SUBSCRIBERS)
    assert all(s["Properties"]["TopicArn"] == {"Ref": "ErrorTopic"} for s in subscriptions.values())
    [permission] = [r["Properties"] for r in resources_of(t, "AWS::Lambda::Permission").values()
                    if r["Properties"]["Principal"] == "sns.amazonaws.com"]
    assert permission == {"FunctionName": LAMBDA_SUBSCRIBER, "Action": "lambda:InvokeFunction",
                          "Principal": "sns.amazonaws.com", "SourceArn": {"Ref": "ErrorTopic"}}
    reordered = json.loads(stack_template(replace(env_cfg, alerts=SUBSCRIBERS[::-1])))
    assert set(resources_of(reordered, "AWS::SNS::Subscription")) == set(subscriptions)


def test_alarm_email_keeps_its_subscription_id(env_cfg):
    """Renaming the subscription would send a new confirmation e-mail."""
    t = json.loads(stack_template(replace(env_cfg, alarm_email="ops@corp.net",
                                          alerts=(("email", "ops@corp.net"),))))
    assert props(t, "ErrorTopicEmailSubscription")["Endpoint"] == "ops@corp.net"


def test_committed_example_alerts(config):
    """dev opts out explicitly; prod has a (placeholder) subscriber."""
    assert config.env("dev").alerts == ()
    assert config.env("prod").alerts == (("email", "alerts@example.com"),)
    assert any("alerts@example.com" in note and "replace" in note for note in config.notes)


def test_api_is_regional_with_two_proxy_routes(template):
    assert props(template, "RestApi")["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    routes = {}
    for method in resources_of(template, "AWS::ApiGateway::Method").values():
        p = method["Properties"]
        path = props(template, p["ResourceId"]["Ref"])["PathPart"]
        routes[f"{p['HttpMethod']} /{path}"] = p
        assert p["Integration"]["Type"] == "AWS_PROXY"
        assert p["Integration"]["IntegrationHttpMethod"] == "POST"
    assert set(routes) == {"GET /hello", "POST /data"}
    post = routes["POST /data"]
    assert post["RequestValidatorId"] == {"Ref": "DataProcessorBodyValidator"}
    schema = json.loads(props(template, "DataProcessorBodyModel")["Schema"])
    assert schema["required"] == ["data"] and schema["properties"]["data"]["type"] == "array"


def test_every_method_is_authenticated_by_default(template):
    for method in resources_of(template, "AWS::ApiGateway::Method").values():
        p = method["Properties"]
        assert p["AuthorizationType"] == "AWS_IAM" or p["ApiKeyRequired"] is True


def test_open_routes_and_iam_mode_come_only_from_config(env_cfg):
    opened = json.loads(stack_template(replace(env_cfg, open_routes=("GET /hello",))))
    assert props(opened, "ApiGetHelloMethod")["AuthorizationType"] == "NONE"
    assert props(opened, "ApiGetHelloMethod")["ApiKeyRequired"] is False
    assert props(opened, "ApiPostDataMethod")["ApiKeyRequired"] is True
    iam = json.loads(stack_template(replace(env_cfg, api_auth="iam")))
    assert {m["Properties"]["AuthorizationType"]
            for m in resources_of(iam, "AWS::ApiGateway::Method").values()} == {"AWS_IAM"}
    assert not resources_of(iam, "AWS::ApiGateway::ApiKey")


def test_each_route_has_its_own_scoped_invoke_permission(template):
    permissions = resources_of(template, "AWS::Lambda::Permission")
    assert len(permissions) == 2
    arns = sorted(p["Properties"]["SourceArn"]["Fn::Sub"] for p in permissions.values())
    assert arns[0].endswith("${RestApi}/v1/GET/hello")
    assert arns[1].endswith("${RestApi}/v1/POST/data")


def test_stage_logs_traces_throttles_without_data_trace(template, env_cfg):
    stage = props(template, "ApiStage")
    assert stage["TracingEnabled"] is env_cfg.tracing
    assert json.loads(stage["AccessLogSetting"]["Format"])["requestId"] == "$context.requestId"
    assert "/api/access" in stage["AccessLogSetting"]["DestinationArn"]["Fn::Sub"]
    [settings] = stage["MethodSettings"]
    assert settings["LoggingLevel"] == "INFO" and settings["DataTraceEnabled"] is False
    assert settings["MetricsEnabled"] is True
    assert settings["ThrottlingRateLimit"] == env_cfg.throttle_rate_limit
    assert settings["ThrottlingBurstLimit"] == env_cfg.throttle_burst_limit
    execution = props(template, "ApiExecutionLogGroup")["LogGroupName"]["Fn::Sub"]
    assert execution == "API-Gateway-Execution-Logs_${RestApi}/v1"


def test_deployment_id_changes_when_routes_change(env_cfg):
    def deployment(cfg):
        t = json.loads(stack_template(cfg))
        return next(iter(resources_of(t, "AWS::ApiGateway::Deployment")))

    assert deployment(env_cfg) == deployment(env_cfg)
    assert deployment(env_cfg) != deployment(replace(env_cfg, open_routes=("GET /hello",)))


ACCOUNT_WIDE = {"AWS::ApiGateway::Account"}


@pytest.mark.parametrize("manage", [True, False])
def test_environment_stacks_never_touch_the_account_setting(env_cfg, manage):
    """Issue 9 #1: the API Gateway account setting and its role live in the bootstrap stack only,
    whatever manage_api_gateway_account says (dev and prod no longer fight over it)."""
    from infragen.config import BootstrapSettings

    cfg = replace(env_cfg, manage_api_gateway_account=manage,
                  bootstrap=BootstrapSettings(manage, env_cfg.log_retention_days))
    t = json.loads(stack_template(cfg))
    assert not [r for r in t["Resources"].values() if r["Type"] in ACCOUNT_WIDE]
    assert "ApiGatewayLoggingRole" not in t["Resources"]
    assert not [r for r in t["Resources"].values()
                if r["Type"] == "AWS::IAM::Role" and "apigateway.amazonaws.com" in json.dumps(r)]
    assert "/aws/apigateway/welcome" not in json.dumps(t)


def test_api_5xx_alarm(template):
    alarm = props(template, "Api5xxAlarm")
    assert alarm["MetricName"] == "5XXError" and alarm["AlarmActions"] == [{"Ref": "ErrorTopic"}]


def test_no_secret_values_or_securestring_parameters(template):
    assert not resources_of(template, "AWS::SSM::Parameter")
    text = json.dumps(template)
    assert "SecureString" not in text
    assert "NoEcho" not in text


def test_outputs(template):
    assert set(template["Outputs"]) >= {
        "ApiUrl", "ErrorTopicArn", "KeyArn", "HelloFunctionName", "DataProcessorFunctionName",
        "HelloLogGroupName", "DataProcessorLogGroupName", "ApiAccessLogGroupName",
        "ApiExecutionLogGroupName", "FlowLogGroupName"}


def test_bootstrap_bucket_is_private_encrypted_versioned_and_tls_only(bootstrap):
    bucket = props(bootstrap, "ArtifactBucket")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    [lifecycle] = bucket["LifecycleConfiguration"]["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    [deny] = props(bootstrap, "ArtifactBucketPolicy")["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"StringEquals": {"aws:SecureTransport": "false"}}
    skip = bootstrap["Resources"]["ArtifactBucket"]["Metadata"]["checkov"]["skip"]
    assert skip[0]["id"] == "CKV_AWS_18" and skip[0]["comment"]


ALARM_SOURCE = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"


def test_key_lets_only_this_stacks_alarms_use_it(template, env_cfg):
    """Issue 9 #6: the key policy's CloudWatch statement carries the same aws:SourceArn alarm
    prefix as the topic policy (confused deputy), so another stack's alarms cannot use the key."""
    alarms = {s["Sid"]: s for s in key_policy(template)["Statement"]}["AlarmsPublishToEncryptedTopic"]
    assert alarms["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "${AWS::AccountId}"},
        "ArnLike": {"aws:SourceArn": f"{ALARM_SOURCE}{env_cfg.stack_name}-*"}}
    [topic_statement] = [s for s in props(template, "ErrorTopicPolicy")["PolicyDocument"]["Statement"]
                         if s["Effect"] == "Allow"]
    assert topic_statement["Condition"]["ArnLike"] == {
        "aws:SourceArn": {"Fn::Sub": alarms["Condition"]["ArnLike"]["aws:SourceArn"]}}


def test_every_service_principal_in_the_key_policy_is_bound_to_this_stack(template, env_cfg):
    """Each service the key admits is limited to this stack's resources, by source ARN or by
    the encryption context naming them."""
    for s in key_policy(template)["Statement"]:
        if "Service" in s["Principal"]:
            text = json.dumps(s.get("Condition", {}))
            assert "aws:SourceArn" in text or "kms:EncryptionContext" in text, s["Sid"]
            assert env_cfg.stack_name in text or "${RestApi}" in text, s["Sid"]


def test_every_alarm_is_inside_the_policies_alarm_prefix(template, env_cfg):
    """An alarm named outside `<stack>-` would be refused by the topic and key policies."""
    for logical_id, alarm in resources_of(template, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmName"].startswith(f"{env_cfg.stack_name}-"), logical_id


def test_every_integration_states_the_29_second_timeout(template):
    """Issue 9 #12: the timeout a caller meets is in the template, not an implicit default."""
    methods = resources_of(template, "AWS::ApiGateway::Method")
    assert methods
    for logical_id, method in methods.items():
        assert method["Properties"]["Integration"]["TimeoutInMillis"] == 29_000, logical_id


def test_functions_wait_for_the_private_subnets_egress(template):
    """Issue 9 #8: no function (hence no route the API serves) exists before its subnets have a
    default route through the NAT gateway and their route-table associations."""
    egress = {logical_id for logical_id, r in template["Resources"].items()
              if (r["Type"] == "AWS::EC2::Route" and logical_id.startswith("PrivateDefaultRoute"))
              or (r["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
                  and r["Properties"]["SubnetId"]["Ref"].startswith("PrivateSubnet"))}
    assert len(egress) == 4
    functions = resources_of(template, "AWS::Lambda::Function")
    assert functions
    for logical_id, function in functions.items():
        subnets = {s["Ref"] for s in function["Properties"]["VpcConfig"]["SubnetIds"]}
        assert subnets == {"PrivateSubnet1", "PrivateSubnet2"}
        assert set(as_list(function.get("DependsOn", []))) == egress, logical_id


@pytest.mark.parametrize("name,stem", FUNCTIONS.items())
def test_concurrency_limit_skip_only_without_a_reservation(env_cfg, name, stem):
    """checkov's CKV_AWS_115 is skipped, with its reason, exactly when no reservation is set."""
    for reserved in (None, 0, 7):
        fn = replace(env_cfg.function(name), reserved_concurrency=reserved)
        cfg = replace(env_cfg, functions=tuple(fn if f.name == name else f for f in env_cfg.functions))
        function = json.loads(stack_template(cfg))["Resources"][f"{stem}Function"]
        ids = [s["id"] for s in function["Metadata"]["checkov"]["skip"]]
        assert ids == (["CKV_AWS_116", "CKV_AWS_115"] if reserved is None else ["CKV_AWS_116"])
        assert function["Properties"].get("ReservedConcurrentExecutions") == reserved
