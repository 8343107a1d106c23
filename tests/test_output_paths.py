"""output_paths.py: every path a command will write is proven writable before anything changes."""

import os
import threading

import pytest

from infragen.errors import UsageError
from infragen.output_paths import require_writable_dir, require_writable_file


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(UsageError, match="is a folder"):
        require_writable_file(tmp_path, "--outputs-file")


def test_a_kernel_file_that_refuses_writes_is_refused():
    with pytest.raises(UsageError, match="/proc/version cannot be written") as error:
        require_writable_file(__import__("pathlib").Path("/proc/version"), "--outputs-file")
    assert error.value.exit_code == 2


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(UsageError, match=r"folder .*nope does not exist"):
        require_writable_file(tmp_path / "nope" / "out.json", "--outputs-file")


def test_a_file_below_a_file_is_refused(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(UsageError, match="plain"):
        require_writable_file(tmp_path / "plain" / "out.json", "--outputs-file")


def test_a_folder_without_write_permission_is_refused(tmp_path, monkeypatch):
    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", denied)
    with pytest.raises(UsageError, match="cannot be written: Permission denied"):
        require_writable_file(tmp_path / "out.json", "--outputs-file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file modes")
def test_a_read_only_file_is_refused(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("{}")
    target.chmod(0o444)
    with pytest.raises(UsageError, match="cannot be written"):
        require_writable_file(target, "--outputs-file")


def test_a_pipe_nobody_reads_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done = []
    worker = threading.Thread(target=lambda: done.append(_refused(fifo)), daemon=True)
    worker.start()
    worker.join(5)
    assert done == [True]


def _refused(path) -> bool:
    try:
        require_writable_file(path, "--outputs-file")
    except UsageError:
        return True
    return False


def test_writable_paths_pass_and_nothing_is_created_or_truncated(tmp_path):
    existing = tmp_path / "old.json"
    existing.write_text("keep")
    require_writable_file(existing, "--outputs-file")
    require_writable_file(tmp_path / "new.json", "--outputs-file")
    assert existing.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"]


def test_an_output_folder_must_be_a_folder_or_creatable(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(UsageError, match="is not a folder"):
        require_writable_dir(tmp_path / "plain" / "zips", "--out")
    with pytest.raises(UsageError, match="is not a folder"):
        require_writable_dir(tmp_path / "plain", "--out")
    require_writable_dir(tmp_path / "new" / "zips", "--out")
    assert not (tmp_path / "new").exists()
