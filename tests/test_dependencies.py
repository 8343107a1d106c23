"""requirements.txt installed for a Lambda target by pip, from wheels the tests write (no network)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infragen import dependencies
from infragen.dependencies import (
    LAMBDA_UNZIPPED_LIMIT, DependencyError, PackageTooLarge, PipSettings, cache_key, check_conflicts,
    check_unzipped_size, install_for_lambda, install_for_local, lambda_target, unzipped_size,
)
from infragen.errors import EXIT_FAILED, EXIT_USAGE, UsageError
from tests.wheels import write_wheel


# A Lambda Python version other than the one running the tests: markers on it are false here.
OTHER_PYTHON = "3.13" if sys.version_info[:2] != (3, 13) else "3.12"
OTHER_RUNTIME = f"python{OTHER_PYTHON}"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    write_wheel(folder, "tinydep", "1.0", scripts={"tinycli": "tinydep:main"})
    write_wheel(folder, "tinydep", "1.1")
    write_wheel(folder, "needy", "1.0", requires=["missingdep>=2"])
    write_wheel(folder, "natdep", "1.0", tag="cp312-cp312-manylinux2014_x86_64",
                files={"natdep/__init__.py": "NATIVE = True\n"})
    write_wheel(folder, "newglibc", "1.0", tag="cp39-abi3-manylinux_2_28_aarch64",
                files={"newglibc/__init__.py": "NATIVE = True\n"})
    write_wheel(folder, "common", "1.0", files={"common/__init__.py": ""})
    write_wheel(folder, "itemsdist", "1.0", files={"items.py": "X = 1\n"})
    write_wheel(folder, "shim", "1.0")
    write_wheel(folder, "modern", "1.0", requires=[f'shim>=1; python_version == "{OTHER_PYTHON}"'])
    write_wheel(folder, "optional", "1.0", requires=[f'shim; extra == "fast" and python_version == "{OTHER_PYTHON}"'])
    return folder


@pytest.fixture
def pip(wheels, tmp_path) -> PipSettings:
    """pip with this machine's config shut out, reading only the test's wheels."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    environ.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels),
                   PIP_DISABLE_PIP_VERSION_CHECK="1")
    return PipSettings.from_environment(environ)


@pytest.fixture
def pip_calls(monkeypatch) -> list[list[str]]:
    """Every command the module runs (the real pip still runs)."""
    calls: list[list[str]] = []
    real = subprocess.run

    def counting(command, *args, **kwargs):
        calls.append(list(command))
        return real(command, *args, **kwargs)

    monkeypatch.setattr(dependencies.subprocess, "run", counting)
    return calls


def requirements(tmp_path: Path, text: str, name: str = "fn") -> Path:
    path = tmp_path / name / "requirements.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def contents(entries) -> dict[str, bytes | None]:
    return {name: None if value is None else value.read_bytes() for name, value in entries.items()}


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_pure_wheel_installs_for_either_architecture(tmp_path, pip, architecture):
    installed = install_for_lambda(requirements(tmp_path, "tinydep==1.0\n"), runtime="python3.12",
                                   architecture=architecture, cache_dir=tmp_path / "deps", pip=pip)
    entries = installed.entries
    assert entries["tinydep/"] is None
    assert entries["tinydep/__init__.py"].read_text() == "VERSION = '1.0'\n"
    assert "tinydep-1.0.dist-info/METADATA" in entries
    assert not [name for name in entries if name.startswith("bin/") or "__pycache__" in name or name.endswith(".pyc")]
    assert installed.directory.parent.parent == tmp_path / "deps"
    assert installed.owners == {"tinydep/": "tinydep"}
    assert installed.pip_ran


def test_cache_hit_runs_no_pip_and_takes_milliseconds(tmp_path, pip, pip_calls):
    reqs = requirements(tmp_path, "tinydep==1.0\n")
    first = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "deps", pip=pip)
    assert len(pip_calls) == 1

    again = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "deps",
                               pip=PipSettings.from_environment(pip.env))

    assert len(pip_calls) == 1  # its speed is bench/bench_deps.py's to measure
    assert not again.pip_ran
    assert contents(again.entries) == contents(first.entries)


def test_changed_requirements_install_again(tmp_path, pip, pip_calls):
    reqs = requirements(tmp_path, "tinydep==1.0\n")
    first = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "deps", pip=pip)
    reqs.write_text("tinydep==1.1\n")
    second = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "deps", pip=pip)
    assert len(pip_calls) == 2
    assert second.digest != first.digest
    assert second.entries["tinydep/__init__.py"].read_text() == "VERSION = '1.1'\n"
    assert first.entries["tinydep/__init__.py"].read_text() == "VERSION = '1.0'\n"  # the old entry is intact


