"""Find the AWS calls a function's code makes, with `ast` (nothing is imported or executed).

The scan starts at the handler module and follows imports within the function's zip content
(its source folder and the shared packages). It tracks boto3 clients and resources through
assignments, aliases, attributes of `self`, arguments and return values: each function gets a
summary (the calls it makes and what it returns, in terms of its parameters) that each call site
instantiates with its own arguments. So `aws.client("ssm")` made by a factory in another module,
or a table name read from the environment three helpers away, reach the call that uses them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infragen.audit.boto3_resources import COLLECTION_LISTING, TRANSFER_ARGS, ResourceCalls
from infragen.audit.values import (
    UNKNOWN, Bound, Builtin, Client, ClientOf, Collection, Env, Fmt, Function, Helper, Instance, Klass, Lit,
    Module, Param, Resource, STRING_METHODS, Unk, combinations, substitute, substitute_all,
)

EMPTY: frozenset = frozenset()
_CLIENT_PLUMBING = frozenset({"exceptions", "meta", "close", "can_paginate"})



@dataclass(frozen=True)
class Site:
    path: str  # relative to the project
    line: int
    text: str  # the call as written, shortened


@dataclass(frozen=True)
class Call:
    """One AWS call a site makes: a client method (or paginator/waiter/transfer) and its arguments."""
    site: Site
    service: Any  # Lit, Param or UNKNOWN
    method: Any  # snake_case client method, paginator or waiter name; UNKNOWN when computed
    args: tuple = ()  # (request parameter, frozenset of values); ("**", …) for **kwargs
    via: str = "client"  # "client", "paginator", "waiter", "resource", "collection"

    def arg(self, name: str) -> frozenset:
        return dict(self.args).get(name, EMPTY)

    @property
    def dynamic_arguments(self) -> bool:
        return any(name == "**" for name, _ in self.args)


@dataclass
class Summary:
    calls: list[Call] = field(default_factory=list)
    returns: set = field(default_factory=set)
    stores: dict[str, set] = field(default_factory=dict)  # self.NAME = … in this method


def module_files(function_dir: Path, shared_dirs: list[Path]) -> dict[str, Path]:
    """Dotted module name → file, laid out as the function's zip is (shared packages by name)."""
    modules: dict[str, Path] = {}
    for base, prefix in [(function_dir, ()), *((d, (d.name,)) for d in shared_dirs if d.is_dir())]:
        for path in sorted(base.rglob("*.py")):
            parts = prefix + path.relative_to(base).with_suffix("").parts
            if parts and parts[-1] == "__init__":
                parts = parts[:-1]
            if parts and all(p.isidentifier() for p in parts):
                modules.setdefault(".".join(parts), path)
    return modules


