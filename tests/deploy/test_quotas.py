"""Issue 9 #2: quotas checked before the change set (Stubber: the shapes AWS returns)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import botocore.session
import pytest
from botocore.stub import Stubber

from infragen.deploy.quotas import check_quotas, needs, preflight
from infragen.errors import DeployFailed
from tests.deploy.helpers import REGION, CapturingConsole

ROOT = Path(__file__).resolve().parents[2]
DEV = json.loads((ROOT / "templates_out" / "dev.json").read_text())
PROD = json.loads((ROOT / "templates_out" / "prod.json").read_text())


def _client(service):
    return botocore.session.get_session().create_client(
        service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def clients():
    c = SimpleNamespace(target=SimpleNamespace(endpoint_url=None, region=REGION),
                        lambda_=_client("lambda"), ec2=_client("ec2"),
                        service_quotas=_client("service-quotas"))
    stubs = [Stubber(x) for x in (c.lambda_, c.ec2, c.service_quotas)]
    c.lambda_.stub, c.ec2.stub, c.service_quotas.stub = stubs
    for s in stubs:
        s.activate()
    yield c
    for s in stubs:
        s.assert_no_pending_responses()
        s.deactivate()


def console():
    return CapturingConsole(out=io.StringIO(), err=io.StringIO())


def _lambda(c, total, unreserved):
    c.lambda_.stub.add_response("get_account_settings", {"AccountLimit": {
        "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": total, "UnreservedConcurrentExecutions": unreserved}}, {})


def _eips(c, quota, used):
    c.ec2.stub.add_response("describe_account_attributes", {"AccountAttributes": [{
        "AttributeName": "vpc-max-elastic-ips", "AttributeValues": [{"AttributeValue": str(quota)}]}]},
        {"AttributeNames": ["vpc-max-elastic-ips"]})
    c.ec2.stub.add_response("describe_addresses", {"Addresses": [
        {"AllocationId": f"eipalloc-{i}", "Domain": "vpc"} for i in range(used)]},
        {"Filters": [{"Name": "domain", "Values": ["vpc"]}]})


def _vpcs(c, used, quota=None):
    c.ec2.stub.add_response("describe_vpcs", {"Vpcs": [{"VpcId": f"vpc-{i}"} for i in range(used)]}, {})
    if quota is None:
        c.service_quotas.stub.add_client_error("get_service_quota", "AccessDeniedException", "no",
                                               http_status_code=400)
    else:
        c.service_quotas.stub.add_response("get_service_quota", {"Quota": {
            "ServiceCode": "vpc", "QuotaCode": "L-F678F1CE", "Value": float(quota)}},
            {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"})


def test_what_a_first_prod_deploy_adds():
    assert needs(PROD, None).elastic_ips == 2 and needs(PROD, None).vpcs == 1
    assert needs(PROD, None).reserved_concurrency == 40
    assert needs(PROD, PROD) == needs(DEV, DEV)
    assert needs(PROD, PROD).elastic_ips == 0 and needs(PROD, PROD).reserved_concurrency == 0


def test_enough_of_everything_passes(clients):
    _lambda(clients, 1000, 1000)
    _eips(clients, 5, 3)
    _vpcs(clients, 2, quota=5)
    check_quotas(clients, PROD, None, console())


def test_reservations_below_the_unreserved_minimum_stop_the_deploy(clients):
    _lambda(clients, 1000, 120)  # prod reserves 40, dev none: 120 - 40 = 80 < 100
    _eips(clients, 5, 0)  # prod's second NAT gateway
    with pytest.raises(DeployFailed) as failed:
        check_quotas(clients, PROD, DEV, console())
    text = str(failed.value)
    assert "reserves 40 more executions" in text and "120 unreserved of 1000" in text
    assert "at least 100 unreserved" in text and "to at least 1020" in text
    assert "nothing was created" in text


def test_a_new_account_with_ten_executions_can_reserve_nothing(clients):
    _lambda(clients, 10, 10)
    _eips(clients, 5, 0)
    with pytest.raises(DeployFailed, match="10 unreserved of 10, and AWS keeps at least 10"):
        check_quotas(clients, PROD, DEV, console())


def test_lowering_reservations_needs_no_lookup(clients):
    check_quotas(clients, DEV, PROD, console())  # fewer NATs, less reserved: nothing to check


def test_elastic_ips_and_vpcs_each_named(clients):
    _lambda(clients, 1000, 1000)
    _eips(clients, 5, 4)
    _vpcs(clients, 5)  # quota unreadable: AWS's default 5
    with pytest.raises(DeployFailed) as failed:
        check_quotas(clients, PROD, None, console())
    text = str(failed.value)
    assert "Elastic IPs: the NAT gateways need 2 more; 4 of 5 are allocated" in text
    assert "VPCs: this stack creates 1; 5 of 5 (AWS's default" in text


def test_a_custom_endpoint_skips_with_one_line(clients):
    clients.target.endpoint_url = "http://127.0.0.1:5000"
    out = console()
    preflight(clients, json.dumps(PROD), None, out)
    assert out.text == "Quota pre-flight skipped: http://127.0.0.1:5000 is not AWS.\n"