def test_key_covers_target_includes_and_index_settings_only(tmp_path, pip):
    reqs = requirements(tmp_path, "-r base.txt\n")
    (reqs.parent / "base.txt").write_text("tinydep\n")
    arm = lambda_target("python3.12", "arm64")
    key = cache_key(reqs, arm, pip)

    assert cache_key(reqs, lambda_target("python3.12", "x86_64"), pip) != key
    assert cache_key(reqs, lambda_target("python3.13", "arm64"), pip) != key
    assert cache_key(reqs, arm, PipSettings.from_environment({**pip.env, "PIP_DEFAULT_TIMEOUT": "5"})) == key
    assert cache_key(reqs, arm, PipSettings.from_environment(
        {**pip.env, "PIP_EXTRA_INDEX_URL": "https://user:token@example.invalid/simple"})) != key
    (reqs.parent / "base.txt").write_text("tinydep==1.1\n")  # an included file changed
    assert cache_key(reqs, arm, pip) != key


def test_key_covers_pip_config_files_and_the_constraints_they_name(tmp_path, pip):
    reqs = requirements(tmp_path, "tinydep\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("tinydep<2\n")
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nconstraint = {constraints}\n")
    settings = PipSettings.from_environment({**pip.env, "PIP_CONFIG_FILE": str(config)})
    arm = lambda_target("python3.12", "arm64")
    key = cache_key(reqs, arm, settings)

    constraints.write_text("tinydep<1.1\n")
    assert cache_key(reqs, arm, PipSettings.from_environment(settings.env)) != key
    config.write_text(f"[global]\nconstraint = {constraints}\nextra-index-url = https://example.invalid/simple\n")
    assert cache_key(reqs, arm, PipSettings.from_environment(settings.env)) != key
    assert "token" not in repr(PipSettings.from_environment({**pip.env, "PIP_INDEX_URL": "https://u:token@x/"}))


def test_unknown_package_fails_naming_package_and_platform(tmp_path, pip):
    with pytest.raises(DependencyError) as caught:
        install_for_lambda(requirements(tmp_path, "tinydep\nno-such-package>=1\n"), runtime="python3.12",
                           architecture="arm64", cache_dir=tmp_path / "deps", pip=pip)
    message = str(caught.value)
    assert caught.value.exit_code == EXIT_FAILED
    assert "no-such-package" in message and "python3.12 arm64" in message and "aarch64" in message
    assert not [p for p in (tmp_path / "deps").iterdir()]  # nothing cached, no temporary left


def test_platform_wheel_installs_for_its_architecture_only(tmp_path, pip):
    reqs = requirements(tmp_path, "natdep\n")
    installed = install_for_lambda(reqs, runtime="python3.12", architecture="x86_64", cache_dir=tmp_path / "d", pip=pip)
    assert installed.entries["natdep/__init__.py"].read_text() == "NATIVE = True\n"
    with pytest.raises(DependencyError, match=r"natdep .*python3\.12 arm64 .*aarch64"):
        install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "d", pip=pip)
    with pytest.raises(DependencyError, match=r"natdep .*python3\.13 x86_64"):  # a cp312 wheel is not for 3.13
        install_for_lambda(reqs, runtime="python3.13", architecture="x86_64", cache_dir=tmp_path / "d", pip=pip)


def test_newer_manylinux_and_abi3_tags_follow_the_runtime_glibc(tmp_path, pip):
    reqs = requirements(tmp_path, "newglibc\n")
    installed = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "d", pip=pip)
    assert "newglibc/__init__.py" in installed.entries  # manylinux_2_28 on Amazon Linux 2023 (glibc 2.34)
    with pytest.raises(DependencyError, match=r"newglibc .*python3\.11 arm64 .*glibc 2\.26"):
        install_for_lambda(reqs, runtime="python3.11", architecture="arm64", cache_dir=tmp_path / "d", pip=pip)


def test_missing_transitive_requirement_names_who_needs_it(tmp_path, pip):
    with pytest.raises(DependencyError, match=r"missingdep \(needed by needy\) for Lambda python3\.12 x86_64"):
        install_for_lambda(requirements(tmp_path, "needy\n"), runtime="python3.12", architecture="x86_64",
                           cache_dir=tmp_path / "d", pip=pip)


def test_unavailable_version_lists_the_versions_there_are(tmp_path, pip):
    with pytest.raises(DependencyError, match=r"tinydep .*'tinydep==3\.0'.*versions with a wheel for that platform: 1\.0, 1\.1"):
        install_for_lambda(requirements(tmp_path, "tinydep==3.0\n"), runtime="python3.12", architecture="arm64",
                           cache_dir=tmp_path / "d", pip=pip)