class Scan:
    """The AWS calls reachable from one handler module."""

    def __init__(self, modules: dict[str, Path], project_root: Path):
        self.files = modules
        self.root = project_root
        self.trees: dict[str, ast.Module] = {}
        self.globals: dict[str, dict] = {}
        self.module_summaries: dict[str, Summary] = {}
        self.defs: dict[tuple[str, str], tuple[ast.AST, dict | None, str | None]] = {}
        self.summaries: dict[Function, Summary] = {}
        self.in_progress: set = set()
        self.ctor_args: dict[Klass, dict[Param, frozenset]] = {}
        self.contents: dict[tuple[str, str], frozenset] = {}  # what code puts into a dict by name
        self.class_values: dict[Klass, dict[str, frozenset]] = {}  # assignments in a class body
        self.problems: list[str] = []  # files that could not be parsed

    def run(self, entry: str) -> list[Call]:
        """Every call reachable from module `entry`, twice over so constructor arguments are known."""
        for _ in range(2):
            self.globals.clear(), self.module_summaries.clear(), self.summaries.clear(), self.defs.clear()
            self.module(entry)
            done: set = set()
            while len(done) < len(self.defs):
                for key in [k for k in self.defs if k not in done]:
                    done.add(key)
                    node = self.defs[key][0]
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.summary(Function(*key))
        calls = [c for s in self.module_summaries.values() for c in s.calls]
        calls += [c for s in self.summaries.values() for c in s.calls]
        return calls

    # --- modules ------------------------------------------------------------------------------

    def module(self, name: str) -> dict:
        """The globals of module `name`, evaluating it on first use."""
        if name in self.globals:
            return self.globals[name]
        env: dict[str, frozenset] = {}
        self.globals[name] = env
        tree = self._tree(name)
        if tree is not None:
            frame = Frame(self, name, env, None, owner=f"{name}:<module>")
            frame.block(tree.body)
            self.module_summaries[name] = frame.summary
        return env

    def _tree(self, name: str) -> ast.Module | None:
        if name not in self.trees:
            path = self.files[name]
            try:
                self.trees[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
                self.problems.append(f"{self.relative(path)}: cannot be parsed ({exc})")
                self.trees[name] = None
        return self.trees[name]

    def relative(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def import_value(self, module: str) -> frozenset:
        if module in self.files:
            self.module(module)
            return frozenset({Module(module)})
        return EMPTY

    def module_attr(self, module: str, name: str) -> frozenset:
        env = self.module(module)
        if name in env:
            return env[name]
        return self.import_value(f"{module}.{name}")

    # --- functions and classes ----------------------------------------------------------------

    def summary(self, fn: Function) -> Summary:
        """What `fn` calls and returns in terms of its own parameters (empty while recursing)."""
        if fn in self.summaries:
            return self.summaries[fn]
        if fn in self.in_progress or (fn.module, fn.qualname) not in self.defs:
            return Summary()
        node, closure, klass = self.defs[(fn.module, fn.qualname)]
        self.in_progress.add(fn)
        owner = f"{fn.module}:{fn.qualname}"
        env = {}
        params = _params(node)
        for index, param in enumerate(params):
            if index == 0 and klass and not _is_static(node):
                env[param] = frozenset({Instance(Klass(fn.module, klass))})
            else:
                env[param] = frozenset({Param(owner, param)})
        frame = Frame(self, fn.module, env, closure, owner=owner, klass=klass)
        frame.block(node.body)
        self.in_progress.discard(fn)
        self.summaries[fn] = frame.summary
        return frame.summary

    def instance_attrs(self, klass: Klass) -> dict[str, frozenset]:
        """`self.NAME` values stored by any method, constructor parameters bound by its callers."""
        attrs: dict[str, frozenset] = dict(self.class_values.get(klass, {}))
        binding = self.ctor_args.get(klass, {})
        prefix = klass.qualname + "."
        for module, qualname in list(self.defs):
            if module == klass.module and qualname.startswith(prefix) and "." not in qualname[len(prefix):]:
                for name, values in self.summary(Function(module, qualname)).stores.items():
                    attrs[name] = attrs.get(name, EMPTY) | substitute_all(frozenset(values), binding)
        return attrs

    def method(self, klass: Klass, name: str) -> Function | None:
        key = (klass.module, f"{klass.qualname}.{name}")
        return Function(*key) if key in self.defs else None


def _params(node: ast.AST) -> list[str]:
    args = node.args
    return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]


def _is_static(node: ast.AST) -> bool:
    return any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")
               for d in node.decorator_list)


