"""A function's requirements.txt installed for its Lambda runtime and architecture, cached by content.

pip does the installing (`python -m pip install --target`, wheels only, with `--platform`/`--python-version`
naming the Lambda runtime so any machine can build for arm64 or x86_64). The installed tree is cached under
`.infragen/deps/<digest>/`, the digest covering the requirements, the target and pip's index settings, so an
unchanged function packages again without running pip.
"""

from __future__ import annotations

import configparser
import csv
import email.parser
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from infragen.errors import InfragenError, UsageError
from infragen.package import SHARED_PACKAGE

CACHE_FORMAT = 1  # bump when the cached layout or its normalisation changes
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # bytes: function code plus layers, unzipped
ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}
_MANIFEST = "manifest.json"  # written last: a cache entry without it is not trusted
_SITE = "site"
_TMP_PREFIX = ".tmp-"
_STALE_TMP_SECONDS = 3600
_OLDEST_MANYLINUX_MINOR = 17  # manylinux_2_17 == manylinux2014
_RUNTIME = re.compile(r"python3\.(\d+)")
# PIP_* variables that change how pip reaches an index, or what it prints, but not which files it picks.
_IRRELEVANT_PIP_VARS = {
    "PIP_CACHE_DIR", "PIP_CERT", "PIP_CLIENT_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_TIMEOUT", "PIP_RETRIES",
    "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_NO_CACHE_DIR", "PIP_NO_COLOR", "PIP_NO_INPUT", "PIP_PROGRESS_BAR",
    "PIP_PROXY", "PIP_QUIET", "PIP_VERBOSE", "PIP_LOG", "PIP_ROOT_USER_ACTION", "PIP_KEYRING_PROVIDER",
    "PIP_NO_PYTHON_VERSION_WARNING", "PIP_REQUIRE_VIRTUALENV",
}
# Options that would fight `--target` if set in pip's environment.
_CONFLICTING_PIP_VARS = {"PIP_TARGET", "PIP_PREFIX", "PIP_ROOT", "PIP_USER", "PIP_HOME", "PIP_EDITABLE"}
_NOT_FOUND = re.compile(r"No matching distribution found for (\S+)")
_NO_VERSION = re.compile(
    r"Could not find a version that satisfies the requirement (\S+)(?: \(from (?!versions: )([^)]*)\))?"
    r"(?: \(from versions: ([^)]*)\))?")
_INVALID = re.compile(r"Invalid requirement: (.*)")
_UNREACHABLE = re.compile(r"(?:Could not fetch URL|Failed to establish a new connection|Retrying \().*")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s@]+@")
_INCLUDE = re.compile(r"^\s*(?:-r|-c|--requirement|--constraint)(?:\s+|=)(\S+)")


class DependencyError(InfragenError):
    """pip could not install a function's requirements for its target."""


class PackageTooLarge(InfragenError):
    """A function's code and dependencies exceed Lambda's unzipped size limit."""


@dataclass(frozen=True)
class PipSettings:
    """The environment pip runs with, and a fingerprint of every setting in it that picks packages.

    pip runs with this process's environment (so its own index settings, credentials and proxies apply; none
    of them is put in argv), without the options that would fight `--target`.

    The fingerprint covers PIP_* variables (index URLs, find-links, no-index, constraints, ...), the bytes
    of each pip config file pip would read and of the constraint files they name. It is a digest, so index
    URLs carrying credentials never appear in the cache path or in output.
    """

    env: Mapping[str, str] = field(repr=False)
    fingerprint: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PipSettings:
        source = dict(os.environ if environ is None else environ)
        env = {k: v for k, v in source.items() if k not in _CONFLICTING_PIP_VARS}
        # pip runs in the requirements' folder: paths relative to where infragen runs are made absolute.
        for name in ("PIP_FIND_LINKS", "PIP_CONSTRAINT"):
            if env.get(name):
                env[name] = " ".join(_absolute(item) for item in env[name].split())
        if env.get("PIP_CONFIG_FILE") and env["PIP_CONFIG_FILE"] != os.devnull:
            env["PIP_CONFIG_FILE"] = _absolute(env["PIP_CONFIG_FILE"])
        digest = hashlib.sha256()
        relevant = sorted((k, v) for k, v in env.items() if k.startswith("PIP_") and k not in _IRRELEVANT_PIP_VARS)
        digest.update(json.dumps(relevant).encode())
        constraints = [env.get("PIP_CONSTRAINT", "")]
        for path in _pip_config_files(env):
            data = _read(path)
            if data is None:
                continue
            digest.update(f"\0config {path}\0".encode() + data)
            constraints.extend(_config_values(data, "constraint"))
        for value in constraints:
            for path in value.split():
                digest.update(f"\0constraint {path}\0".encode() + (_read(Path(path)) or b""))
        return cls(env=env, fingerprint=digest.hexdigest())