def test_invalid_requirement_line_is_bad_input(tmp_path, pip):
    with pytest.raises(UsageError, match="invalid requirement") as caught:
        install_for_lambda(requirements(tmp_path, "tinydep and more\n"), runtime="python3.12", architecture="arm64",
                           cache_dir=tmp_path / "d", pip=pip)
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(("runtime", "architecture"), [("nodejs20.x", "arm64"), ("python3.12", "aarch64")])
def test_unusable_runtime_or_architecture_is_bad_input(tmp_path, pip, runtime, architecture):
    with pytest.raises(UsageError):
        install_for_lambda(requirements(tmp_path, "tinydep\n"), runtime=runtime, architecture=architecture,
                           cache_dir=tmp_path / "d", pip=pip)


def test_pip_command_selects_the_lambda_platform_and_keeps_secrets_out_of_argv(tmp_path, pip, pip_calls):
    settings = PipSettings.from_environment({**pip.env, "PIP_EXTRA_INDEX_URL": "https://u:s3cret@example.invalid/"})
    install_for_lambda(requirements(tmp_path, "tinydep\n"), runtime="python3.13", architecture="arm64",
                       cache_dir=tmp_path / "d", pip=settings)
    (command,) = pip_calls
    assert command[:5] == [sys.executable, "-P", "-m", "pip", "install"]
    assert "s3cret" not in " ".join(command)
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms[0] == "manylinux_2_34_aarch64" and platforms[-1] == "manylinux2014_aarch64"
    assert "manylinux_2_28_aarch64" in platforms and "manylinux_2_17_aarch64" in platforms
    for option, value in [("--python-version", "3.13"), ("--implementation", "cp"), ("--abi", "cp313")]:
        assert command[command.index(option) + 1] == value
    assert "--only-binary=:all:" in command and "--no-compile" in command


def test_same_requirements_give_identical_entries_in_any_cache(tmp_path, pip, wheels):
    """pip records absolute paths (direct_url.json of a wheel given by path) and writes bin/ scripts; none is kept."""
    installs = []
    for folder, cache in [("one", tmp_path / "a"), ("two", tmp_path / "elsewhere" / "b")]:
        reqs = requirements(tmp_path, "tinydep==1.0\nnatdep\n./vendor/shim-1.0-py3-none-any.whl\n", name=folder)
        (reqs.parent / "vendor").mkdir()
        shutil.copy(wheels / "shim-1.0-py3-none-any.whl", reqs.parent / "vendor")
        installs.append(install_for_lambda(reqs, runtime="python3.12", architecture="x86_64", cache_dir=cache, pip=pip))
    one, two = installs
    assert one.pip_ran and two.pip_ran and one.digest == two.digest
    assert contents(one.entries) == contents(two.entries)
    assert "shim/__init__.py" in one.entries and not [n for n in one.entries if n.endswith("direct_url.json")]
    for record in ("tinydep-1.0.dist-info/RECORD", "shim-1.0.dist-info/RECORD"):
        text = one.entries[record].read_text()
        assert "bin/" not in text and "direct_url.json" not in text and "__init__.py," in text


def test_interrupted_install_leaves_nothing_that_is_trusted(tmp_path, pip, pip_calls, monkeypatch):
    reqs = requirements(tmp_path, "tinydep\n")
    real = dependencies._normalise

    def interrupted(site):
        assert (site / "tinydep" / "__init__.py").exists()  # pip has written the tree
        raise KeyboardInterrupt

    monkeypatch.setattr(dependencies, "_normalise", interrupted)
    with pytest.raises(KeyboardInterrupt):
        install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "d", pip=pip)
    assert list((tmp_path / "d").iterdir()) == []

    # An entry without its manifest (as an older or crashed writer could leave) is replaced, not trusted.
    digest = cache_key(reqs, lambda_target("python3.12", "arm64"), pip)
    (tmp_path / "d" / digest / "site").mkdir(parents=True)
    monkeypatch.setattr(dependencies, "_normalise", real)
    installed = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "d", pip=pip)
    assert installed.pip_ran and "tinydep/__init__.py" in installed.entries
    assert len(pip_calls) == 2


