"""A package's install stamp: found without importing it, changed by a reinstall."""

from __future__ import annotations

import os
import sys

from infragen.installed import package_stamp


def test_the_stamp_changes_with_the_installed_files_and_imports_nothing(tmp_path, monkeypatch):
    package = tmp_path / "stamped_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")  # importing it would fail
    monkeypatch.syspath_prepend(str(tmp_path))
    first = package_stamp("stamped_pkg")
    assert first == package_stamp("stamped_pkg") and "stamped_pkg" not in sys.modules
    stat = (package / "__init__.py").stat()
    os.utime(package / "__init__.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # reinstalled
    assert package_stamp("stamped_pkg") != first
    assert package_stamp("no_such_package_here") == "no_such_package_here:absent"


def test_loading_the_config_does_not_import_importlib_metadata():
    import subprocess

    code = ("import sys, pathlib; from infragen.config import load_config; "
            "load_config(pathlib.Path('infragen.toml')); print('importlib.metadata' in sys.modules)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
