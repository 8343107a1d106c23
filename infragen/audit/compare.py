"""Compare what a function needs with what its role grants, and say the differences as findings.

- missing: a need no effective grant covers;
- unused: a grant no need uses (platform needs use the platform's grants);
- too broad: a grant on a wider resource than every need it serves, or on a wider form of a
  resource the code uses (a table's indexes when only the table is queried);
- ineffective: a grant that can never apply (unknown action, an action that takes only `*` on a
  named resource, a condition key the action does not support or an operator of the wrong type,
  an encryption context the service never sends);
- unknown: a call the audit cannot resolve, unless `audit_ignore` acknowledges it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infragen import iam_catalog
from infragen.audit.needs import ENCRYPTION_CONTEXT_KEYS, Need, Unresolved
from infragen.policy_model import PolicyStatement, matches

KINDS = ("missing", "unused", "too broad", "ineffective", "unknown")
# The type of value each condition operator family compares (IfExists/ForAnyValue forms too).
OPERATOR_TYPES = {"String": {"String", "ArrayOfString", "ARN", "ArrayOfARN"},
                  "Arn": {"ARN", "ArrayOfARN"},
                  "Numeric": {"Numeric", "ArrayOfNumeric"}, "Date": {"Date"}, "Bool": {"Bool", "ArrayOfBool"},
                  "IpAddress": {"IPAddress"}, "NotIpAddress": {"IPAddress"}, "Binary": {"Binary"}}


@dataclass(frozen=True)
class Grant:
    """One action on one resource of an Allow statement."""
    statement: PolicyStatement
    action: str
    resource: str

    @property
    def text(self) -> str:
        return f"{self.action} on {self.resource} ({self.statement.where})"


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    where: str  # a call site, a policy statement, or "platform"


def grants_of(statements: list[PolicyStatement]) -> list[Grant]:
    return [Grant(s, a, r) for s in statements if s.effect == "Allow" and not (s.not_action or s.not_resource)
            for a in s.actions for r in s.resources]


def _covers(grant: Grant, need: Need) -> bool:
    if not _serves(grant, need):
        return False
    return need.resource is None or matches(need.resource, grant.resource)


def _may_cover(grant: Grant, need: Need) -> bool:
    """For an inexact need: the grant covers some of the values the computed name may take."""
    if not _serves(grant, need):
        return False
    return need.resource is None or matches(grant.resource, need.resource) or matches(need.resource, grant.resource)


def compare(needs: list[Need], unresolved: list[Unresolved], statements: list[PolicyStatement],
            ignore: tuple[tuple[str, str], ...] = (), function: str = "NAME") -> list[Finding]:
    grants = grants_of(statements)
    broken = {g: why for g in grants if (why := ineffective(g, needs))}
    working = [g for g in grants if g not in broken]
    findings = [Finding("ineffective", f"{g.action} on {g.resource}: {why}", g.statement.where)
                for g, why in broken.items()]
    used: dict[Grant, list[Need]] = {g: [] for g in working}
    for need in needs:
        # A need whose resource is not resolved at all is proven by no grant, only possibly met.
        covering = [g for g in working if _covers(g, need)] if need.resource is not None else []
        if need.exact or covering:
            for g in covering:
                used[g].append(need)
        if covering:
            continue
        possible = [g for g in working if _may_cover(g, need)] if not need.exact else []
        where = _where(need)
        if possible:
            for g in possible:
                used[g].append(need)
            if not _ignored(need, ignore):
                findings.append(Finding("unknown", f"{need.why} needs {need.action} on a resource computed at "
                                        f"run time ({need.resource or 'not resolved'}); granted on "
                                        f"{', '.join(sorted({g.resource for g in possible}))}", where))
        else:
            findings.append(Finding("missing", f"{need.why.removeprefix('Lambda: ')} needs {need.action} on "
                                    f"{need.resource or '?'}"
                                    f"{_hint(need).replace('[functions.NAME]', f'[functions.{function}]')}", where))
    for grant, served in used.items():
        if not served:
            kind = "too broad" if _wider_form_of_used(grant, needs) else "unused"
            findings.append(Finding(kind, f"{grant.action} on {grant.resource}: no call needs it"
                                    + (" (the code uses a narrower resource)" if kind == "too broad" else ""),
                                    grant.statement.where))
        elif _has_wildcard(grant.resource) and all(n.exact and n.resource for n in served) and not any(
                n.resource == grant.resource for n in served):
            narrow = ", ".join(sorted({n.resource for n in served}))
            findings.append(Finding("too broad", f"{grant.action} on {grant.resource}: the code uses only {narrow}",
                                    grant.statement.where))
    for item in unresolved:
        if not _ignored(item, ignore):
            findings.append(Finding("unknown", f"{item.text}: {item.reason}", f"{item.site.path}:{item.site.line}"))
    return _dedupe(findings)


def _serves(grant: Grant, need: Need) -> bool:
    """Same action, and no kms:ViaService condition naming another service than the need's."""
    if not matches(need.action, grant.action, case_insensitive=True):
        return False
    via = _via_services(grant.statement.condition)
    return not via or need.service in via


def _where(need: Need) -> str:
    return "Lambda platform" if need.site is None else f"{need.site.path}:{need.site.line}"


def _ignored(item, ignore: tuple[tuple[str, str], ...]) -> bool:
    site = item.site
    if site is None:
        return False
    names = {f"{site.path}:{site.line}", site.text}
    return any(call in names or f"{site.path}:{site.line}".endswith("/" + call) for call, _ in ignore)