def test_install_for_local_gives_an_importable_folder(tmp_path, pip, pip_calls):
    reqs = requirements(tmp_path, "tinydep==1.1\n")
    folder = install_for_local(reqs, cache_dir=tmp_path / "d", pip=pip)
    assert install_for_local(reqs, cache_dir=tmp_path / "d", pip=pip) == folder
    assert len(pip_calls) == 1
    assert "--platform" not in pip_calls[0]
    out = subprocess.run([sys.executable, "-c", "import tinydep; print(tinydep.VERSION)"],
                         env={**os.environ, "PYTHONPATH": str(folder)}, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1.1"
    lambda_folder = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "d",
                                       pip=pip).directory
    assert lambda_folder != folder  # local and Lambda installs are cached apart


def test_unzipped_size_counts_files_not_directories(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 300)
    assert unzipped_size({"a/": None, "a/f": path, "b": b"12345"}) == 305


def test_size_over_the_lambda_limit_names_the_largest_packages(tmp_path):
    big = {"numpy/core.so": b"x" * 600, "numpy/": None, "scipy/linalg.so": b"x" * 300, "handler.py": b"x" * 10}
    assert check_unzipped_size(big, function="orders", limit=910) == 910
    with pytest.raises(PackageTooLarge) as caught:
        check_unzipped_size(big, function="orders", limit=909)
    message = str(caught.value)
    assert caught.value.exit_code == EXIT_FAILED
    assert "'orders'" in message and "910 bytes" in message and "909 bytes" in message
    assert message.index("numpy/") < message.index("scipy/") < message.index("handler.py")
    with pytest.raises(PackageTooLarge, match="of layers"):
        check_unzipped_size(big, function="orders", layers=1, limit=910)
    assert LAMBDA_UNZIPPED_LIMIT == 262_144_000


def test_dependency_names_must_not_clash_with_the_function_or_common(tmp_path, pip):
    function_dir = tmp_path / "orders"
    function_dir.mkdir()
    (function_dir / "handler.py").write_text("")
    (function_dir / "items.py").write_text("")
    (function_dir / "requirements.txt").write_text("tinydep\n")
    fine = install_for_lambda(function_dir / "requirements.txt", runtime="python3.12", architecture="arm64",
                              cache_dir=tmp_path / "d", pip=pip)
    check_conflicts(fine, function_dir)

    shadowing = install_for_lambda(requirements(tmp_path, "itemsdist\n"), runtime="python3.12",
                                   architecture="arm64", cache_dir=tmp_path / "d", pip=pip)
    with pytest.raises(UsageError, match=r"itemsdist installs 'items\.py', which clashes with .*items\.py"):
        check_conflicts(shadowing, function_dir)

    shared = install_for_lambda(requirements(tmp_path, "common\n", name="other"), runtime="python3.12",
                                architecture="arm64", cache_dir=tmp_path / "d", pip=pip)
    with pytest.raises(UsageError, match="common.*shared package 'common'"):
        check_conflicts(shared, function_dir)


def test_sdist_only_package_fails_as_unsatisfiable(tmp_path, pip, wheels):
    sdists = tmp_path / "sdists"
    sdists.mkdir()
    (sdists / "srconly-1.0.tar.gz").write_bytes(b"not read: only wheels are considered")
    settings = PipSettings.from_environment({**pip.env, "PIP_FIND_LINKS": f"{wheels} {sdists}"})
    with pytest.raises(DependencyError, match=r"(?s)srconly .*python3\.12 arm64.*only wheels"):
        install_for_lambda(requirements(tmp_path, "srconly\n"), runtime="python3.12", architecture="arm64",
                           cache_dir=tmp_path / "d", pip=settings)


def test_empty_requirements_install_nothing_once(tmp_path, pip, pip_calls):
    reqs = requirements(tmp_path, "# no dependencies yet\n")
    for _ in range(2):
        installed = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "d",
                                       pip=pip)
        assert installed.entries == {} and installed.owners == {}
    assert len(pip_calls) == 1


def test_stale_temporaries_of_interrupted_installs_are_cleared(tmp_path, pip):
    cache = tmp_path / "d"
    old, recent = cache / ".tmp-old", cache / ".tmp-recent"
    for folder in (old, recent):
        (folder / "site").mkdir(parents=True)
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    install_for_lambda(requirements(tmp_path, "tinydep\n"), runtime="python3.12", architecture="arm64",
                       cache_dir=cache, pip=pip)
    assert not old.exists() and recent.exists()  # a recent one may belong to an install still running


