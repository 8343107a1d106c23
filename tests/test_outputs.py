import json

from infragen.config import load_config
from infragen.outputs import derive_outputs
from infragen.render import stack_template
from tests.stack.conftest import ROOT

TEMPLATE = json.loads(stack_template(load_config(ROOT / "infragen.toml").env("dev")))


def test_outputs_are_derived_from_physical_ids_where_they_can_be():
    ids = {"RestApi": "abc123", "HelloFunction": "infragen-dev-hello", "ErrorTopic": "arn:aws:sns:x",
           "HelloLogGroup": "/infragen/infragen-dev/lambda/hello"}
    derived = derive_outputs(TEMPLATE, ids, "us-west-2")
    assert derived["ApiUrl"] == "https://abc123.execute-api.us-west-2.amazonaws.com/v1"
    assert derived["HelloFunctionName"] == "infragen-dev-hello"
    assert derived["ErrorTopicArn"] == "arn:aws:sns:x"
    assert derived["LogGroupPrefix"] == "/infragen/infragen-dev/"
    assert "KeyArn" not in derived  # a GetAtt is never guessed
    assert "DataProcessorFunctionName" not in derived  # its physical id was not given