def _hint(need: Need) -> str:
    if need.platform:
        return ""
    if need.action.startswith("kms:"):
        context = ", ".join(sorted(ENCRYPTION_CONTEXT_KEYS.get(need.service, ()))) or "its"
        return f"; a {need.action} statement via {need.service} (encryption context {context}) would grant it"
    if need.action.startswith("dynamodb:") and need.resource and need.resource.startswith("${"):
        if "/index/" in need.resource:
            index = need.resource.rsplit("/index/", 1)[1]
            return (f'; grant it with tables = {{ "TABLE/{index}" = ["{need.action}"] }} in [functions.NAME], '
                    f"the index declared as [tables.TABLE.indexes.{index}]")
        return '; grant it with tables = { NAME = "read" | "write" | "read_write" } in [functions.NAME]'
    if need.action == "ssm:GetParameter" and need.resource:
        name = need.resource.split(":parameter", 1)[-1]
        return f'; grant it with parameters = {{ key = "{name}" }} in [functions.NAME]'
    return (f'; grant it with access = [{{ actions = ["{need.action}"], resources = ["{need.resource or "…"}"] }}]'
            " in [functions.NAME]")


def _has_wildcard(resource: str) -> bool:
    return "*" in resource.replace("${", "").replace("}", "") or "?" in resource


def _wider_form_of_used(grant: Grant, needs: list[Need]) -> bool:
    """The grant is a wildcard extension of a resource the code uses with this action."""
    if not _has_wildcard(grant.resource):
        return False
    stem = re.split(r"[*?]", grant.resource, maxsplit=1)[0].rstrip("/")
    return any(n.resource and matches(n.action, grant.action, case_insensitive=True)
               and stem.startswith(n.resource) for n in needs)


def ineffective(grant: Grant, needs: list[Need]) -> str | None:
    """Why this grant can never apply, or None."""
    if "*" in grant.action or "?" in grant.action:
        return None
    info = iam_catalog.lookup(grant.action)
    if info is None:
        return "no such IAM action"
    if not info.resource_types and grant.resource != "*":
        return f"{info.full_name} takes only Resource \"*\" (it has no resource types)"
    wrong_service = _arn_service_problem(info, grant.resource)
    if wrong_service:
        return wrong_service
    keys = iam_catalog.condition_keys(grant.action) or {}
    for operator, by_key in grant.statement.condition.items():
        family = re.sub(r"^(ForAnyValue:|ForAllValues:)", "", operator).removesuffix("IfExists")
        family = re.match(r"(Not)?(String|Arn|Numeric|Date|Bool|IpAddress|Binary|Null)", family)
        for key in by_key if isinstance(by_key, dict) else ():
            if key.lower().startswith("aws:"):
                continue
            known = _condition_key(keys, key)
            if known is None:
                return f"{info.full_name} does not support the condition key {key}"
            kind = family.group(2) if family else None
            if kind and kind != "Null" and known.type not in OPERATOR_TYPES.get(kind, {known.type}):
                return f"{operator} compares {kind} values but {key} is of type {known.type}"
            problem = _context_problem(grant, key, needs)
            if problem:
                return problem
    return None


def _arn_service_problem(info, resource: str) -> str | None:
    """An ARN of another service than every resource type of the action (s3:GetObject on a table)."""
    parts = re.sub(r"\$\{AWS::(\w+)\}", r"\1", resource).split(":")  # pseudo parameters hold colons
    if not info.resource_types or len(parts) < 6 or parts[0] != "arn" or not parts[2].isalnum():
        return None
    formats = [iam_catalog.resource_arn_format(info.service, t) for t in info.resource_types]
    services = {f.split(":")[2] for f in formats if f and len(f.split(":")) > 2}
    if services and parts[2] not in services:
        return f"{info.full_name} applies to {', '.join(sorted(services))} ARNs, not {parts[2]} ones"
    return None


def _condition_key(keys: dict, key: str):
    if key.lower() in keys:
        return keys[key.lower()]
    for name, info in keys.items():
        pattern = re.sub(r"\\\$\\\{[^}]*\\\}", ".+", re.escape(name))
        if re.fullmatch(pattern, key.lower()):
            return info
    return None


def _context_problem(grant: Grant, key: str, needs: list[Need]) -> str | None:
    """An encryption-context key that the service using the key never sends."""
    prefix = "kms:encryptioncontext:"
    if not key.lower().startswith(prefix):
        return None
    context = key[len(prefix):]
    via = _via_services(grant.statement.condition)
    services = via or {n.service for n in needs if n.action.lower() == grant.action.lower()
                       and n.resource and matches(n.resource, grant.resource)}
    known = set().union(*(ENCRYPTION_CONTEXT_KEYS.get(s, set()) for s in services)) if services else set()
    if services and all(s in ENCRYPTION_CONTEXT_KEYS for s in services) and context not in known:
        return (f"{', '.join(sorted(services))} encrypt{'s' if len(services) == 1 else ''} under the context "
                f"{', '.join(sorted(known))}, never {context}")
    return None


def _via_services(condition: dict) -> set[str]:
    services = set()
    for operator, by_key in condition.items():
        if not operator.startswith("String") or not isinstance(by_key, dict):
            continue
        for key, value in by_key.items():
            if key.lower() == "kms:viaservice":
                for v in value if isinstance(value, list) else [value]:
                    text = v if isinstance(v, str) else str(v.get("Fn::Sub", "")) if isinstance(v, dict) else ""
                    services.add(text.split(".", 1)[0])
    return services


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for finding in findings:
        if finding not in seen:
            seen.add(finding)
            out.append(finding)
    return sorted(out, key=lambda f: (KINDS.index(f.kind), f.where, f.message))