def test_a_parallel_run_that_finished_first_wins(tmp_path, pip, monkeypatch):
    reqs = requirements(tmp_path, "tinydep\n")
    other = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "other",
                               pip=pip)
    entry = tmp_path / "d" / other.digest
    real = dependencies._normalise

    def finished_elsewhere_meanwhile(site):
        manifest = real(site)
        shutil.copytree(other.directory.parent, entry)
        return manifest

    monkeypatch.setattr(dependencies, "_normalise", finished_elsewhere_meanwhile)
    installed = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "d",
                                   pip=pip)
    assert installed.directory == entry / "site"
    assert contents(installed.entries) == contents(other.entries)
    assert [p.name for p in (tmp_path / "d").iterdir()] == [other.digest]


def test_requirement_a_marker_skips_here_but_lambda_needs_is_an_error(tmp_path, pip):
    """pip judges markers by the machine it runs on (pypa/pip#11664); the zip must not lack what Lambda imports."""
    with pytest.raises(DependencyError, match=r"(?s)shim for Lambda .*a requirement of modern .*List 'shim>=1' in"):
        install_for_lambda(requirements(tmp_path, "modern\n"), runtime=OTHER_RUNTIME, architecture="arm64",
                           cache_dir=tmp_path / "d", pip=pip)
    with pytest.raises(DependencyError, match=r"shim for Lambda .*listed in .*requirements\.txt"):
        install_for_lambda(requirements(tmp_path, f'tinydep\nshim; python_version == "{OTHER_PYTHON}"\n'),
                           runtime=OTHER_RUNTIME, architecture="x86_64", cache_dir=tmp_path / "d", pip=pip)
    assert [p.name for p in (tmp_path / "d").iterdir()] == []

    fixed = install_for_lambda(requirements(tmp_path, "modern\nshim\n"), runtime=OTHER_RUNTIME,
                               architecture="arm64", cache_dir=tmp_path / "d", pip=pip)
    assert "shim/__init__.py" in fixed.entries


def test_marker_check_follows_the_extras_asked_for(tmp_path, pip):
    plain = install_for_lambda(requirements(tmp_path, "optional\n"), runtime=OTHER_RUNTIME, architecture="arm64",
                               cache_dir=tmp_path / "d", pip=pip)
    assert "optional/__init__.py" in plain.entries and "shim/__init__.py" not in plain.entries
    with pytest.raises(DependencyError, match="shim .*a requirement of optional"):
        install_for_lambda(requirements(tmp_path, "optional[fast]\n"), runtime=OTHER_RUNTIME, architecture="arm64",
                           cache_dir=tmp_path / "d", pip=pip)


def test_an_unreachable_index_is_reported_with_the_missing_package(tmp_path, pip):
    settings = PipSettings.from_environment({**pip.env, "PIP_NO_INDEX": "", "PIP_RETRIES": "1", "PIP_TIMEOUT": "2",
                                             "PIP_INDEX_URL": "http://user:s3cret@127.0.0.1:9/simple"})
    with pytest.raises(DependencyError) as caught:
        install_for_lambda(requirements(tmp_path, "nothere\n"), runtime="python3.12", architecture="arm64",
                           cache_dir=tmp_path / "d", pip=settings)
    message = str(caught.value)
    assert "nothere" in message and "python3.12 arm64" in message and "could not reach an index" in message
    assert "s3cret" not in message


def test_relative_find_links_mean_where_infragen_runs(tmp_path, pip, wheels, monkeypatch):
    monkeypatch.chdir(wheels.parent)
    settings = PipSettings.from_environment({**pip.env, "PIP_FIND_LINKS": f"./{wheels.name} file:///nowhere"})
    assert settings.env["PIP_FIND_LINKS"] == f"{wheels} file:///nowhere"
    installed = install_for_lambda(requirements(tmp_path, "tinydep==1.0\n"), runtime="python3.12",
                                   architecture="arm64", cache_dir=tmp_path / "d", pip=settings)
    assert "tinydep/__init__.py" in installed.entries


def test_function_modules_named_like_the_standard_library_do_not_break_pip(tmp_path, pip):
    reqs = requirements(tmp_path, "tinydep\n")
    for module in ("typing", "email", "csv", "json"):
        (reqs.parent / f"{module}.py").write_text(f"raise SystemExit('the function\\'s {module}.py was imported')\n")
    installed = install_for_lambda(reqs, runtime="python3.12", architecture="arm64", cache_dir=tmp_path / "d", pip=pip)
    assert "tinydep/__init__.py" in installed.entries


def test_an_unwritable_cache_is_an_error_not_a_traceback(tmp_path, pip):
    blocked = tmp_path / "file-in-the-way"
    blocked.write_text("")
    with pytest.raises(DependencyError, match="Cannot write the dependency cache"):
        install_for_lambda(requirements(tmp_path, "tinydep\n"), runtime="python3.12", architecture="arm64",
                           cache_dir=blocked / "deps", pip=pip)