class Frame(ResourceCalls):
    """Evaluates one module body or function body, collecting its summary."""

    def __init__(self, scan: Scan, module: str, env: dict, closure: dict | None, *, owner: str,
                 klass: str | None = None):
        self.scan, self.module, self.env, self.closure = scan, module, env, closure
        self.owner, self.klass = owner, klass
        self.summary = Summary()
        self.path = scan.relative(scan.files[module])

    # --- names --------------------------------------------------------------------------------

    def lookup(self, name: str) -> frozenset:
        for scope in (self.env, self.closure):
            if scope is not None and name in scope:
                return scope[name]
        module_env = self.scan.globals.get(self.module, {})
        if name in module_env:
            return module_env[name]
        return frozenset({Builtin("getattr")}) if name == "getattr" else EMPTY

    def bind(self, target: ast.AST, values: frozenset) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = self.env.get(target.id, EMPTY) | values
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element, EMPTY)
        elif isinstance(target, ast.Attribute):
            if isinstance(target.value, ast.Name) and self.klass and target.value.id in self.env and any(
                    isinstance(v, Instance) for v in self.env[target.value.id]):
                self.summary.stores.setdefault(target.attr, set()).update(values)
            self.expr(target.value)
        elif isinstance(target, ast.Subscript):
            self.expr(target.value), self.expr(target.slice)
            if isinstance(target.value, ast.Name):  # a cache: `_clients[service] = boto3.client(service)`
                key = self.container(target.value.id)
                self.scan.contents[key] = self.scan.contents.get(key, EMPTY) | values

    def container(self, name: str) -> tuple[str, str]:
        return (self.owner, name) if name in self.env else (self.module, name)

    def contents(self, node: ast.expr) -> frozenset:
        return self.scan.contents.get(self.container(node.id), EMPTY) if isinstance(node, ast.Name) else EMPTY

    # --- statements ---------------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.define(node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                self._import(alias)
        elif isinstance(node, ast.ImportFrom):
            self._import_from(node)
        elif isinstance(node, ast.Assign):
            values = self.expr(node.value)
            for target in node.targets:
                self.bind(target, values)
        elif isinstance(node, ast.AnnAssign):  # `x: T = v` (annotations are never evaluated)
            if node.value is not None:
                self.bind(node.target, self.expr(node.value))
        elif isinstance(node, ast.Return):
            if node.value is not None:
                self.summary.returns.update(self.expr(node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.bind(node.target, self.iterate(node.iter))
            self.block(node.body), self.block(node.orelse)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)
                elif isinstance(child, ast.stmt):
                    self.statement(child)
                elif isinstance(child, (ast.excepthandler, ast.withitem, ast.match_case)):
                    self._generic(child)

    def _generic(self, node: ast.AST) -> None:
        if isinstance(node, ast.withitem) and node.optional_vars is not None:
            self.bind(node.optional_vars, self.expr(node.context_expr))
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)
            elif isinstance(child, ast.stmt):
                self.statement(child)

    def define(self, node: ast.AST) -> None:
        prefix = "" if self.owner.endswith(":<module>") else self.owner.split(":", 1)[1] + ".<locals>."
        qualname = prefix + node.name
        closure = None if not prefix else {**(self.closure or {}), **self.env}
        if isinstance(node, ast.ClassDef):
            klass = Klass(self.module, qualname)
            self.env[node.name] = frozenset({klass})
            values = self.scan.class_values.setdefault(klass, {})
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.scan.defs[(self.module, f"{qualname}.{item.name}")] = (item, closure, qualname)
                elif isinstance(item, (ast.Assign, ast.AnnAssign)) and item.value is not None:
                    found = self.expr(item.value)  # `table = boto3.resource(...).Table(...)` in the class
                    for target in item.targets if isinstance(item, ast.Assign) else [item.target]:
                        if isinstance(target, ast.Name):
                            values[target.id] = values.get(target.id, EMPTY) | found
            return
        self.scan.defs[(self.module, qualname)] = (node, closure, None)
        self.env[node.name] = frozenset({Function(self.module, qualname)})

    def _import(self, alias: ast.alias) -> None:
        top = alias.name.split(".")[0]
        if top == "boto3":
            value = Builtin("boto3.session") if alias.asname and alias.name == "boto3.session" else Builtin("boto3")
        elif alias.name == "os":
            value = Builtin("os")
        else:
            target = alias.name if alias.asname else top
            values = self.scan.import_value(target)
            self.scan.import_value(alias.name)
            self.env[alias.asname or top] = values
            return
        self.env[alias.asname or top] = frozenset({value})

    def _import_from(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.module.split(".")
            if not (self.scan.files[self.module].name == "__init__.py"):
                package = package[:-1]
            package = package[:len(package) - node.level + 1]
            base = ".".join([*package, *([base] if base else [])])
        for alias in node.names:
            name = alias.asname or alias.name
            if base in ("boto3", "boto3.session") and alias.name in ("client", "resource", "Session"):
                self.env[name] = frozenset({Builtin(f"boto3.{alias.name}")})
            elif base == "boto3" and alias.name == "session":
                self.env[name] = frozenset({Builtin("boto3.session")})
            elif base == "os" and alias.name in ("environ", "getenv"):
                self.env[name] = frozenset({Builtin(f"os.{alias.name}")})
            elif base in self.scan.files or f"{base}.{alias.name}" in self.scan.files:
                self.env[name] = self.scan.module_attr(base, alias.name) if base in self.scan.files \
                    else self.scan.import_value(f"{base}.{alias.name}")

    # --- expressions --------------------------------------------------------------------------

    def expr(self, node: ast.expr | None) -> frozenset:
        if node is None:
            return EMPTY
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, bool, int, float)):
                return frozenset({Lit(str(node.value))})  # True → "True": WithDecryption=True is read
            return EMPTY
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            return frozenset().union(*(self.attribute(v, node.attr) for v in self.expr(node.value)))
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.JoinedStr):
            parts = [self.expr(v.value) if isinstance(v, ast.FormattedValue) else self.expr(v) for v in node.values]
            return frozenset(Fmt(combo) for combo in combinations(parts))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.expr(node.left), self.expr(node.right)
            if _stringy(left) and _stringy(right):
                return frozenset(Fmt(combo) for combo in combinations([left, right]))
            return EMPTY
        if isinstance(node, ast.Subscript):
            base, key = self.expr(node.value), self.expr(node.slice)
            if Builtin("os.environ") in base:
                return frozenset(_env(k) for k in key) or frozenset({UNKNOWN})
            return self.contents(node.value)
        if isinstance(node, (ast.BoolOp,)):
            return frozenset().union(*(self.expr(v) for v in node.values))
        if isinstance(node, ast.IfExp):
            self.expr(node.test)
            return self.expr(node.body) | self.expr(node.orelse)
        if isinstance(node, (ast.Await, ast.NamedExpr)):
            values = self.expr(node.value)
            if isinstance(node, ast.NamedExpr):
                self.bind(node.target, values)
            return values
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for generator in node.generators:
                self.bind(generator.target, self.iterate(generator.iter))
                for condition in generator.ifs:
                    self.expr(condition)
            for part in ("elt", "key", "value"):
                self.expr(getattr(node, part, None))
            return EMPTY
        if isinstance(node, ast.Lambda):
            self.expr(node.body)
            return EMPTY
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)
            elif isinstance(child, ast.keyword):
                self.expr(child.value)
        return EMPTY

    def iterate(self, node: ast.expr) -> frozenset:
        """Values of `for x in node`: listing a collection is a request; its items are resources."""
        items = set()
        for value in self.expr(node):
            if isinstance(value, Collection):
                items |= self._list_collection(value, node, {})
        return frozenset(items)

    def attribute(self, value: Any, name: str) -> frozenset:
        if isinstance(value, Module):
            return self.scan.module_attr(value.name, name)
        if isinstance(value, Builtin):
            return _builtin_attribute(value.name, name)
        if isinstance(value, Client):
            return EMPTY if name in _CLIENT_PLUMBING else frozenset({Bound(value, name)})
        if isinstance(value, Resource):
            return self._resource_attribute(value, name)
        if isinstance(value, (Collection, Helper)):
            return frozenset({Bound(value, name)})
        if isinstance(value, Klass):
            return self.scan.class_values.get(value, {}).get(name, EMPTY)
        if isinstance(value, Instance):
            if self.scan.method(value.klass, name):
                return frozenset({Bound(value, name)})
            return self.scan.instance_attrs(value.klass).get(name, EMPTY)
        if isinstance(value, (Lit, Env, Fmt)) and name in STRING_METHODS:
            return frozenset({Bound(value, name)})
        if isinstance(value, Param):  # maybe a client the caller passes
            return frozenset({Bound(value, name)})
        return EMPTY

    # --- calls --------------------------------------------------------------------------------

    def call(self, node: ast.Call) -> frozenset:
        positional = [self.expr(a.value if isinstance(a, ast.Starred) else a) for a in node.args]
        keywords = {}
        for keyword in node.keywords:
            values = self.expr(keyword.value)
            keywords[keyword.arg or "**"] = values
        results = set()
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("get", "setdefault", "pop"):
            if func.attr == "setdefault" and len(positional) > 1 and isinstance(func.value, ast.Name):
                key = self.container(func.value.id)
                self.scan.contents[key] = self.scan.contents.get(key, EMPTY) | positional[1]
            results |= self.contents(func.value)
        for callee in self.expr(node.func):
            results |= self.apply(callee, positional, keywords, node)
        return frozenset(results)

    def apply(self, callee: Any, positional: list, keywords: dict, node: ast.Call) -> frozenset:
        if isinstance(callee, Builtin):
            return self._builtin_call(callee.name, positional, keywords)
        if isinstance(callee, Function):
            return self._instantiate(callee, positional, keywords)
        if isinstance(callee, Klass):
            init = self.scan.method(callee, "__init__")
            if init:
                binding = self._binding(init, [EMPTY, *positional], keywords)
                stored = self.scan.ctor_args.setdefault(callee, {})
                for param, values in binding.items():
                    stored[param] = stored.get(param, EMPTY) | values
                self._instantiate(init, [EMPTY, *positional], keywords)
            return frozenset({Instance(callee)})
        if isinstance(callee, Bound):
            return self._bound_call(callee, positional, keywords, node)
        return EMPTY

    def _binding(self, fn: Function, positional: list, keywords: dict) -> dict:
        node = self.scan.defs[(fn.module, fn.qualname)][0]
        params = _params(node)
        owner = f"{fn.module}:{fn.qualname}"
        binding = {Param(owner, p): v for p, v in zip(params, positional) if v}
        binding.update({Param(owner, k): v for k, v in keywords.items() if k in params and v})
        return binding

    def _instantiate(self, fn: Function, positional: list, keywords: dict) -> frozenset:
        summary = self.scan.summary(fn)
        binding = self._binding(fn, positional, keywords)
        for call in summary.calls:
            for service in substitute(call.service, binding):
                self.summary.calls.append(Call(
                    call.site, service, call.method,
                    tuple((k, substitute_all(v, binding)) for k, v in call.args), call.via))
        return substitute_all(frozenset(summary.returns), binding)

    def _builtin_call(self, name: str, positional: list, keywords: dict) -> frozenset:
        first = positional[0] if positional else EMPTY
        if name in ("boto3.client", "boto3.resource"):
            services = keywords.get("service_name", first) or frozenset({UNKNOWN})
            if name == "boto3.client":
                return frozenset(Client(s if isinstance(s, (Lit, Param)) else UNKNOWN) for s in services)
            return frozenset(Resource(s.text, "service") for s in services if isinstance(s, Lit))
        if name == "boto3.Session":
            return frozenset({Builtin("session")})
        if name in ("os.getenv", "os.environ.get"):
            return frozenset(_env(k) for k in first) or frozenset({UNKNOWN})
        if name == "getattr" and len(positional) >= 2:
            out = set()
            for owner in positional[0]:
                for attr in positional[1] or {UNKNOWN}:
                    out |= self.attribute(owner, attr.text) if isinstance(attr, Lit) else (
                        {Bound(owner, UNKNOWN)} if isinstance(owner, Client) else set())
            return frozenset(out)
        return EMPTY

    def _bound_call(self, bound: Bound, positional: list, keywords: dict, node: ast.Call) -> frozenset:
        owner, name = bound.owner, bound.name
        if isinstance(owner, Param) and name not in STRING_METHODS:
            if name not in _CLIENT_PLUMBING | {"get_paginator", "get_waiter"}:
                self._record(node, ClientOf(owner), name, keywords, "client")
            return EMPTY
        if isinstance(owner, (Lit, Env, Fmt, Param)):
            return frozenset({owner})  # str.strip() and the like keep the value
        if isinstance(owner, Instance):
            method = self.scan.method(owner.klass, name)
            return self._instantiate(method, [frozenset({owner}), *positional], keywords) if method else EMPTY
        if isinstance(owner, Client):
            return self._client_call(owner, name, positional, keywords, node)
        if isinstance(owner, Helper):
            if (owner.kind, name) in (("paginator", "paginate"), ("waiter", "wait")):
                method = owner.name.text if isinstance(owner.name, Lit) else UNKNOWN
                self._record(node, owner.client.service, method, keywords, owner.kind)
            return EMPTY
        if isinstance(owner, Resource):
            return self._resource_call(owner, name, positional, keywords, node)
        if isinstance(owner, Collection):
            if name in COLLECTION_LISTING:
                self._list_collection(owner, node, keywords)
                return frozenset({owner})
            self._collection_batch(owner, name, keywords, node)
        return EMPTY

    def _client_call(self, client: Client, name: Any, positional: list, keywords: dict,
                     node: ast.Call) -> frozenset:
        if name in ("get_paginator", "get_waiter"):
            kind = "paginator" if name == "get_paginator" else "waiter"
            names = (positional[0] if positional else keywords.get(
                "operation_name" if kind == "paginator" else "waiter_name", EMPTY)) or frozenset({UNKNOWN})
            return frozenset(Helper(client, kind, n if isinstance(n, Lit) else UNKNOWN) for n in names)
        names = TRANSFER_ARGS.get(("client", name), ())
        keywords = {**dict(zip(names, positional)), **keywords}
        self._record(node, client.service, name, keywords, "transfer" if names else "client")
        return EMPTY

    def _record(self, node: ast.Call, service: Any, method: Any, keywords: dict, via: str) -> None:
        text = ast.unparse(node.func)
        site = Site(self.path, node.lineno, text if len(text) <= 60 else text[:59] + "…")
        args = tuple(sorted((k, frozenset(v)) for k, v in keywords.items()))
        self.summary.calls.append(Call(site, service, method, args, via))



def _builtin_attribute(owner: str, name: str) -> frozenset:
    table = {
        ("boto3", "client"): "boto3.client", ("boto3", "resource"): "boto3.resource",
        ("boto3", "Session"): "boto3.Session", ("boto3", "session"): "boto3.session",
        ("boto3.session", "Session"): "boto3.Session",
        ("session", "client"): "boto3.client", ("session", "resource"): "boto3.resource",
        ("os", "environ"): "os.environ", ("os", "getenv"): "os.getenv",
        ("os.environ", "get"): "os.environ.get",
    }
    if (owner, name) in table:
        return frozenset({Builtin(table[(owner, name)])})
    if owner.startswith("meta:") and name == "client":
        return frozenset({Client(Lit(owner[5:]))})
    return EMPTY


def _stringy(values: frozenset) -> bool:
    return bool(values) and all(isinstance(v, (Lit, Env, Fmt, Param, Unk)) for v in values)


def _env(key: Any) -> Any:
    return Env(key.text) if isinstance(key, Lit) else Env(key) if isinstance(key, Param) else UNKNOWN
