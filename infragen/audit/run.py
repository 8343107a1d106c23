"""Audit each function of an environment: scan its code, render its role, compare the two."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from infragen.audit.compare import Finding, compare
from infragen.audit.needs import FunctionContext, Need, Unresolved, call_needs, platform_needs
from infragen.audit.scan import Call, Scan, module_files
from infragen.audit.values import ClientOf, Lit, Param, has_param
from infragen.config import EnvConfig, FunctionConfig
from infragen.policy_model import PolicyStatement, statements
from infragen.stack.names import function_logical_id


@dataclass
class FunctionAudit:
    env: str
    name: str
    role: str
    needs: list[Need]
    unresolved: list[Unresolved]
    statements: list[PolicyStatement]
    findings: list[Finding]
    problems: list[str] = field(default_factory=list)  # files the scan could not parse
    services: set[str] = field(default_factory=set)
    is_function: bool = True  # False: the stack's other roles, checked for ineffective grants only


class CodeScanner:
    """Scans each function's code once, however many environments are audited."""

    def __init__(self, root: Path):
        self.root = root
        self._done: dict[tuple, tuple[list[Call], list[str]]] = {}

    def calls(self, fn: FunctionConfig, shared: tuple[str, ...]) -> tuple[list[Call], list[str]]:
        key = (fn.source, fn.handler_module, shared)
        if key not in self._done:
            modules = module_files(self.root / fn.source, [self.root / p for p in shared])
            scan = Scan(modules, self.root)
            try:
                found = scan.run(fn.handler_module) if fn.handler_module in modules else []
            except RecursionError:  # expressions nested deeper than Python's stack
                found = []
                scan.problems.append(f"{fn.source}: code nested too deeply to scan")
            self._done[key] = (merge(found), scan.problems)
        return self._done[key]


def merge(calls: list[Call]) -> list[Call]:
    """One entry per call site and arguments; variants still holding a parameter are dropped when
    the site was also seen with its callers' values (they are the same call, unbound)."""
    by_site: dict[tuple, list[Call]] = {}
    for call in dict.fromkeys(calls):
        by_site.setdefault((call.site, call.method, call.via), []).append(call)
    merged = []
    for variants in by_site.values():
        variants = [c for c in variants if not isinstance(c.service, ClientOf)]  # never given a client
        bound = [c for c in variants if not _unbound(c)]
        merged += bound or variants
    return sorted(merged, key=lambda c: (c.site.path, c.site.line, str(c.method)))


def _unbound(call: Call) -> bool:
    return isinstance(call.service, Param) or any(has_param(v) for _, values in call.args for v in values)


def audit_env(cfg: EnvConfig, root: Path, scanner: CodeScanner) -> list[FunctionAudit]:
    from infragen.render import stack_template

    resources = json.loads(stack_template(cfg))["Resources"]
    audits = [audit_function(cfg, fn, resources, scanner) for fn in cfg.functions]
    return audits + [audit_stack_roles(cfg, resources, {a.role for a in audits})]


def role_statements(resources: dict, role_id: str) -> list[PolicyStatement]:
    role = resources[role_id]["Properties"]
    return [s for p in role.get("Policies", [])
            for s in statements(p["PolicyDocument"], f"{role_id} policy {p['PolicyName']}")]


def audit_stack_roles(cfg: EnvConfig, resources: dict, function_roles: set[str]) -> FunctionAudit:
    """The stack's own roles (flow logs, API Gateway…): grants that can never apply."""
    roles = sorted(k for k, v in resources.items() if v.get("Type") == "AWS::IAM::Role" and k not in function_roles)
    policy = [s for role in roles for s in role_statements(resources, role)]
    findings = [f for f in compare([], [], policy) if f.kind == "ineffective"]
    return FunctionAudit(cfg.env, "stack roles", ", ".join(roles), [], [], policy, findings, is_function=False)


def audit_function(cfg: EnvConfig, fn: FunctionConfig, resources: dict, scanner: CodeScanner) -> FunctionAudit:
    props = resources[function_logical_id(fn.name)]["Properties"]
    ctx = FunctionContext(fn.name, resources, props)
    role_id = props["Role"]["Fn::GetAtt"][0]
    policy = role_statements(resources, role_id)
    calls, problems = scanner.calls(fn, cfg.shared_packages)
    needs, unresolved = [], []
    for call in calls:
        found, unknown = call_needs(call, ctx)
        needs += found
        unresolved += unknown
    needs += platform_needs(ctx, function_logical_id(fn.name))
    findings = compare(needs, unresolved, policy, fn.audit_ignore, fn.name)
    findings += [Finding("unknown", f"not scanned: {problem}", fn.source) for problem in problems]
    services = {c.service.text for c in calls if isinstance(c.service, Lit)}
    return FunctionAudit(cfg.env, fn.name, role_id, needs, unresolved, policy, findings, problems, services)