@dataclass(frozen=True)
class Target:
    """What pip installs for: its description in messages, pip's options for it, and its part of the key."""

    label: str
    pip_args: tuple[str, ...]
    key: Mapping[str, object]
    markers: Mapping[str, str] | None = None  # environment-marker values where they differ from this machine


@dataclass(frozen=True)
class Installed:
    """An installed (cached) dependency tree.

    `files` maps archive names to sizes, `owners` each top-level name to the distribution that installs it,
    `executables` the files whose mode has an execute bit. `pip_ran` is False when the cache answered.
    """

    directory: Path
    digest: str
    files: Mapping[str, int]
    owners: Mapping[str, str]
    executables: frozenset[str]
    pip_ran: bool

    @property
    def entries(self) -> dict[str, Path | None]:
        """Zip entries for the tree: archive name → file path, or None for a directory (as package.py writes)."""
        entries: dict[str, Path | None] = {}
        for name in self.files:
            parts = name.split("/")
            for depth in range(1, len(parts)):
                entries.setdefault("/".join(parts[:depth]) + "/", None)
            entries[name] = self.directory / name
        return entries

    @property
    def size(self) -> int:
        return sum(self.files.values())


def lambda_target(runtime: str, architecture: str) -> Target:
    """The pip options that select wheels for a Lambda Python runtime ("python3.12") and architecture.

    Every manylinux tag the runtime's glibc accepts is listed (pip does not expand manylinux_2_x tags
    itself): glibc 2.34 on Amazon Linux 2023 (python3.12 and later), 2.26 on Amazon Linux 2.
    """
    match = _RUNTIME.fullmatch(runtime)
    if not match:
        raise UsageError(f"Cannot install requirements.txt for runtime {runtime!r}: it is not a Python runtime.",
                         hint='Use a runtime such as "python3.12" or "python3.13".')
    if architecture not in ARCHITECTURES:
        raise UsageError(f"Unknown architecture {architecture!r}.", hint=f"Use one of {', '.join(ARCHITECTURES)}.")
    minor = int(match.group(1))
    machine = ARCHITECTURES[architecture]
    glibc_minor = 34 if minor >= 12 else 26
    platforms = [f"manylinux_2_{m}_{machine}" for m in range(glibc_minor, _OLDEST_MANYLINUX_MINOR - 1, -1)]
    platforms.append(f"manylinux2014_{machine}")  # pip adds manylinux2010/1 for x86_64 from this one
    args = [arg for tag in platforms for arg in ("--platform", tag)]
    args += ["--python-version", f"3.{minor}", "--implementation", "cp", "--abi", f"cp3{minor}",
             "--only-binary=:all:"]
    label = f"Lambda {runtime} {architecture} (manylinux glibc 2.{glibc_minor} {machine}, cp3{minor})"
    version = f"3.{minor}"
    markers = {"python_version": version, "python_full_version": f"{version}.0", "implementation_version":
               f"{version}.0", "implementation_name": "cpython", "platform_python_implementation": "CPython",
               "platform_machine": machine, "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
    return Target(label=label, pip_args=tuple(args), markers=markers,
                  key={"kind": "lambda", "runtime": runtime, "architecture": architecture})


def local_target() -> Target:
    """This machine's Python, for `infragen invoke`: wheels only, like the Lambda install."""
    tag = sys.implementation.cache_tag
    label = f"this machine ({tag}, {sysconfig.get_platform()})"
    return Target(label=label, pip_args=("--only-binary=:all:",),
                  key={"kind": "local", "python": tag, "version": list(sys.version_info[:2]),
                       "platform": sysconfig.get_platform(), "libc": list(platform.libc_ver())})


def install_for_lambda(requirements: Path, *, runtime: str, architecture: str, cache_dir: Path,
                       pip: PipSettings | None = None) -> Installed:
    """Install `requirements` for a Lambda runtime and architecture, or take them from the cache."""
    return install(requirements, lambda_target(runtime, architecture), cache_dir=cache_dir, pip=pip)


def install_for_local(requirements: Path, *, cache_dir: Path, pip: PipSettings | None = None) -> Path:
    """Install `requirements` for this machine's Python (cached the same way); return the folder for sys.path."""
    return install(requirements, local_target(), cache_dir=cache_dir, pip=pip).directory


def cache_key(requirements: Path, target: Target, pip: PipSettings) -> str:
    """sha256 of (cache format, requirements and the files they include, target, pip index settings)."""
    payload = {"format": CACHE_FORMAT, "requirements": _requirements_digest(requirements),
               "target": dict(target.key), "pip": pip.fingerprint}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def install(requirements: Path, target: Target, *, cache_dir: Path, pip: PipSettings | None = None) -> Installed:
    """The cached tree for (requirements, target, pip settings), running pip only on a cache miss.

    pip installs into a temporary folder beside the cache entry, which is renamed into place once it is
    complete, so an interrupted install never leaves an entry that a later run trusts.
    """
    pip = pip or PipSettings.from_environment()
    if not requirements.is_file():
        raise UsageError(f"{requirements} does not exist.")
    digest = cache_key(requirements, target, pip)
    entry = cache_dir / digest
    cached = _load(entry, digest)
    if cached is not None:
        return cached
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(cache_dir)
        work = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{digest[:12]}-", dir=cache_dir))
    except OSError as exc:
        raise DependencyError(f"Cannot write the dependency cache {cache_dir}: {exc}") from exc
    try:
        _run_pip(requirements, target, pip, work / _SITE)
        _check_markers(work / _SITE, requirements, target)
        manifest = _normalise(work / _SITE)
        (work / _MANIFEST).write_text(json.dumps(manifest, sort_keys=True))
        if entry.exists() and _load(entry, digest) is None:  # a folder without its manifest: never trusted
            shutil.rmtree(entry)
        try:
            os.replace(work, entry)
        except OSError:  # a parallel run renamed the same entry into place first
            if _load(entry, digest) is None:
                raise
    except OSError as exc:
        raise DependencyError(f"Cannot write the dependency cache {entry}: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _installed(entry, digest, manifest, pip_ran=True)


def unzipped_size(entries: Mapping[str, Path | bytes | None]) -> int:
    """Bytes the entries take once unzipped (directories count as 0)."""
    return sum(_entry_size(value) for value in entries.values())


def check_unzipped_size(entries: Mapping[str, Path | bytes | None], *, function: str, layers: int = 0,
                        limit: int = LAMBDA_UNZIPPED_LIMIT) -> int:
    """Raise PackageTooLarge naming the largest top-level packages when code plus layers exceed `limit`."""
    sizes: dict[str, int] = {}
    for name, value in entries.items():
        top = name.split("/", 1)[0] + ("/" if "/" in name else "")
        sizes[top] = sizes.get(top, 0) + _entry_size(value)
    total = sum(sizes.values()) + layers
    if total <= limit:
        return total
    largest = sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:5]
    named = ", ".join(f"{top} {_mb(size)}" for top, size in largest)
    layer_note = f" with {_mb(layers)} of layers" if layers else ""
    raise PackageTooLarge(
        f"Function {function!r} unzips to {total:,} bytes ({_mb(total)}){layer_note}, over Lambda's limit of "
        f"{limit:,} bytes ({_mb(limit)}) for code and layers. Largest: {named}.",
        hint="Remove requirements the function does not import, or split the function.")


def check_conflicts(installed: Installed, function_dir: Path, *, shared: Iterable[str] = (SHARED_PACKAGE,)) -> None:
    """Raise UsageError when a dependency installs a top-level name the function or a shared package uses."""
    own: dict[str, str] = {name: f"the shared package {name!r}" for name in shared}
    if function_dir.is_dir():
        for path in sorted(function_dir.iterdir()):
            if path.name.startswith(".") or path.name == "__pycache__":
                continue
            for name in (_import_name(path.name, path.is_dir()), path.name):
                if name:
                    own.setdefault(name, str(path))
    clashes = []
    for top, owner in sorted(installed.owners.items()):
        for name in {top, _import_name(top.rstrip("/"), top.endswith("/"))}:
            if name in own:
                clashes.append(f"{owner} installs {top!r}, which clashes with {own[name]}")
                break
    if clashes:
        raise UsageError("Dependency conflict: " + "; ".join(clashes) + ".",
                         hint="Rename the function's module, or drop the requirement that ships that name.")


def zip_entries(requirements: Path, function_dir: Path, *, runtime: str, architecture: str,
                cache_dir: Path, shared: Iterable[str], pip: PipSettings | None = None
                ) -> dict[str, bytes | None]:
    """The installed requirements of one function as zip entries (archive name → bytes, None for a
    folder), after checking they clash with none of its own or shared modules."""
    installed = install_for_lambda(requirements, runtime=runtime, architecture=architecture,
                                   cache_dir=cache_dir, pip=pip)
    check_conflicts(installed, function_dir, shared=shared)
    return {name: None if path is None else path.read_bytes() for name, path in installed.entries.items()}


# --- pip ---------------------------------------------------------------------------------------------------


def _run_pip(requirements: Path, target: Target, pip: PipSettings, site: Path) -> None:
    # -P: pip runs in the function's folder, whose modules (email.py, typing.py, ...) must not shadow its own.
    command = [sys.executable, "-P", "-m", "pip", "install", "--target", str(site), "--no-compile", "--no-input",
               "--disable-pip-version-check", "--no-warn-script-location", "--progress-bar", "off",
               *target.pip_args, "-r", requirements.name]
    try:
        result = subprocess.run(command, cwd=requirements.parent, env=dict(pip.env), capture_output=True,
                                text=True, errors="replace", check=False)
    except OSError as exc:
        raise DependencyError(f"Could not run pip ({sys.executable} -m pip): {exc}") from exc
    if result.returncode != 0:
        raise _pip_error(result.stderr, requirements, target)


def _pip_error(stderr: str, requirements: Path, target: Target) -> InfragenError:
    stderr = _URL_CREDENTIALS.sub("****@", stderr)
    invalid = _INVALID.search(stderr)
    if invalid:
        return UsageError(f"{requirements}: invalid requirement {invalid.group(1)}.",
                          hint="Fix the line; see https://pip.pypa.io/en/stable/reference/requirements-file-format/")
    detail = _NO_VERSION.search(stderr)
    missing = detail.group(1) if detail else _first_group(_NOT_FOUND.search(stderr))
    if missing:
        package = _NAME.match(missing).group(0) if _NAME.match(missing) else missing
        parent = detail.group(2) if detail else None
        needed_by = f" (needed by {parent})" if parent else ""
        versions = detail.group(3) if detail else None
        found = (f"versions with a wheel for that platform: {versions}" if versions and versions != "none"
                 else "no version has a wheel for that platform in your indexes, or there is no such package")
        unreachable = _UNREACHABLE.search(stderr)
        network = f" pip also could not reach an index: {unreachable.group(0).strip()}" if unreachable else ""
        return DependencyError(
            f"Cannot install {package}{needed_by} for {target.label}: {missing!r} from {requirements} "
            f"cannot be satisfied ({found}).{network}",
            hint="Pick a version that publishes a wheel for that platform (only wheels are installed, so "
                 "sdist-only packages cannot be used), or check the package name and your index settings.")
    errors = [line for line in stderr.splitlines() if line.strip()][-8:]
    return DependencyError(f"pip could not install {requirements} for {target.label}:\n  " + "\n  ".join(errors))


def _check_markers(site: Path, requirements: Path, target: Target) -> None:
    """Fail when an environment marker skipped a requirement here that the target needs.

    pip evaluates markers (`; python_version >= "3.12"`, `; platform_machine == "aarch64"`) for the machine it
    runs on, not for `--platform`/`--python-version` (pypa/pip#11664), so such a requirement would be missing
    from the zip without a word.
    """
    if target.markers is None:
        return
    here = default_environment()
    there = {**here, **target.markers}
    installed, wanted = set(), []
    for metadata in site.glob("*.dist-info/METADATA"):
        message = email.parser.Parser().parsestr(metadata.read_text(encoding="utf-8", errors="replace"))
        name = canonicalize_name(message.get("Name", ""))
        installed.add(name)
        wanted += [(line, name) for line in message.get_all("Requires-Dist") or []]
    wanted += [(line, None) for line in _requirement_lines(requirements)]
    parsed = []
    for line, needed_by in wanted:
        try:
            parsed.append((Requirement(line), needed_by))
        except InvalidRequirement:
            continue  # a URL or path: pip has installed it or failed already
    extras: dict[str, set[str]] = {}
    for requirement, _ in parsed:
        extras.setdefault(canonicalize_name(requirement.name), set()).update(requirement.extras)
    for requirement, needed_by in parsed:
        if requirement.marker is None or canonicalize_name(requirement.name) in installed:
            continue
        for extra in {"", *extras.get(needed_by or "", ())}:
            if requirement.marker.evaluate({**there, "extra": extra}) and \
                    not requirement.marker.evaluate({**here, "extra": extra}):
                origin = f"a requirement of {needed_by}" if needed_by else f"listed in {requirements}"
                raise DependencyError(
                    f"Cannot install {requirement.name} for {target.label}: it is {origin} with the marker "
                    f"'{requirement.marker}', which holds there but not on this machine (Python "
                    f"{here['python_full_version']}, {here['sys_platform']} {here['platform_machine']}); "
                    f"pip judges markers by the machine it runs on, so it left {requirement.name} out.",
                    hint=f"List {_without_marker(requirement)!r} in {requirements}, or package on a machine "
                         f"that matches the function's runtime and architecture.")


def _without_marker(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


def _requirement_lines(requirements: Path, seen: set[Path] | None = None) -> list[str]:
    """The requirement lines of a requirements file and the files it includes with -r (options left out)."""
    seen = set() if seen is None else seen
    path = requirements.resolve()
    if path in seen or not path.is_file():
        return []
    seen.add(path)
    lines = []
    text = path.read_text(encoding="utf-8", errors="replace").replace("\\\n", "")
    for raw in text.splitlines():
        line = re.sub(r"\s+--\S.*$", "", re.sub(r"(^|\s)#.*", "", raw)).strip()  # no comment, no --hash
        include = re.match(r"(?:-r|--requirement)(?:\s+|=)(\S+)", line)
        if include:
            lines += _requirement_lines(path.parent / include.group(1), seen)
        elif line and not line.startswith("-"):
            lines.append(line)
    return lines


def _normalise(site: Path) -> dict:
    """Make the tree reproducible and zip-ready; return its manifest.

    Removes `bin/` (console scripts with this machine's interpreter in their shebang), bytecode, and
    `direct_url.json` (absolute paths); rewrites each RECORD without the rows for them, sorted.
    """
    site.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(site / "bin", ignore_errors=True)
    for root, dirs, files in os.walk(site):
        for name in dirs:
            if name == "__pycache__":
                shutil.rmtree(Path(root, name))
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith((".pyc", ".pyo")) or (name == "direct_url.json" and root.endswith(".dist-info")):
                Path(root, name).unlink()
    owners: dict[str, str] = {}
    for record in sorted(site.glob("*.dist-info/RECORD")):
        distribution = record.parent.name.split("-", 1)[0]
        rows = [row for row in csv.reader(io.StringIO(record.read_text(encoding="utf-8"))) if row]
        kept = sorted(row for row in rows if _inside(row[0]) and (site / row[0]).is_file())
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(kept)
        record.write_text(out.getvalue(), encoding="utf-8")
        for row in kept:
            top = row[0].split("/", 1)[0] + ("/" if "/" in row[0] else "")
            if not top.endswith(".dist-info/"):
                owners.setdefault(top, distribution)
    files: dict[str, int] = {}
    executables = []
    for root, dirs, names in os.walk(site):
        dirs.sort()
        for name in sorted(names):
            path = Path(root, name)
            archive = path.relative_to(site).as_posix()
            stat = path.stat()
            files[archive] = stat.st_size
            if stat.st_mode & 0o111:
                executables.append(archive)
            top = archive.split("/", 1)[0] + ("/" if "/" in archive else "")
            if not top.endswith(".dist-info/"):
                owners.setdefault(top, "a dependency")
    return {"format": CACHE_FORMAT, "files": files, "owners": owners, "executables": executables}


def _load(entry: Path, digest: str) -> Installed | None:
    try:
        manifest = json.loads((entry / _MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("format") != CACHE_FORMAT:
        return None
    return _installed(entry, digest, manifest, pip_ran=False)


def _installed(entry: Path, digest: str, manifest: dict, *, pip_ran: bool) -> Installed:
    return Installed(directory=entry / _SITE, digest=digest, files=manifest["files"], owners=manifest["owners"],
                     executables=frozenset(manifest["executables"]), pip_ran=pip_ran)


def _remove_stale_temporaries(cache_dir: Path) -> None:
    """Delete what interrupted installs left behind (never a folder a running install may still use)."""
    cutoff = time.time() - _STALE_TMP_SECONDS
    for path in cache_dir.glob(f"{_TMP_PREFIX}*"):
        try:
            if path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


# --- keys --------------------------------------------------------------------------------------------------


def _requirements_digest(requirements: Path, seen: set[Path] | None = None) -> str:
    """sha256 of a requirements file, the files it includes with -r/-c, and local files it names."""
    seen = set() if seen is None else seen
    path = requirements.resolve()
    digest = hashlib.sha256(path.name.encode() + b"\0")
    data = _read(path)
    if data is None:
        raise UsageError(f"Cannot read {requirements}.")
    digest.update(data)
    if path in seen:
        return digest.hexdigest()
    seen.add(path)
    for line in data.decode("utf-8", "replace").splitlines():
        include = _INCLUDE.match(line)
        if include:
            digest.update(_requirements_digest(path.parent / include.group(1), seen).encode())
            continue
        word = line.split("#", 1)[0].strip()
        candidate = path.parent / word if word and not word.startswith("-") else None
        if candidate is not None and ("/" in word or word.endswith(".whl")) and candidate.is_file():
            digest.update(hashlib.sha256(candidate.read_bytes()).hexdigest().encode())
    return digest.hexdigest()


def _pip_config_files(env: Mapping[str, str]) -> list[Path]:
    """The config files pip reads (https://pip.pypa.io/en/stable/topics/configuration/), every platform's.

    Listing another platform's locations only makes the key more cautious: they do not exist here.
    """
    named = env.get("PIP_CONFIG_FILE")
    if named == os.devnull:
        return []
    home = Path(env.get("HOME") or Path.home())
    xdg_dirs = (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
    files = [Path(named)] if named else []
    files += [Path(d, "pip", "pip.conf") for d in xdg_dirs if d] + [Path("/etc/pip.conf")]
    files += [Path("/Library/Application Support/pip/pip.conf")]
    if not (named and Path(named).exists()):
        files += [home / ".pip" / "pip.conf", Path(env.get("XDG_CONFIG_HOME") or home / ".config", "pip", "pip.conf"),
                  home / "Library" / "Application Support" / "pip" / "pip.conf"]
        if env.get("APPDATA"):
            files.append(Path(env["APPDATA"], "pip", "pip.ini"))
    files.append(Path(sys.prefix, "pip.ini" if os.name == "nt" else "pip.conf"))
    return files


def _config_values(data: bytes, key: str) -> list[str]:
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(data.decode("utf-8", "replace"))
    except configparser.Error:
        return []
    return [value for section in parser.sections() for name, value in parser.items(section)
            if name.replace("_", "-") == key]


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


# --- small helpers -----------------------------------------------------------------------------------------


def _absolute(item: str) -> str:
    return item if "://" in item or os.path.isabs(item) else os.path.abspath(item)


def _first_group(match: re.Match | None) -> str | None:
    return match.group(1) if match else None


def _inside(relative: str) -> bool:
    return not relative.startswith(("/", "../")) and "/../" not in relative


def _import_name(name: str, is_dir: bool) -> str | None:
    """The name `import` finds a folder or module file by (None for other files)."""
    if is_dir:
        return name
    stem, _, suffix = name.partition(".")
    return stem if suffix == "py" or suffix.endswith(("so", "pyd")) else None


def _entry_size(value: Path | bytes | None) -> int:
    if value is None:
        return 0
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return value.stat().st_size


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
