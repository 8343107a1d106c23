"""Prove, before any upload, that a Lambda zip can serve its handler: static checks, nothing is run.

`verify_zip_entries(entries, handler)` works on the zip's names and sources only, so whatever ends
up in the archive counts as "inside the zip" — the function folder, `common/`, and third-party
packages another step adds. It checks that

- the handler module exists and defines the handler name at its top level;
- every module compiles (a syntax error is reported as file:line and the compiler's message);
- every import resolves: inside the zip (modules, packages with `__init__.py`, namespace
  packages, extension modules, relative imports), else the target runtime's standard library
  (`sys.stdlib_module_names` minus what that Python version removed), else what the Lambda Python
  runtime ships (`RUNTIME_PROVIDED`). `from pkg import name` must find `name` as a submodule or a
  top-level name of `pkg` when `pkg` is in the zip.

Imports that cannot fail the function are not required to resolve: inside `try` blocks that catch
ImportError (or a parent of it), `contextlib.suppress(ImportError)`, `if TYPE_CHECKING:`, and the
branch of an `if sys.version_info …` / `if sys.platform …` / `if __name__ == "__main__":` test that
Lambda does not take.

Third-party files (entries named in `third_party`, or listed in a `*.dist-info/RECORD` of the zip)
are checked only where the function can reach them at import time — the modules its own code
imports and, from there, their module-level imports — because wheels routinely ship modules for
optional features and other Python versions that are never imported; and only for modules, not
for the names they bind (installed packages register names and submodules at runtime, e.g.
`six.moves`). The function's own modules are all checked, imports inside functions included. Dynamic imports (`importlib.import_module`,
`__import__`) and submodules of standard-library or runtime packages are not checked.
"""

from __future__ import annotations

import ast
import csv
import functools
import io
import re
import sys
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

# AWS Lambda accepts at most 250 MB (MiB-based: 262,144,000 bytes) of unzipped code, layers
# included. infragen deploys from S3, so the 50 MB limit on a directly uploaded zip never applies.
LAMBDA_UNZIPPED_LIMIT = 262_144_000
# What the Lambda Python runtimes (python3.12, python3.13) put on sys.path besides the standard
# library: the AWS SDK with its dependencies, and the runtime interface client.
RUNTIME_PROVIDED = frozenset({
    "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "awslambdaric",
})
# Standard-library modules removed after 3.11 (sys.stdlib_module_names here is the local Python's).
_REMOVED_IN = {
    (3, 12): frozenset({"asynchat", "asyncore", "distutils", "imp", "smtpd"}),
    (3, 13): frozenset({"aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3",
                        "mailcap", "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr",
                        "spwd", "sunau", "telnetlib", "uu", "xdrlib"}),
}
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
_LAMBDA_PLATFORM = "linux"


@dataclass(frozen=True)
class Problem:
    """One reason the zip cannot serve its handler; `file` is the archive name."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file or "handler setting"
        return f"{place}: {self.message}"


def runtime_version(runtime: str | None) -> tuple[int, int]:
    """(3, 12) for "python3.12"; the local interpreter's version when `runtime` is None or not Python."""
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime or "")
    return (int(match[1]), int(match[2])) if match else sys.version_info[:2]


def stdlib_modules(version: tuple[int, int]) -> frozenset[str]:
    """Top-level standard-library module names of Python `version` (as far as this Python knows)."""
    removed = set()
    for since, names in _REMOVED_IN.items():
        if version >= since:
            removed |= names
    return frozenset(sys.stdlib_module_names) - removed


def check_unzipped_size(sizes: Mapping[str, int], what: str, limit: int = LAMBDA_UNZIPPED_LIMIT,
                        ) -> str | None:
    """A message naming the biggest files when `sizes` (archive name → bytes) add up above `limit`."""
    total = sum(sizes.values())
    if total <= limit:
        return None
    biggest = sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:5]
    listed = ", ".join(f"{name} ({_mb(size)})" for name, size in biggest)
    return (f"{what} is {_mb(total)} unzipped; Lambda accepts at most {_mb(limit)} "
            f"({limit:,} bytes, layers included). Biggest files: {listed}.")


def verify_zip_entries(entries: Mapping[str, bytes | None], handler: str, *,
                       runtime: str | None = None, third_party: Collection[str] = ()) -> list[Problem]:
    """Every reason the zip with these entries could not serve `handler` ("module.function").

    `entries` maps archive names to contents; only `.py` sources are read, other values may be
    None (directories end in "/"). An empty list means the zip passed.
    """
    return _Verifier(entries, runtime_version(runtime), set(third_party)).run(handler)


