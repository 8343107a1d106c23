"""Which resource changes broaden access: pure functions over template resource dicts.

Each access-bearing resource is reduced to "grants" (one per principal × action × resource ×
condition of an Allow, one per ingress rule, …). A change broadens access when the new version
has a grant the old one lacked, or lost a Deny. Values CloudFormation computes (Ref, GetAtt)
are compared as written; a change to them counts as new. The grants found are said one line
per document, effect, principal, resource and condition, listing their actions.
"""

from __future__ import annotations

import json
from itertools import product
from typing import Any, Callable, NamedTuple

from infragen.deploy.table import cut_middle
from infragen.policy_model import as_list as _as_list, compact as _compact, is_intrinsic as _is_intrinsic
from infragen.policy_model import matches as _wildcard_match, short as _short

CONDITION_VALUE_CHARS = 48  # a condition value longer than this is cut in the middle


class Grant(NamedTuple):
    """One thing a resource allows or denies, said as `head + action + tail`."""

    effect: str  # "Allow" or "Deny"
    head: str  # "key policy: allows ", or the whole sentence when there is no action to list
    action: str = ""  # grants with the same head and tail are said once, their actions listed
    tail: str = ""  # " on * to Service:logs.amazonaws.com if StringEquals aws:SourceAccount=…"
    scope: tuple = ()  # where, effect, principal-free context (condition) a wildcard may cover within
    pattern: tuple[str, str, str] | None = None  # principal, action, resource as plain strings (IAM wildcards)


Grants = dict[tuple, Grant]  # exact identity → grant

_PUBLIC_ACLS = {"PublicRead", "PublicReadWrite", "AuthenticatedRead"}
_BLOCK_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def reasons(resource_type: str, old: dict | None, new: dict | None) -> list[str]:
    """How changing resource `old` into `new` (None: absent) broadens access; [] if it does not."""
    before = (old or {}).get("Properties") or {}
    after = (new or {}).get("Properties") or {}
    found = []
    extract = _GRANTS.get(resource_type)
    if extract:
        old_grants = extract(before) if old else {}
        new_grants = extract(after) if new else {}
        gained = [g for k, g in new_grants.items() if g.effect == "Allow" and not _covered(k, g, old_grants)]
        lost = [g for k, g in old_grants.items() if g.effect == "Deny" and not _covered(k, g, new_grants)]
        found += _said(gained) + _said(lost, "removes ")
    check = _CHECKS.get(resource_type)
    if check and new:
        found += check(before if old else None, after)
    return found


def _said(grants: list[Grant], prefix: str = "") -> list[str]:
    """One line per head and tail, listing the actions of its grants in order of appearance."""
    actions: dict[tuple[str, str], list[str]] = {}
    for grant in grants:
        listed = actions.setdefault((grant.head, grant.tail), [])
        if grant.action not in listed:
            listed.append(grant.action)
    return [f"{prefix}{head}{', '.join(listed)}{tail}" for (head, tail), listed in actions.items()]


def _covered(key: tuple, grant: Grant, others: Grants) -> bool:
    """True if `others` holds the same grant, or one whose wildcards include it (s3:* covers s3:GetObject)."""
    if key in others:
        return True
    return grant.pattern is not None and any(
        other.pattern is not None and other.scope == grant.scope and _matches(grant.pattern, other.pattern)
        for other in others.values()
    )


def _matches(specific: tuple[str, str, str], wildcard: tuple[str, str, str]) -> bool:
    (principal, action, resource), (any_principal, any_action, any_resource) = specific, wildcard
    return (
        _wildcard_match(principal, any_principal)
        and _wildcard_match(action, any_action, case_insensitive=True)  # action names are case-insensitive
        and _wildcard_match(resource, any_resource)
    )


# --- grants -------------------------------------------------------------------------------------


def policy_grants(document: Any, where: str, realm: str = "") -> Grants:
    """One grant per principal × action × resource of each statement of an IAM policy document.

    `where` names the document; a wildcard covers grants across documents of the same `realm`
    (e.g. all inline policies of one role).
    """
    if isinstance(document, dict) and isinstance(document.get("Fn::Sub"), str) and len(document) == 1:
        document = document["Fn::Sub"]  # policy text with ${...} placeholders: still JSON
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return {(where, document): Grant("Allow", f"{where}: changed (unreadable policy text)")}
    if not isinstance(document, dict) or _is_intrinsic(document):
        return {(where, _compact(document)): Grant("Allow", f"{where}: changed (computed policy)")}
    grants: Grants = {}
    for statement in _as_list(document.get("Statement")):
        grants |= _statement_grants(statement, where, realm)
    return grants


