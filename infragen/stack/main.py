"""Assemble the main stack of one environment, resources in dependency order."""

from __future__ import annotations

from troposphere import GetAtt, Output, Parameter, Ref, Sub, Template
from troposphere.logs import LogGroup

from infragen.config import EnvConfig
from infragen.stack.api import add_api, add_rest_api
from infragen.stack.functions import add_function
from infragen.stack.kms import add_key
from infragen.stack.names import (
    ARTIFACT_BUCKET_PARAMETER,
    STAGE_NAME,
    VPC_OUTPUT,
    camel,
    code_key_parameter,
    log_group_prefix,
)
from infragen.stack.network import add_network
from infragen.stack.schedules import add_schedule
from infragen.stack.tables import add_table
from infragen.stack.template import StackTemplate, check_limits
from infragen.stack.topic import add_error_topic


def build_stack(cfg: EnvConfig, bootstrap_sha256: str) -> Template:
    """The whole serverless stack for one environment.

    Resources are added so that each one follows everything it refers to: some targets (the
    local emulator) create resources in template order. The Metadata records which bootstrap
    template the code bucket comes from, so an unchanged deployed template proves both current.
    An app without routes has no API at all (API Gateway refuses to deploy an API without methods).
    """
    t = StackTemplate(Description=f"infragen {cfg.env}: serverless API (Lambda, API Gateway, VPC)")
    t.set_metadata({"infragen": {"environment": cfg.env, "bootstrapTemplateSha256": bootstrap_sha256}})
    _add_code_parameters(t, cfg)
    rest_api = add_rest_api(t, cfg) if cfg.routes else None
    key = add_key(t, cfg, has_api=rest_api is not None)
    topic = add_error_topic(t, cfg, key)
    network = add_network(t, cfg, key)
    tables = {table.name: add_table(t, table, key) for table in cfg.tables}
    functions = {fn.name: add_function(t, cfg, fn, network=network, key=key, topic=topic, tables=tables)
                 for fn in cfg.functions}
    for fn in cfg.functions:
        if fn.schedule:
            add_schedule(t, cfg, fn, functions[fn.name], topic)
    api = add_api(t, cfg, rest_api, functions, key=key, topic=topic) if rest_api else None

    outputs = {
        "ErrorTopicArn": (Ref(topic), "SNS topic receiving error notifications"),
        "KeyArn": (GetAtt(key, "Arn"), "KMS key for logs, topic, secrets, function settings, tables"),
        "LogGroupPrefix": (log_group_prefix(cfg), "Every log group of this stack starts here"),
        VPC_OUTPUT: (Ref(network.vpc), "VPC of the functions (its default security group is locked down)"),
    }
    if rest_api is not None:
        outputs["ApiUrl"] = (Sub(f"https://${{{rest_api.title}}}.execute-api.${{AWS::Region}}."
                                 f"${{AWS::URLSuffix}}/{STAGE_NAME}"), "Base URL of the API stage")
    for name, function in functions.items():
        outputs[f"{camel(name)}FunctionName"] = (Ref(function), f"Lambda function {name}")
    for name, table in tables.items():
        outputs[f"{camel(name)}TableName"] = (Ref(table), f"DynamoDB table {name} (retained)")
    for resource in list(t.resources.values()):
        if isinstance(resource, LogGroup):
            outputs[f"{resource.title}Name"] = (Ref(resource), f"Log group ({resource.title})")
    if api is not None and api.api_key is not None:
        outputs["ApiKeyId"] = (Ref(api.api_key), "Id of the default API key (value not shown)")
    for name, (value, description) in sorted(outputs.items(), key=_output_order):
        t.add_output(Output(name, Value=value, Description=description))
    check_limits(t, cfg.env)
    return t


def _output_order(item):
    """ApiUrl first as before, then the rest as built."""
    return item[0] != "ApiUrl"


def _add_code_parameters(t: Template, cfg: EnvConfig) -> None:
    """Code locations arrive at deploy time, so templates_out/ stays stable when only code changes."""
    t.add_parameter(Parameter(ARTIFACT_BUCKET_PARAMETER, Type="String",
                              Description="Artifact bucket (from the bootstrap stack)"))
    for fn in cfg.functions:
        t.add_parameter(Parameter(code_key_parameter(fn.name), Type="String",
                                  Description=f"S3 key of the {fn.name} zip (<prefix>/<function>/<sha256>.zip)"))
