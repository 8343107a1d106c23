"""The audit said as text (per function: calls, grants, findings) or as JSON."""

from __future__ import annotations

import json

from infragen.audit import mapping
from infragen.audit.compare import KINDS
from infragen.audit.run import FunctionAudit


def coverage_line(audits: list[FunctionAudit]) -> tuple[str, dict]:
    services = sorted(set().union(*(a.services for a in audits))) if audits else []
    mapped, total, unmapped = mapping.coverage(services)
    share = 100 * mapped / total if total else 100.0
    text = (f"mapping: {mapped} of {total} botocore operations of the services in use "
            f"({', '.join(services) or 'none'}) map to an IAM action ({share:.1f} %)")
    return text, {"services": services, "mapped": mapped, "operations": total, "unmapped": unmapped}


def text(audits: list[FunctionAudit]) -> str:
    lines = []
    for audit in audits:
        lines.append(f"{audit.env} / {audit.name} (role{'s' if not audit.is_function else ''} {audit.role})")
        if not audit.is_function:
            lines += [f"  {f.kind.upper():<11} {f.where}: {f.message}" for f in audit.findings]
            lines.append("  findings: none" if not audit.findings else "")
            continue
        calls = [n for n in audit.needs if not n.platform]
        lines.append("  calls:" if calls or audit.unresolved else "  calls: none found")
        for need in calls:
            lines.append(f"    {need.site.path}:{need.site.line}  {need.site.text}  "
                         f"→ {need.action} on {need.resource or '?'}")
        for item in audit.unresolved:
            lines.append(f"    {item.site.path}:{item.site.line}  {item.site.text}  → ? ({item.reason})")
        platform = sorted({n.why.removeprefix("Lambda: ") for n in audit.needs if n.platform})
        lines.append(f"  platform: {', '.join(platform) or 'none'}")
        granted = sum(len(s.actions) * len(s.resources) for s in audit.statements if s.effect == "Allow")
        lines.append(f"  grants: {granted} action × resource in {len(audit.statements)} statements")
        for problem in audit.problems:
            lines.append(f"  not scanned: {problem}")
        if not audit.findings:
            lines.append("  findings: none")
        for finding in audit.findings:
            lines.append(f"  {finding.kind.upper():<11} {finding.where}: {finding.message}")
        lines.append("")
    counts = summary_counts(audits)
    total = sum(counts.values())
    said = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    lines.append(coverage_line(audits)[0])
    functions = sum(1 for a in audits if a.is_function)
    lines.append(f"{total} finding{'s' if total != 1 else ''} in {functions} functions and the stack's roles"
                 + (f" ({said})" if said else ""))
    return "\n".join(lines)


def summary_counts(audits: list[FunctionAudit]) -> dict[str, int]:
    return {kind: sum(1 for a in audits for f in a.findings if f.kind == kind) for kind in KINDS}


def as_json(audits: list[FunctionAudit]) -> str:
    def site(s):
        return None if s is None else {"path": s.path, "line": s.line, "call": s.text}

    return json.dumps({
        "functions": [{
            "env": a.env, "function": a.name if a.is_function else None, "role": a.role,
            "needs": [{"action": n.action, "resource": n.resource, "exact": n.exact, "why": n.why,
                       "site": site(n.site)} for n in a.needs],
            "unresolved": [{"site": site(u.site), "reason": u.reason} for u in a.unresolved],
            "statements": [{"where": s.where, "effect": s.effect, "actions": list(s.actions),
                            "resources": list(s.resources), "condition": s.condition} for s in a.statements],
            "findings": [{"kind": f.kind, "where": f.where, "message": f.message} for f in a.findings],
            "not_scanned": a.problems,
        } for a in audits],
        "coverage": coverage_line(audits)[1],
        "counts": summary_counts(audits),
    }, indent=2, default=str)