def _statement_grants(statement: Any, where: str, realm: str) -> Grants:
    """One grant per principal × action × resource of one statement, all under its condition."""
    if not isinstance(statement, dict):
        return {(where, _compact(statement)): Grant("Allow", f"{where}: computed statement {_compact(statement)}")}
    effect = statement.get("Effect", "Allow")
    condition = statement.get("Condition")
    head = f"{where}: {'denies' if effect == 'Deny' else 'allows'} "
    scope = (realm or where, effect, _compact(condition))
    grants: Grants = {}
    resources = _either(statement, "Resource") or [_NONE]
    for principal, action, resource in product(_principals(statement), _either(statement, "Action"), resources):
        tail = f" on {resource.text}" if resource.text else ""
        tail += f" to {principal.text}" if principal.text else ""
        tail += f" if {_condition_text(condition)}" if condition else ""
        terms = (principal, action, resource)
        pattern = tuple(t.text for t in terms) if all(t.plain for t in terms) else None
        key = (where, effect, *(t.key for t in terms), _compact(condition))
        grants[key] = Grant(effect, head, action.text, tail, scope, pattern)
    return grants


def _condition_text(condition: Any) -> str:
    """`StringEquals aws:SourceAccount=${AWS::AccountId} and ArnLike aws:SourceArn=[a, b]`.

    Each value longer than CONDITION_VALUE_CHARS is cut in the middle, so both ends stay readable.
    """
    if not isinstance(condition, dict) or _is_intrinsic(condition):
        return _cut(condition)
    tests = []
    for operator, by_key in condition.items():
        if not isinstance(by_key, dict) or _is_intrinsic(by_key):
            tests.append(f"{operator} {_cut(by_key)}")
            continue
        for key, value in by_key.items():
            values = [_cut(v) for v in _as_list(value)]
            tests.append(f"{operator} {key}=" + (values[0] if len(values) == 1 else f"[{', '.join(values)}]"))
    return " and ".join(tests)


def _cut(value: Any) -> str:
    return cut_middle(_short(value), CONDITION_VALUE_CHARS)


class _Term(NamedTuple):
    key: str  # exact identity, for comparing
    text: str  # as a person would write it
    plain: bool  # a literal string, where IAM wildcards apply


_NONE = _Term("", "", True)


def _term(value: Any, prefix: str = "") -> _Term:
    return _Term(prefix + _compact(value), prefix + _short(value), isinstance(value, str))


def _all_but(value: Any) -> _Term:
    """The whole of a NotPrincipal, NotAction or NotResource as one term, never matched against wildcards.

    One term, not one per name: `NotAction: [a, b]` becoming `[a]` newly allows b.
    """
    if isinstance(value, dict) and not _is_intrinsic(value):
        names = [f"{kind}:{_short(v)}" for kind, values in value.items() for v in _as_list(values)]
    else:
        names = [_short(v) for v in _as_list(value)]
    return _Term(f"all but {_compact(value)}", f"all but {', '.join(names)}", False)


def _principals(statement: dict) -> list[_Term]:
    value = statement.get("Principal")
    if isinstance(value, dict) and not _is_intrinsic(value):
        return [_term(p, f"{kind}:") for kind, ps in value.items() for p in _as_list(ps)]
    if value is not None:
        return [_term(value)]
    if "NotPrincipal" in statement:
        return [_all_but(statement["NotPrincipal"])]
    return [_NONE]


def _either(statement: dict, key: str) -> list[_Term]:
    """Values of `key` (e.g. Action), or the "all but …" of `NotAction`."""
    if key in statement:
        return [_term(v) for v in _as_list(statement[key])]
    if f"Not{key}" in statement:
        return [_all_but(statement[f"Not{key}"])]
    return []


def _inline_policies(props: dict, where: str) -> Grants:
    grants: Grants = {}
    for policy in _as_list(props.get("Policies")):
        if not isinstance(policy, dict):  # e.g. Fn::If
            policy = {"PolicyName": "?", "PolicyDocument": policy}
        name = _short(policy.get("PolicyName", "?"))
        grants |= policy_grants(policy.get("PolicyDocument"), f"{where} policy {name}", realm=where)
    for arn in _as_list(props.get("ManagedPolicyArns")):
        grants[("managed", _compact(arn))] = Grant("Allow", f"attaches managed policy {_short(arn)}")
    return grants


def _role(props: dict) -> Grants:
    trust = policy_grants(props.get("AssumeRolePolicyDocument", {}), "trust policy")
    return _inline_policies(props, "role") | trust


def _identity_policy(props: dict) -> Grants:
    name = _short(props.get("PolicyName") or props.get("ManagedPolicyName") or "")
    grants = policy_grants(props.get("PolicyDocument", {}), f"policy {name}".rstrip())
    for kind in ("Roles", "Users", "Groups"):
        for target in _as_list(props.get(kind)):
            text = f"policy attached to {kind[:-1].lower()} {_short(target)}"
            grants[("attached", kind, _compact(target))] = Grant("Allow", text)
    return grants


