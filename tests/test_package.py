"""Reproducible Lambda zips and their upload to S3 (over HTTP to the moto server)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path

import botocore.session
import pytest
from botocore.stub import Stubber

from infragen.console import Console
from infragen.errors import AwsError, UsageError
from infragen.package import build_zip, empty_bucket, upload, upload_all

REPO_LAMBDA_SRC = Path(__file__).resolve().parents[1] / "lambda_src"
BUCKET = "artifacts-bucket"
TREE = {
    "hello/handler.py": "from common import greet\n\n\ndef handler(event, context):\n    return greet()\n",
    "hello/lib/util.py": "X = 1\n",
    "hello/__pycache__/handler.cpython-311.pyc": "junk",
    "hello/stale.pyc": "junk",
    "hello/.DS_Store": "junk",
    "common/__init__.py": "def greet():\n    return 'hi'\n",
    "common/__pycache__/__init__.cpython-311.pyc": "junk",
    "common/.env": "SECRET=1\n",
    "other/handler.py": "handler = print\n",
}


def make_tree(root: Path) -> Path:
    for name, text in TREE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def source(tmp_path) -> Path:
    return make_tree(tmp_path / "lambda_src")


def names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_layout_puts_function_at_root_and_common_beside_it(source):
    artifact = build_zip(source / "hello", [source / "common"], "hello")
    assert names(artifact.data) == [
        "common/",
        "common/__init__.py",
        "handler.py",
        "lib/",
        "lib/util.py",
    ]


def test_entries_have_fixed_time_normalised_modes_and_deflate(source):
    archive = zipfile.ZipFile(io.BytesIO(build_zip(source / "hello", [source / "common"], "hello").data))
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        if info.is_dir():
            assert info.external_attr >> 16 == 0o040755
        else:
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_same_files_give_same_bytes_whatever_their_mtimes_modes_and_location(source, tmp_path):
    first = build_zip(source / "hello", [source / "common"], "hello")
    copy = Path(shutil.copytree(source, tmp_path / "elsewhere" / "src"))
    for path in copy.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
        path.chmod(0o700 if path.is_dir() else 0o600)
    second = build_zip(copy / "hello", [copy / "common"], "hello")
    assert second.data == first.data
    assert second.sha256 == first.sha256 == build_zip(source / "hello", [source / "common"], "hello").sha256


def test_content_change_changes_hash(source):
    before = build_zip(source / "hello", [source / "common"], "hello")
    (source / "common" / "__init__.py").write_text("def greet():\n    return 'hello'\n")
    assert build_zip(source / "hello", [source / "common"], "hello").sha256 != before.sha256


def test_artifact_key_hash_and_size(source):
    artifact = build_zip(source / "other", [source / "common"], "other", prefix="/builds/lambda/")
    assert artifact.sha256 == hashlib.sha256(artifact.data).hexdigest()
    assert artifact.size == len(artifact.data)
    assert artifact.key == f"builds/lambda/other/{artifact.sha256}.zip"
    assert artifact.function == "other"
    assert "data" not in repr(artifact)


def test_missing_function_folder_names_the_path(source):
    with pytest.raises(UsageError, match=str(source / "nope")):
        build_zip(source / "nope", [source / "common"], "nope")


def test_function_folder_may_not_shadow_the_shared_package(source):
    (source / "other" / "common").mkdir()
    with pytest.raises(UsageError, match="clashes"):
        build_zip(source / "other", [source / "common"], "other")


@pytest.mark.skipif(not (REPO_LAMBDA_SRC / "hello").is_dir(), reason="no lambda_src/hello in this checkout")
def test_repository_sources_build_reproducibly():
    first, second = build_zip(REPO_LAMBDA_SRC / "hello", [REPO_LAMBDA_SRC / "common"], "hello"), build_zip(REPO_LAMBDA_SRC / "hello", [REPO_LAMBDA_SRC / "common"], "hello")
    assert first.data == second.data
    assert {"handler.py", "common/__init__.py"} <= set(names(first.data))


@pytest.fixture
def s3(aws_clients):
    aws_clients.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    return aws_clients.s3


def count_puts(s3) -> list:
    puts = []
    s3.meta.events.register("before-call.s3.PutObject", lambda **kwargs: puts.append(kwargs))
    return puts


def test_upload_once_then_skip_with_sse_kms(s3, source):
    artifact = build_zip(source / "hello", [source / "common"], "hello")
    puts = count_puts(s3)
    assert upload(s3, BUCKET, artifact) is True
    assert upload(s3, BUCKET, artifact) is False
    assert len(puts) == 1
    head = s3.head_object(Bucket=BUCKET, Key=artifact.key)
    assert head["ServerSideEncryption"] == "aws:kms"  # as the bootstrap bucket's default encryption says
    assert head["ContentType"] == "application/zip"
    assert head["ContentLength"] == artifact.size


def test_upload_to_missing_bucket(aws_clients, source):
    with pytest.raises(AwsError, match="'no-such-bucket' does not exist"):
        upload(aws_clients.s3, "no-such-bucket", build_zip(source / "hello", [source / "common"], "hello"))


@pytest.fixture
def stubbed_s3():
    client = botocore.session.get_session().create_client(
        "s3", region_name="us-west-2", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber


def test_access_denied_on_head_names_bucket_and_permissions(stubbed_s3, source):
    client, stubber = stubbed_s3
    stubber.add_client_error("head_object", "403", "Forbidden", http_status_code=403)
    with pytest.raises(AwsError) as caught:
        upload(client, BUCKET, build_zip(source / "hello", [source / "common"], "hello"))
    assert BUCKET in str(caught.value) and "s3:ListBucket" in str(caught.value)


def test_access_denied_on_put_names_the_permissions(stubbed_s3, source):
    client, stubber = stubbed_s3
    stubber.add_client_error("head_object", "404", "Not Found", http_status_code=404)
    stubber.add_client_error("put_object", "AccessDenied", "Access Denied", http_status_code=403)
    with pytest.raises(AwsError) as caught:
        upload(client, BUCKET, build_zip(source / "hello", [source / "common"], "hello"))
    assert "s3:PutObject" in str(caught.value) and "kms:GenerateDataKey" in str(caught.value)


def test_upload_all_reports_each_function(s3, source):
    out = io.StringIO()
    artifacts = {name: build_zip(source / name, [source / "common"], name) for name in ("hello", "other")}
    assert upload_all(s3, BUCKET, artifacts, Console(out=out)) == 2
    assert upload_all(s3, BUCKET, artifacts, Console(out=out)) == 0
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0].strip() for line in lines] == ["hello", "other", "hello", "other"]
    assert ["uploaded" in line for line in lines] == [True, True, False, False]
    assert artifacts["hello"].sha256[:12] in lines[0]


def test_empty_bucket_deletes_every_version_and_delete_marker(s3, source):
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for text in ("one", "two"):
        s3.put_object(Bucket=BUCKET, Key="k", Body=text.encode())
    s3.delete_object(Bucket=BUCKET, Key="k")  # a delete marker
    assert empty_bucket(s3, BUCKET) == 3
    assert "Versions" not in s3.list_object_versions(Bucket=BUCKET)
    s3.delete_bucket(Bucket=BUCKET)


def test_empty_bucket_reports_the_versions_s3_refused(stubbed_s3):
    client, stubber = stubbed_s3
    stubber.add_response("list_object_versions", {"Versions": [{"Key": "k", "VersionId": "v1"}]})
    stubber.add_response("delete_objects", {"Errors": [{"Key": "k", "VersionId": "v1", "Code": "AccessDenied",
                                                        "Message": "Access Denied"}]})
    with pytest.raises(AwsError, match="1 object version.s. refused, e.g. k: AccessDenied") as caught:
        empty_bucket(client, BUCKET)
    assert "s3:DeleteObjectVersion" in caught.value.hint


def test_empty_bucket_turns_botocore_errors_into_aws_errors(stubbed_s3):
    client, stubber = stubbed_s3
    stubber.add_client_error("list_object_versions", "NoSuchBucket", "The specified bucket does not exist")
    with pytest.raises(AwsError, match=f"Emptying s3://{BUCKET} failed"):
        empty_bucket(client, BUCKET)


# --- the zip must be able to serve its handler (H2, M1) --------------------------------------------


@pytest.mark.parametrize("break_it, expected", [
    (lambda src: (src / "hello" / "handler.py").unlink(), "handler module 'handler' is missing"),
    (lambda src: shutil.rmtree(src / "common"), "cannot import 'common'"),
    (lambda src: (src / "common" / "__init__.py").write_text("def greet(:\n"), "__init__.py:1: SyntaxError"),
    (lambda src: (src / "common" / "__init__.py").write_text("def welcome():\n    pass\n"),
     "cannot import 'greet' from 'common'"),
    (lambda src: (src / "hello" / "lib" / "util.py").write_text("import yaml\n"), "util.py:1: cannot import 'yaml'"),
    (lambda src: (src / "hello" / "handler.py").write_text("from common import greet\n"),
     "defines no top-level 'handler'"),
])
def test_a_zip_that_cannot_serve_its_handler_is_refused_naming_file_line_and_module(source, break_it, expected):
    break_it(source)
    with pytest.raises(UsageError) as caught:
        build_zip(source / "hello", [source / "common"], "hello", runtime="python3.12")
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert expected in message and "Function 'hello' cannot serve its handler 'handler.handler'" in message
    assert str(source) in message  # the file is named by its path in lambda_src/
    assert "nothing was uploaded" in message and "try/except ImportError" in caught.value.hint


def test_extra_entries_join_the_zip_and_satisfy_its_imports(source):
    (source / "hello" / "handler.py").write_text("import vendored\n" + TREE["hello/handler.py"])
    with pytest.raises(UsageError, match="cannot import 'vendored'"):
        build_zip(source / "hello", [source / "common"], "hello")
    artifact = build_zip(source / "hello", [source / "common"], "hello", extra_entries={"vendored/__init__.py": b"import json\n"})
    assert {"vendored/", "vendored/__init__.py"} <= set(names(artifact.data))
    assert names(artifact.data) == sorted(names(artifact.data))
    with pytest.raises(UsageError, match="clash"):
        build_zip(source / "hello", [source / "common"], "hello", extra_entries={"handler.py": b""})


def test_the_example_functions_pass_for_their_runtime():
    for function in ("hello", "data_processor"):
        build_zip(REPO_LAMBDA_SRC / function, [REPO_LAMBDA_SRC / "common"], function, runtime="python3.12")


# --- nothing under lambda_src is dropped silently or hangs the build (M2, M3) ---------------------


def test_symlinks_inside_the_project_are_followed_and_zipped_as_their_content(source):
    shared = source.parent / "vendor" / "helpers"
    shared.mkdir(parents=True)
    (shared / "tool.py").write_text("T = 1\n")
    (source / "hello" / "helpers").symlink_to(shared, target_is_directory=True)
    (source / "hello" / "linked_util.py").symlink_to(source / "hello" / "lib" / "util.py")
    zipped = zipfile.ZipFile(io.BytesIO(build_zip(source / "hello", [source / "common"], "hello").data))
    assert {"helpers/", "helpers/tool.py", "linked_util.py"} <= set(zipped.namelist())
    assert zipped.read("linked_util.py") == b"X = 1\n"
    assert zipped.getinfo("helpers/tool.py").external_attr >> 16 == 0o100644


@pytest.mark.parametrize("make_link, expected", [
    (lambda src, outside: (src / "hello" / "ext").symlink_to(outside, target_is_directory=True), "outside the project"),
    (lambda src, outside: (src / "hello" / "lib" / "secret.txt").symlink_to(outside / "secret.txt"),
     "outside the project"),
    (lambda src, outside: (src / "hello" / "lib" / "loop").symlink_to(src / "hello", target_is_directory=True),
     "a loop"),
    (lambda src, outside: (src / "hello" / "self").symlink_to(src / "hello" / "self"), "cannot be resolved"),
    (lambda src, outside: (src / "hello" / "dangling.py").symlink_to(src / "hello" / "gone.py"), "does not exist"),
])
def test_symlinks_that_leave_the_project_loop_or_dangle_are_refused(source, tmp_path_factory, make_link, expected):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("s3cret")
    make_link(source, outside)
    with pytest.raises(UsageError, match=expected) as caught:
        build_zip(source / "hello", [source / "common"], "hello")
    assert str(source / "hello") in str(caught.value)


@pytest.mark.parametrize("where", ["hello/pipe", "common/sub/pipe.py"])
def test_a_fifo_is_refused_by_name_instead_of_hanging(source, where):
    (source / where).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(source / where)
    with pytest.raises(UsageError, match=r"is a FIFO, not a regular file") as caught:
        build_zip(source / "hello", [source / "common"], "hello")
    assert str(source / where) in str(caught.value)


def test_a_socket_is_refused_by_name(source):
    import socket

    path = source / "hello" / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(UsageError, match=r"s\.sock is a socket"):
            build_zip(source / "hello", [source / "common"], "hello")


def test_a_file_that_turns_special_between_listing_and_reading_is_refused(source, monkeypatch):
    # The listing saw a regular file; what gets opened is a FIFO: the non-blocking open finds out.
    fifo = source / "hello" / "late.txt"
    os.mkfifo(fifo)
    import infragen.package as package

    real_target = package._target
    monkeypatch.setattr(package, "_target", lambda path, roots: (
        (0o100644, (0, 0), 1) if path == fifo else real_target(path, roots)))
    with pytest.raises(UsageError, match="late.txt is a FIFO"):
        build_zip(source / "hello", [source / "common"], "hello")


@pytest.mark.parametrize("blocked", ["hello/lib", "hello/lib/util.py", "common/__init__.py"])
def test_unreadable_folders_and_files_are_an_error_not_a_gap(source, monkeypatch, blocked):
    # Simulated: the tests may run as root, for whom chmod 000 blocks nothing.
    target = source / blocked
    real_scandir, real_open = os.scandir, os.open

    def scandir(path):
        if Path(path) == target:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    def open_(path, flags, *args):
        if Path(path) == target:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "open", open_)
    with pytest.raises(UsageError, match=f"Cannot read {target}: Permission denied") as caught:
        build_zip(source / "hello", [source / "common"], "hello")
    assert "never leaves files out" in caught.value.hint


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads whatever chmod says")
def test_a_really_unreadable_folder_is_an_error(source):
    locked = source / "hello" / "lib"
    locked.chmod(0)
    try:
        with pytest.raises(UsageError, match="Cannot read"):
            build_zip(source / "hello", [source / "common"], "hello")
    finally:
        locked.chmod(0o755)


# --- Lambda's unzipped size limit, checked before anything is read (L6) --------------------------


def test_a_function_above_lambdas_unzipped_limit_is_refused_before_reading(source, monkeypatch):
    big = source / "hello" / "data" / "model.bin"
    big.parent.mkdir()
    with open(big, "wb") as handle:  # sparse: 250 MiB + 1 byte without writing them
        handle.truncate(262_144_000 + 1)
    import infragen.package as package

    monkeypatch.setattr(package, "_read", lambda path: pytest.fail(f"read {path} before the size check"))
    with pytest.raises(UsageError) as caught:
        build_zip(source / "hello", [source / "common"], "hello")
    message = str(caught.value)
    assert "Function 'hello' is 250.0 MiB unzipped; Lambda accepts at most 250.0 MiB" in message
    assert "Biggest files: data/model.bin (250.0 MiB)" in message
    assert caught.value.exit_code == 2


def test_extra_entries_count_towards_the_limit(source, monkeypatch):
    import infragen.package as package

    monkeypatch.setattr(package, "check_unzipped_size",
                        lambda sizes, what: f"{what}: {sum(sizes.values())}" if "dep/big.so" in sizes else None)
    with pytest.raises(UsageError, match="Function 'hello': "):
        build_zip(source / "hello", [source / "common"], "hello", extra_entries={"dep/big.so": b"x" * 10})


@pytest.mark.parametrize("name", ["../escape.py", "/abs.py", "a//b.py", "a/./b.py", "a\\b.py", ""])
def test_added_entries_must_be_relative_paths_inside_the_zip(source, name):
    with pytest.raises(UsageError, match="not a relative path inside the zip"):
        build_zip(source / "hello", [source / "common"], "hello", extra_entries={name: b"x = 1\n"})


def test_added_files_need_content_and_added_folders_may_be_empty(source):
    with pytest.raises(UsageError, match="'lib2/x.py' has no content"):
        build_zip(source / "hello", [source / "common"], "hello", extra_entries={"lib2/x.py": None})
    assert "data/" in names(build_zip(source / "hello", [source / "common"], "hello", extra_entries={"data/": None}).data)


def test_a_verified_content_is_not_analysed_again_but_any_change_is(tmp_path, monkeypatch):
    import infragen.package as package

    source = tmp_path / "lambda_src"
    shutil.copytree(REPO_LAMBDA_SRC, source, ignore=shutil.ignore_patterns("__pycache__"))
    verified = tmp_path / "verified"
    first = build_zip(source / "hello", [source / "common"], "hello", verified_dir=verified)
    assert len(list(verified.iterdir())) == 1
    monkeypatch.setattr(package, "verify_zip_entries", lambda *a, **k: pytest.fail("analysed again"))
    assert build_zip(source / "hello", [source / "common"], "hello", verified_dir=verified).sha256 == first.sha256
    (source / "hello" / "handler.py").write_text("import nowhere_to_be_found\n")
    with pytest.raises(pytest.fail.Exception, match="analysed again"):
        build_zip(source / "hello", [source / "common"], "hello", verified_dir=verified)
