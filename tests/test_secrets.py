import pytest

from infragen.config import load_config
from infragen.errors import AwsError, UsageError
from infragen.secrets import find_slot, put_secret, secret_status
from tests.stack.conftest import ROOT

DEV = load_config(ROOT / "infragen.toml").env("dev")


def test_secret_is_written_as_securestring_under_the_stack_key(aws_clients):
    kms = aws_clients.session.client("kms", endpoint_url=aws_clients.target.endpoint_url)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{DEV.stack_name}", TargetKeyId=key_id)
    slot = find_slot(DEV, "hello", "greeting")

    assert put_secret(aws_clients.ssm, DEV, slot, "Hej") == 1
    stored = aws_clients.ssm.get_parameter(Name=slot.parameter, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString" and stored["Value"] == "Hej"
    status = dict((s.parameter, state) for s, state in secret_status(aws_clients.ssm, DEV))
    assert status[slot.parameter] == "set (v1, SecureString)"
    assert status["/infragen/dev/data_processor/signing-key"] == "missing"


def test_unknown_slot_and_empty_value_are_refused(aws_clients):
    with pytest.raises(UsageError, match="configured: hello greeting"):
        find_slot(DEV, "hello", "password")
    with pytest.raises(UsageError, match="empty"):
        put_secret(aws_clients.ssm, DEV, find_slot(DEV, "hello", "greeting"), "")


def test_a_rejected_write_names_the_code_and_a_hint_but_never_the_value():
    import botocore.session
    from botocore.stub import Stubber

    ssm = botocore.session.get_session().create_client(
        "ssm", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ssm) as stub:
        stub.add_client_error("put_parameter", "ValidationException",
                              "Value 'hunter2hunter2' is too long")
        with pytest.raises(AwsError) as caught:
            put_secret(ssm, DEV, find_slot(DEV, "hello", "greeting"), "hunter2hunter2")
    assert "ValidationException" in str(caught.value) and "4 KB" in str(caught.value)
    assert "hunter2" not in str(caught.value)
