"""IAM actions looked up in the Service Authorization Reference data."""

import pytest

from infragen.iam_catalog import lookup


def test_action_is_found_case_insensitively_and_spelled_as_aws_does():
    info = lookup("S3:getobject")
    assert info.full_name == "s3:GetObject" and info.supports_resource_scoping
    assert "object" in info.resource_types


@pytest.mark.parametrize("action", ["s3:ListAllMyBuckets", "sts:GetCallerIdentity", "xray:PutTraceSegments"])
def test_actions_that_support_only_star(action):
    info = lookup(action)
    assert info is not None and not info.supports_resource_scoping and info.resource_types == ()


@pytest.mark.parametrize("action", ["dynamodb:Query", "kms:Decrypt", "lambda:InvokeFunction",
                                    "ssm:GetParameter", "sns:Publish"])
def test_actions_with_resource_level_permissions(action):
    assert lookup(action).supports_resource_scoping


@pytest.mark.parametrize("action", ["s3:GetObjekt", "nosuch:Thing", "s3:", "s3", ":GetObject", "",
                                    "s3:Get*", "s3:GetObject:x", "s3 :GetObject"])
def test_unknown_actions_are_none(action):
    assert lookup(action) is None


def test_the_per_service_cache_reads_what_the_whole_file_says(tmp_path, monkeypatch):
    from infragen import iam_catalog

    def fresh(cache_home):
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
        iam_catalog._cache_dir.cache_clear()
        iam_catalog._Database.get.cache_clear()

    try:
        fresh(tmp_path)
        cached = [iam_catalog.lookup(a) for a in ("s3:GetObject", "logs:DescribeLogGroups", "kms:decrypt")]
        assert [f.name for f in (tmp_path / "infragen").iterdir()][0].startswith("iam-definition-")
        blocked = tmp_path / "file"
        blocked.write_text("not a folder")
        fresh(blocked)  # the cache cannot be written: the whole file is read instead
        assert iam_catalog._cache_dir() is None
        assert [iam_catalog.lookup(a) for a in ("s3:GetObject", "logs:DescribeLogGroups", "kms:decrypt")] == cached
        assert cached[1].resource_types == () and cached[2].name == "Decrypt"
    finally:
        monkeypatch.undo()
        iam_catalog._cache_dir.cache_clear()
        iam_catalog._Database.get.cache_clear()
