import pytest

from infragen.config import load_config
from infragen.errors import AwsError, UsageError
from infragen.secrets import STALE_KEY, find_slot, put_secret, secret_status
from tests.stack.conftest import ROOT

DEV = load_config(ROOT / "infragen.toml").env("dev")


def test_secret_is_written_as_securestring_under_the_stack_key(aws_clients):
    kms = aws_clients.session.client("kms", endpoint_url=aws_clients.target.endpoint_url)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{DEV.stack_name}", TargetKeyId=key_id)
    slot = find_slot(DEV, "hello", "greeting")

    assert put_secret(aws_clients.ssm, kms, DEV, slot, "Hej") == 1
    stored = aws_clients.ssm.get_parameter(Name=slot.parameter, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString" and stored["Value"] == "Hej"
    status = dict((s.parameter, state) for s, state in secret_status(aws_clients.ssm, DEV, kms))
    assert status[slot.parameter] == "set (v1, SecureString)"
    assert status["/infragen/dev/data_processor/signing-key"] == "missing"


def test_a_secret_written_under_a_previous_key_is_reported_until_written_again(aws_clients):
    """destroy + deploy: the alias names a new key; the old parameter becomes unreadable later."""
    kms = aws_clients.session.client("kms", endpoint_url=aws_clients.target.endpoint_url)
    alias = f"alias/{DEV.stack_name}"
    old_key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=old_key)
    slot = find_slot(DEV, "hello", "greeting")
    put_secret(aws_clients.ssm, kms, DEV, slot, "Hej")
    kms.update_alias(AliasName=alias, TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])

    state = dict((s.parameter, st) for s, st in secret_status(aws_clients.ssm, DEV, kms))[slot.parameter]
    assert STALE_KEY in state and old_key in state and "infragen secrets set" in state
    put_secret(aws_clients.ssm, kms, DEV, slot, "Hej")
    state = dict((s.parameter, st) for s, st in secret_status(aws_clients.ssm, DEV, kms))[slot.parameter]
    assert state == "set (v2, SecureString)"


def test_unknown_slot_and_empty_value_are_refused(aws_clients):
    with pytest.raises(UsageError, match="configured: hello greeting"):
        find_slot(DEV, "hello", "password")
    with pytest.raises(UsageError, match="empty"):
        put_secret(aws_clients.ssm, None, DEV, find_slot(DEV, "hello", "greeting"), "")


def test_a_rejected_write_names_the_code_and_a_hint_but_never_the_value():
    import botocore.session
    from botocore.stub import Stubber

    session = botocore.session.get_session()
    ssm, kms = (session.create_client(service, region_name="us-west-2", aws_access_key_id="x",
                                      aws_secret_access_key="x") for service in ("ssm", "kms"))
    key_arn = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    with Stubber(ssm) as stub, Stubber(kms) as kms_stub:
        kms_stub.add_response("describe_key", {"KeyMetadata": {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
                                                               "Arn": key_arn}})
        stub.add_client_error("put_parameter", "ValidationException",
                              "Value 'hunter2hunter2' is too long")
        with pytest.raises(AwsError) as caught:
            put_secret(ssm, kms, DEV, find_slot(DEV, "hello", "greeting"), "hunter2hunter2")
    assert "ValidationException" in str(caught.value) and "4 KB" in str(caught.value)
    assert "hunter2" not in str(caught.value)