class _Verifier:
    def __init__(self, entries: Mapping[str, bytes | None], version: tuple[int, int],
                 third_party: set[str]):
        self.entries = entries
        self.version = version
        self.stdlib = stdlib_modules(version)
        self.third_party = third_party | _recorded_files(entries)
        self.modules: dict[str, str] = {}  # dotted name → archive name (source or extension)
        self.packages: dict[str, str | None] = {}  # dotted name → its __init__.py, None: namespace
        self._index()
        self.trees: dict[str, ast.Module | None] = {}
        self.bound: dict[str, tuple[set[str], bool]] = {}
        self.problems: list[Problem] = []

    def _index(self) -> None:
        for name in self.entries:
            parts = name.rstrip("/").split("/")
            for depth in range(1, len(parts) if not name.endswith("/") else len(parts) + 1):
                if all(p.isidentifier() for p in parts[:depth]):
                    self.packages.setdefault(".".join(parts[:depth]), None)
            if name.endswith("/") or not all(p.isidentifier() for p in parts[:-1]):
                continue
            stem = _module_stem(parts[-1])
            if parts[-1] == "__init__.py":
                self.packages[".".join(parts[:-1])] = name
            elif stem and stem.isidentifier() and stem != "__init__":
                self.modules[".".join([*parts[:-1], stem])] = name

    def run(self, handler: str) -> list[Problem]:
        own = sorted(name for name, archive in self.modules.items()
                     if archive.endswith(".py") and archive not in self.third_party)
        own += sorted(name for name, init in self.packages.items()
                      if init and init not in self.third_party)
        self._check_handler(handler)
        pending = [(name, True) for name in own]
        seen = set(own)
        while pending:
            module, is_own = pending.pop()
            for target in self._check_module(module, eager_only=not is_own):
                if target not in seen:
                    seen.add(target)
                    pending.append((target, False))
        return sorted(self.problems, key=lambda p: (p.file, p.line or 0, p.message))

    # the handler

    def _check_handler(self, handler: str) -> None:
        module, dot, function = handler.rpartition(".")
        module = module.replace("/", ".")
        if not dot or not module or not function:
            self.problems.append(Problem("", None, f"handler {handler!r} is not \"module.function\""))
            return
        archive = self._source_of(module)
        if archive is None:
            expected = module.replace(".", "/") + ".py"
            self.problems.append(Problem(expected, None,
                                         f"handler module {module!r} is missing (handler {handler!r})"))
            return
        tree = self._tree(archive)
        if tree is not None:
            names, open_ended = self._names(archive, tree)
            if function not in names and not open_ended:
                self.problems.append(Problem(archive, None,
                                             f"defines no top-level {function!r} (handler {handler!r})"))

    # one module

    def _check_module(self, module: str, eager_only: bool) -> Iterator[str]:
        """Record the module's problems; yield the zip modules its imports load."""
        archive = self._source_of(module)
        if archive is None:
            return
        tree = self._tree(archive)
        if tree is None:
            return
        is_package = archive.endswith("__init__.py")
        for node in _required_imports(tree, self.version, eager_only):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield from self._require(archive, node.lineno, alias.name)
            else:
                base = self._absolute(module, is_package, node, archive)
                if base is None:
                    continue
                if base:
                    yield from self._require(archive, node.lineno, base)
                yield from self._from_names(archive, node, base)

    def _absolute(self, module: str, is_package: bool, node: ast.ImportFrom, archive: str) -> str | None:
        if not node.level:
            return node.module
        package = module.split(".") if is_package else module.split(".")[:-1]
        if not package:
            self.problems.append(Problem(archive, node.lineno, "relative import in a top-level module "
                                         "(it has no parent package in the zip); import by absolute name"))
            return None
        if node.level - 1 >= len(package):
            self.problems.append(Problem(archive, node.lineno,
                                         "relative import goes above the zip's top-level package"))
            return None
        base = package[:len(package) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def _from_names(self, archive: str, node: ast.ImportFrom, base: str) -> Iterator[str]:
        if not self._in_zip(base):
            return
        source = self._source_of(base) or self.modules.get(base)
        namespace = source is None
        for alias in node.names:
            if alias.name == "*":
                continue
            child = f"{base}.{alias.name}"
            if self._in_zip(child):
                yield from self._loaded(child)
                continue
            if namespace:
                self.problems.append(Problem(archive, node.lineno, self._missing(child)))
                continue
            if not source.endswith(".py") or source in self.third_party:
                continue  # extension modules cannot be read; installed packages may bind names dynamically
            tree = self._tree(source)
            if tree is None:
                continue
            names, open_ended = self._names(source, tree)
            if alias.name not in names and not open_ended:
                self.problems.append(Problem(
                    archive, node.lineno,
                    f"cannot import {alias.name!r} from {base!r}: {source} defines no such name "
                    f"and there is no module {child!r} in the zip"))

    def _require(self, archive: str, line: int, dotted: str) -> Iterator[str]:
        top = dotted.partition(".")[0]
        if not self._in_zip(top):
            if top not in self.stdlib and top not in RUNTIME_PROVIDED:
                self.problems.append(Problem(archive, line, self._missing(dotted)))
            return
        parts = dotted.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if not self._in_zip(prefix):
                self.problems.append(Problem(archive, line, self._missing(dotted)))
                return
            if depth < len(parts) and prefix not in self.packages:
                if self.modules.get(prefix) in self.third_party:
                    break  # e.g. six.moves: an installed module may register submodules at runtime
                self.problems.append(Problem(
                    archive, line, f"cannot import {dotted!r}: {prefix!r} is a module, not a package"))
                return
        yield from self._loaded(".".join(parts[:depth]))

    def _loaded(self, dotted: str) -> Iterator[str]:
        """The zip modules whose code runs when `dotted` is imported (parents first)."""
        parts = dotted.split(".")
        for depth in range(1, len(parts) + 1):
            yield ".".join(parts[:depth])

    def _missing(self, dotted: str) -> str:
        version = ".".join(map(str, self.version))
        return (f"cannot import {dotted!r}: not in the zip, not in the Python {version} standard "
                f"library, not provided by the Lambda runtime")

    # lookups

    def _in_zip(self, dotted: str) -> bool:
        return dotted in self.modules or dotted in self.packages

    def _source_of(self, module: str) -> str | None:
        archive = self.packages.get(module) or self.modules.get(module)
        return archive if archive and archive.endswith(".py") else None

    def _tree(self, archive: str) -> ast.Module | None:
        """The parsed module; a syntax error is recorded (once) and gives None."""
        if archive not in self.trees:
            tree, error = _compiled(self.entries.get(archive) or b"", archive)
            self.trees[archive] = tree
            if isinstance(error, SyntaxError):
                self.problems.append(Problem(archive, error.lineno, self._syntax(error)))
            elif error is not None:
                self.problems.append(Problem(archive, None, f"does not compile: {error}"))
        return self.trees[archive]

    def _names(self, archive: str, tree: ast.Module) -> tuple[set[str], bool]:
        if archive not in self.bound:
            self.bound[archive] = _top_level_names(tree)
        return self.bound[archive]

    def _syntax(self, error: SyntaxError) -> str:
        text = f"{type(error).__name__}: {error.msg}"
        if sys.version_info[:2] < self.version:
            text += (f" (checked with Python {sys.version_info.major}.{sys.version_info.minor}; "
                     f"run infragen on Python {'.'.join(map(str, self.version))} if this is newer syntax)")
        return text


@functools.lru_cache(maxsize=1024)
def _compiled(source: bytes, archive: str) -> tuple[ast.Module | None, Exception | None]:
    """Parse and fully compile (the compiler finds errors the parser does not); cached per process,
    so `common/`, shared by every function, is compiled once per command."""
    try:
        tree = ast.parse(source, archive)
        compile(tree, archive, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:  # ValueError: e.g. null bytes in the source
        return None, error
    except (RecursionError, MemoryError):
        return None, ValueError("nested too deeply for the Python compiler")
    return tree, None


def _module_stem(filename: str) -> str | None:
    """"mod" for mod.py and for extension modules (mod.so, mod.cpython-312-x86_64-linux-gnu.so)."""
    if filename.endswith(".py"):
        return filename[:-3]
    if filename.endswith(".so"):
        return filename.split(".", 1)[0]
    return None


def _recorded_files(entries: Mapping[str, bytes | None]) -> set[str]:
    """Files that pip-installed distributions in the zip list in their RECORD."""
    recorded = set()
    for name, content in entries.items():
        if name.endswith(".dist-info/RECORD") and content:
            rows = csv.reader(io.StringIO(content.decode("utf-8", "replace")))
            recorded.update(row[0] for row in rows if row)
    return recorded


def _required_imports(tree: ast.Module, version: tuple[int, int], eager_only: bool) -> Iterator[ast.stmt]:
    """The import statements whose failure would raise at runtime (see the module docstring)."""

    def visit(statements: list[ast.stmt]) -> Iterator[ast.stmt]:
        for node in statements:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                yield node
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not eager_only:
                    yield from visit(node.body)
            elif isinstance(node, ast.ClassDef):
                yield from visit(node.body)
            elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
                if not any(_catches_import_error(h.type) for h in node.handlers):
                    yield from visit(node.body)
                for handler in node.handlers:
                    yield from visit(handler.body)
                yield from visit(node.orelse)
                yield from visit(node.finalbody)
            elif isinstance(node, ast.If):
                taken = _static_test(node.test, version)
                if taken is not False:
                    yield from visit(node.body)
                if taken is not True:
                    yield from visit(node.orelse)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                if not any(_suppresses_import_error(item.context_expr) for item in node.items):
                    yield from visit(node.body)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
                yield from visit(node.body)
                yield from visit(node.orelse)
            elif isinstance(node, ast.Match):
                for case in node.cases:
                    yield from visit(case.body)

    return visit(tree.body)


def _catches_import_error(kind: ast.expr | None) -> bool:
    if kind is None:
        return True
    if isinstance(kind, ast.Tuple):
        return any(_catches_import_error(element) for element in kind.elts)
    return _dotted_name(kind).rpartition(".")[2] in _IMPORT_ERRORS


def _suppresses_import_error(expr: ast.expr) -> bool:
    return (isinstance(expr, ast.Call) and _dotted_name(expr.func).endswith("suppress")
            and any(_catches_import_error(arg) for arg in expr.args))


def _static_test(test: ast.expr, version: tuple[int, int]) -> bool | None:
    """The value of an `if` test fixed on Lambda (constants, TYPE_CHECKING, sys.version_info,
    sys.platform, `__name__ == "__main__"`); None when it depends on anything else."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _static_test(test.operand, version)
        return None if inner is None else not inner
    if isinstance(test, ast.Constant):
        return bool(test.value)
    name = _dotted_name(test)
    if name.rpartition(".")[2] == "TYPE_CHECKING":
        return False
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(left, ast.Subscript):  # sys.version_info[:2]
            left = left.value
        subject = _dotted_name(left)
        try:
            value = ast.literal_eval(right)
        except ValueError:
            return None
        if subject == "sys.version_info" and isinstance(value, tuple) and 0 < len(value) <= 2:
            return _compare(version[:len(value)], op, value)
        if subject == "sys.platform" and isinstance(value, str):
            return _compare(_LAMBDA_PLATFORM, op, value)
        if subject == "__name__" and value == "__main__":
            return _compare("imported", op, value)  # Lambda imports the module, never runs it as a script
    if (isinstance(test, ast.Call) and _dotted_name(test.func) == "sys.platform.startswith"
            and len(test.args) == 1 and isinstance(test.args[0], ast.Constant)
            and isinstance(test.args[0].value, str)):
        return _LAMBDA_PLATFORM.startswith(test.args[0].value)
    return None


def _compare(left, op: ast.cmpop, right) -> bool | None:
    operations = {ast.Eq: left == right, ast.NotEq: left != right, ast.Lt: left < right,
                  ast.LtE: left <= right, ast.Gt: left > right, ast.GtE: left >= right}
    return operations.get(type(op))


def _dotted_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted_name(node.value)}.{node.attr}"
    return ""


def _top_level_names(tree: ast.Module) -> tuple[set[str], bool]:
    """Names a module binds when it runs, and whether it may bind others (star import,
    `__getattr__`, `globals()`)."""
    names: set[str] = set()
    open_ended = False

    def bind(target: ast.expr) -> None:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                names.add(node.id)

    def visit(statements: list[ast.stmt]) -> None:
        nonlocal open_ended
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    bind(target)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                bind(node.target)
            elif isinstance(node, ast.Import):
                names.update(a.asname or a.name.partition(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                open_ended |= any(a.name == "*" for a in node.names)
                names.update(a.asname or a.name for a in node.names)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                bind(node.target)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        bind(item.optional_vars)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(node, field, []) or [])
            for handler in getattr(node, "handlers", []):
                if handler.name:
                    names.add(handler.name)
                visit(handler.body)
            for case in getattr(node, "cases", []):
                visit(case.body)

    visit(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.NamedExpr):
            bind(node.target)
        elif isinstance(node, ast.Global):
            names.update(node.names)
        elif isinstance(node, ast.Call) and _rebinds_globals(node):
            open_ended = True
    return names, open_ended or "__getattr__" in names


def _rebinds_globals(call: ast.Call) -> bool:
    """`globals()`, or `setattr(sys.modules[__name__], …)`: names a parser cannot list."""
    function = _dotted_name(call.func)
    if function == "globals":
        return True
    return function == "setattr" and bool(call.args) and any(
        isinstance(node, ast.Name) and node.id == "__name__" for node in ast.walk(call.args[0]))


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MiB"