def _resource_policy(key: str, where: str) -> Callable[[dict], Grants]:
    return lambda props: policy_grants(props.get(key, {}), where)


def _lambda_permission(props: dict) -> Grants:
    limits = ("SourceArn", "SourceAccount", "PrincipalOrgID", "FunctionUrlAuthType")
    scope = {k: props[k] for k in limits if k in props}
    text = f"lets {_short(props.get('Principal'))} call {_short(props.get('Action'))}"
    text += f" on {_short(props.get('FunctionName'))}"
    text += f" ({', '.join(f'{k} {_short(v)}' for k, v in scope.items())})" if scope else " from any source"
    key = ("lambda permission", *(_compact(props.get(k)) for k in ("Principal", "Action", "FunctionName")))
    return {(*key, _compact(scope)): Grant("Allow", text)}


def _ingress_rule(rule: Any) -> Grants:
    if not isinstance(rule, dict):
        return {("ingress", _compact(rule)): Grant("Allow", f"security group ingress: computed rule {_compact(rule)}")}
    sources = ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourceSecurityGroupName", "SourcePrefixListId")
    source = next((_term(rule[k]) for k in sources if k in rule), _Term("?", "?", False))
    protocol = str(rule.get("IpProtocol", "?"))
    low, high = rule.get("FromPort", -1), rule.get("ToPort", -1)
    ports = "all ports" if low in (-1, "-1") else f"port {low}" if low == high else f"ports {low}-{high}"
    what = "all traffic" if protocol == "-1" else f"{protocol} {ports}"
    key = ("ingress", protocol, _compact(low), _compact(high), source.key)
    return {key: Grant("Allow", f"security group ingress: {what} from {source.text}")}


def _security_group(props: dict) -> Grants:
    grants: Grants = {}
    for rule in _as_list(props.get("SecurityGroupIngress")):
        grants |= _ingress_rule(rule)
    return grants


_GRANTS: dict[str, Callable[[dict], Grants]] = {
    "AWS::IAM::Role": _role,
    "AWS::IAM::User": lambda props: _inline_policies(props, "user"),
    "AWS::IAM::Group": lambda props: _inline_policies(props, "group"),
    "AWS::IAM::Policy": _identity_policy,
    "AWS::IAM::ManagedPolicy": _identity_policy,
    "AWS::Lambda::Permission": _lambda_permission,
    "AWS::EC2::SecurityGroup": _security_group,
    "AWS::EC2::SecurityGroupIngress": _ingress_rule,
    "AWS::KMS::Key": _resource_policy("KeyPolicy", "key policy"),
    "AWS::S3::BucketPolicy": _resource_policy("PolicyDocument", "bucket policy"),
    "AWS::SQS::QueuePolicy": _resource_policy("PolicyDocument", "queue policy"),
    "AWS::SNS::TopicPolicy": _resource_policy("PolicyDocument", "topic policy"),
}


# --- settings that loosen -----------------------------------------------------------------------


def _bucket(old: dict | None, new: dict) -> list[str]:
    found = []
    acl = new.get("AccessControl")
    if acl in _PUBLIC_ACLS and acl != (old or {}).get("AccessControl"):
        found.append(f"bucket ACL becomes {acl}")
    lost = _blocks_on(old) - _blocks_on(new)
    block = "PublicAccessBlockConfiguration"
    if old is not None and block in old and block not in new:
        found.append("public access block removed")
    elif lost:
        found.append(f"public access block turns off {', '.join(f for f in _BLOCK_FLAGS if f in lost)}")
    return found


def _blocks_on(props: dict | None) -> set[str]:
    """Public-access blocks in force; a bucket created without the setting gets all four (AWS default)."""
    config = (props or {}).get("PublicAccessBlockConfiguration")
    if config is None:
        return set(_BLOCK_FLAGS)
    return {f for f in _BLOCK_FLAGS if isinstance(config, dict) and _truthy(config.get(f))}


def _api_method(old: dict | None, new: dict) -> list[str]:
    if old is None:
        return []
    found = []
    if _auth(old) != "NONE" and _auth(new) == "NONE":
        found.append(f"method loses authorization (was {_auth(old)})")
    if _truthy(old.get("ApiKeyRequired")) and not _truthy(new.get("ApiKeyRequired")):
        found.append("method no longer requires an API key")
    return found


def _auth(props: dict) -> str:
    return _short(props.get("AuthorizationType", "NONE")).upper()


_CHECKS: dict[str, Callable[[dict | None, dict], list[str]]] = {
    "AWS::S3::Bucket": _bucket,
    "AWS::ApiGateway::Method": _api_method,
    "AWS::ApiGatewayV2::Route": _api_method,
}


# --- values ---------------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
