"""The abstract values the scan tracks through a function's code (nothing is executed).

A scanned expression evaluates to a frozenset of these. Strings the code builds from literals and
environment variables stay symbolic (`Env`, `Fmt`) until the audit resolves them through the
rendered template; a function's parameters stay `Param` until a call site binds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Lit:
    """A literal string."""
    text: str


@dataclass(frozen=True)
class Env:
    """The value of an environment variable (`os.environ["X"]`, `os.getenv("X")`); `name` is a
    string, or a Param until a call site names the variable."""
    name: Any


@dataclass(frozen=True)
class Unk:
    """A value the scan cannot know (request data, arithmetic, a library's result)."""


UNKNOWN = Unk()


@dataclass(frozen=True)
class Param:
    """Parameter `name` of function `owner`, until a call site binds it."""
    owner: str
    name: str


@dataclass(frozen=True)
class ClientOf:
    """Whatever client parameter `param` is bound to: a call on a parameter, kept until a call
    site passes a client (then it is that client's service) or anything else (then no AWS call)."""
    param: Param


@dataclass(frozen=True)
class Fmt:
    """A string joined from parts (f-string, `+`)."""
    parts: tuple


@dataclass(frozen=True)
class Client:
    """A boto3 client; `service` is a Lit, a Param or UNKNOWN."""
    service: Any


@dataclass(frozen=True)
class Resource:
    """A boto3 resource object: the service resource (`kind` "service") or one of its
    sub-resources (`Table`, `Object`…) with its identifiers (name → frozenset of values)."""
    service: str
    kind: str
    ids: tuple = ()

    def id_values(self, name: str) -> frozenset:
        return dict(self.ids).get(name, frozenset({UNKNOWN}))


@dataclass(frozen=True)
class Collection:
    """A resource collection (`bucket.objects`, `dynamodb.tables`): listing it makes a request."""
    parent: Resource
    name: str


@dataclass(frozen=True)
class Helper:
    """A paginator or waiter of a client: `kind` "paginator" or "waiter", `name` as given."""
    client: Client
    kind: str
    name: Any


@dataclass(frozen=True)
class Bound:
    """An attribute of a tracked value that can be called: `owner.name(...)`."""
    owner: Any
    name: Any  # str, or UNKNOWN for getattr(owner, computed)


@dataclass(frozen=True)
class Builtin:
    """A callable or module the scan knows: "boto3", "boto3.client", "boto3.resource",
    "boto3.Session", "session", "os", "os.environ", "os.getenv", "getattr"."""
    name: str


@dataclass(frozen=True)
class Module:
    """A module of the function's own code."""
    name: str


@dataclass(frozen=True)
class Function:
    """A function (or method) of the function's own code, by module and qualified name."""
    module: str
    qualname: str


@dataclass(frozen=True)
class Klass:
    """A class of the function's own code; its instances are `Instance`."""
    module: str
    qualname: str


@dataclass(frozen=True)
class Instance:
    klass: Klass


STRING_METHODS = frozenset({"strip", "rstrip", "lstrip"})  # keep a string's value for resolving


def substitute(value: Any, binding: dict) -> frozenset:
    """`value` with each Param replaced by its bound values (unbound Params stay)."""
    if isinstance(value, Param):
        return binding.get(value, frozenset({value}))
    if isinstance(value, ClientOf):
        bound = binding.get(value.param)
        if bound is None:
            return frozenset({value})
        return frozenset(v.service if isinstance(v, Client) else ClientOf(v) for v in bound
                         if isinstance(v, (Client, Param)))
    if isinstance(value, Env) and isinstance(value.name, Param):
        return frozenset(Env(n.text) if isinstance(n, Lit) else Env(n) if isinstance(n, Param) else UNKNOWN
                         for n in substitute(value.name, binding))
    if isinstance(value, Fmt):
        return frozenset(Fmt(parts) for parts in combinations([substitute(p, binding) for p in value.parts]))
    if isinstance(value, Client):
        return frozenset(Client(s) for s in substitute(value.service, binding))
    if isinstance(value, Resource) and value.ids:
        return frozenset({Resource(value.service, value.kind,
                                   tuple((k, substitute_all(v, binding)) for k, v in value.ids))})
    if isinstance(value, Helper):
        return frozenset(Helper(c, value.kind, n) for c in substitute(value.client, binding)
                         for n in substitute(value.name, binding))
    return frozenset({value})


def has_param(value: Any) -> bool:
    """True while a value still depends on a parameter no call site has bound."""
    if isinstance(value, Param):
        return True
    if isinstance(value, Env):
        return isinstance(value.name, Param)
    return isinstance(value, Fmt) and any(has_param(p) for p in value.parts)


def substitute_all(values: frozenset, binding: dict) -> frozenset:
    return frozenset().union(*(substitute(v, binding) for v in values)) if values else values


MAX_COMBINATIONS = 32  # an f-string of many multi-valued parts is cut off here


def combinations(choices: list[frozenset]) -> list[tuple]:
    """One tuple per choice of a value from each set (an empty set counts as UNKNOWN)."""
    combos: list[tuple] = [()]
    for options in choices:
        combos = [c + (o,) for c in combos for o in (options or {UNKNOWN})][:MAX_COMBINATIONS]
    return combos
