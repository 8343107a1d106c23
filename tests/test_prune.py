"""Issue 9 #11: `infragen prune` deletes the artifacts no deployed stack references, after showing
them (end to end against the emulator; the selection rules also with fixed clocks)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.test_deploy_integration import (  # noqa: F401  (fixtures)
    BUCKET,
    api_log,
    bucket_objects,
    deploy,
    project,
    run_cli,
)


def test_prune_keeps_what_stacks_reference_and_deletes_the_rest(project, moto_endpoint, aws_clients,
                                                                  api_log):
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    first = set(bucket_objects(aws_clients))
    handler = project.parent / "lambda_src" / "hello" / "handler.py"
    handler.write_text(handler.read_text() + "\n# a code-only change\n")
    assert deploy(api_log, project, moto_endpoint).exit_code == 0
    second = set(bucket_objects(aws_clients))
    stale = next(k for k in first if "/hello/" in k)  # replaced by the new hello zip
    assert stale in second and len(second) == len(first) + 1
    live = second - {stale}
    base = ["prune", "--config", str(project), "--endpoint-url", moto_endpoint]

    young = run_cli(api_log, *base, "--yes")  # default: keep what is younger than 30 days
    assert young.exit_code == 0 and "Nothing to prune" in young.output
    assert set(bucket_objects(aws_clients)) == second

    asked = run_cli(api_log, *base, "--older-than", "0")  # no terminal, no --yes: refused
    assert asked.exit_code == 4, asked.output
    assert stale in asked.output and not any(k in asked.output for k in live)
    assert "nothing was deleted" in asked.output
    assert set(bucket_objects(aws_clients)) == second

    pruned = run_cli(api_log, *base, "--older-than", "0", "--yes")
    assert pruned.exit_code == 0, pruned.output
    assert "Deleted 1 object version(s)" in pruned.output
    assert set(bucket_objects(aws_clients)) == live
    assert pruned.count("DeleteObjects") == 1

    again = run_cli(api_log, *base, "--older-than", "0", "--yes")
    assert again.exit_code == 0 and "Nothing to prune" in again.output


def test_candidates_honour_the_age_and_the_references():
    from infragen.prune import candidates

    now = datetime(2026, 11, 30, tzinfo=timezone.utc)

    class S3:
        def get_paginator(self, name):
            assert name == "list_object_versions"
            return self

        def paginate(self, Bucket, Prefix):
            assert Prefix == "infragen/"
            yield {"Versions": [
                {"Key": "infragen/hello/old.zip", "VersionId": "v1", "Size": 10,
                 "LastModified": now - timedelta(days=40)},
                {"Key": "infragen/hello/live.zip", "VersionId": "v2", "Size": 10,
                 "LastModified": now - timedelta(days=40)},
                {"Key": "infragen/hello/new.zip", "VersionId": "v3", "Size": 10,
                 "LastModified": now - timedelta(days=2)},
            ]}

    found = candidates(S3(), BUCKET, "infragen", {"infragen/hello/live.zip"}, 30, now=now)
    assert [(c.key, c.version_id) for c in found] == [("infragen/hello/old.zip", "v1")]
