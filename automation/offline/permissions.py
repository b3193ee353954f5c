"""`permissions`: the least-privilege IAM policy each role needs for one stack, and the cluster RBAC.

Three roles: `deploy` (pulumi up/destroy through the driver), `plan` (preview and refresh: read
only), `verify` (the live checks). The actions come from automation/provider_calls.py; every grant
is scoped to what this stack creates, and judged by effect in the tests (escalation attempts
denied, every provider call allowed, by the evaluator and by iam-simulate):
- buckets by their exact name, or by the generated name's exact shape (prefix + 26 characters), so
  `kf-artifacts-prod-` never matches another stack's `kf-artifacts-prod-eu-...`;
- keys only when tagged `kubeflow-artifact-store:stack = <project>/<stack>` (CreateKey only with
  that tag); never ScheduleKeyDeletion (keys are retained);
- roles under `<iamPath>kf-*`, created and changed only with the stack's permissions boundary
  when one is configured; boundaries can never be removed; PassRole only of the replication role,
  only to S3;
- IAM users only in static mode with a created user, only `<iamPath>kf-*`;
- no object deletion in a protected environment (emptying is refused there anyway)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from automation.environments import Environment, environment
from automation.offline.provider_calls import DEPLOY_ACTIONS, DRIVER_CALLS, EMPTYING, NOT_AWS, READ_PREFIXES, VERIFY_CALLS
from components import names
from components.settings import Settings

GENERATED_SUFFIX = "?" * 26  # the AWS provider appends 26 characters to a name prefix
ROLE_WRITES = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
)
USER_WRITES = ("iam:CreateUser", "iam:PutUserPolicy", "iam:PutUserPermissionsBoundary", "iam:DeleteUserPolicy")
UNSCOPED = ("kms:ListAliases", "sts:GetCallerIdentity")

__all__ = ["DEPLOY_ACTIONS", "DRIVER_CALLS", "NOT_AWS", "UNSCOPED", "VERIFY_CALLS", "Grant", "grants", "render", "rbac_for"]


@dataclass(frozen=True)
class Grant:
    """One statement, and why it is there (the readable summary prints it)."""

    sid: str
    purpose: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: dict[str, Any] = field(default_factory=dict)
    effect: str = "Allow"

    def statement(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": self.effect,
            "Action": sorted(set(self.actions)),
            "Resource": list(self.resources),
        }
        if self.condition:
            found["Condition"] = self.condition
        return found


@dataclass(frozen=True)
class Scope:
    """The ARNs of what this stack creates."""

    buckets: tuple[str, ...]
    keys: tuple[str, ...]
    aliases: tuple[str, ...]
    roles: str
    replication_role: str
    users: str
    secrets: str
    owner: dict[str, str]


def _scope(settings: Settings, account: str) -> Scope:
    c, p, region = settings.config, settings.partition, settings.region
    exact = c.adopt_bucket or c.bucket_name
    names_ = [exact or names.bucket_prefix(settings.stack) + GENERATED_SUFFIX, names.log_bucket_prefix(settings.stack) + GENERATED_SUFFIX]
    if c.replica_region:
        names_.append(names.replica_bucket_prefix(settings.stack) + GENERATED_SUFFIX)
    regions = [region, *([c.replica_region] if c.replica_region else [])]
    path = c.iam_path
    return Scope(
        buckets=tuple(f"arn:{p}:s3:::{b}" for b in names_),
        keys=tuple(f"arn:{p}:kms:{r}:{account}:key/*" for r in regions),
        aliases=tuple(
            f"arn:{p}:kms:{r}:{account}:{alias}"
            for r in regions
            for alias in (names.kms_alias(settings.stack), names.replica_kms_alias(settings.stack))
        ),
        roles=f"arn:{p}:iam::{account}:role{path}kf-*",
        replication_role=f"arn:{p}:iam::{account}:role{path}kf-artifact-replication-*",
        users=f"arn:{p}:iam::{account}:user{path}kf-*",
        secrets=f"arn:{p}:secretsmanager:{region}:{account}:secret:s3-secret-*",
        owner={f"aws:ResourceTag/{names.OWNER_TAG}": names.owner_tag_value(settings.stack)},
    )


def _types(env: str) -> set[str]:
    from automation.offline.check import run_check

    return {r.type for r in run_check(env).run.resources if not r.type.startswith(NOT_AWS)}


def _actions(types: set[str], service: str) -> set[str]:
    return {a for t in types for a in DEPLOY_ACTIONS[t] if a.startswith(service + ":")}  # KeyError: a new type needs its row


def _boundary(settings: Settings) -> dict[str, Any]:
    arn = settings.config.iam_permissions_boundary_arn
    return {"StringEquals": {"iam:PermissionsBoundary": arn}} if arn else {}


def grants(env: str, settings: Settings, account: str, target: Environment | None = None) -> list[Grant]:
    """The deploy role's statements for this stack."""
    target = target or environment(env)
    types, scope = _types(env), _scope(settings, account)
    objects = tuple(f"{b}/*" for b in scope.buckets)
    found = [
        Grant("WhoAmI", "the driver's and the provider's account check", ("sts:GetCallerIdentity",), ("*",)),
        Grant(
            "Buckets",
            "create, configure, read and delete this stack's buckets (artifacts, logs, replica)",
            tuple(_actions(types, "s3") | {DRIVER_CALLS["list_object_versions"]}),
            scope.buckets,
        ),
    ]
    if not target.protected:
        found.append(Grant("EmptyBuckets", "destroy --force-empty (refused in protected environments)", EMPTYING, objects))
    kms = _actions(types, "kms")
    if kms:
        found += [
            Grant(
                "CreateStackKeys",
                "create a key only with this stack's owner tag",
                ("kms:CreateKey",),
                ("*",),
                {"StringEquals": {f"aws:RequestTag/{names.OWNER_TAG}": names.owner_tag_value(settings.stack)}},
            ),
            Grant(
                "TagOnCreate",
                "tag a new key with this stack's owner tag (KMS requires this on every key of the account and region)",
                ("kms:TagResource",),
                scope.keys,
                {"StringEquals": {f"aws:RequestTag/{names.OWNER_TAG}": names.owner_tag_value(settings.stack)}},
            ),
            Grant(
                "ManageStackKeys",
                "read and manage only keys tagged as this stack's",
                tuple(kms - {"kms:CreateKey", "kms:ListAliases", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"}),
                scope.keys,
                {"StringEquals": scope.owner},
            ),
            Grant(
                "StackAliases",
                "this stack's key aliases (an alias names both the alias and its key)",
                ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
                (*scope.aliases, *scope.keys),
            ),
            Grant(
                "AliasOnlyStackKeys",
                "an alias may point only at a key of this stack",
                ("kms:CreateAlias", "kms:UpdateAlias"),
                scope.keys,
                {"StringNotEquals": scope.owner},
                effect="Deny",
            ),
            Grant("ListAliases", "the provider reads aliases (no resource-level permission)", ("kms:ListAliases",), ("*",)),
            Grant(
                "KeepTheOwnerTag",
                "the owner tag can be neither removed nor changed",
                ("kms:UntagResource", "kms:TagResource"),
                ("*",),
                {
                    "ForAnyValue:StringEquals": {"aws:TagKeys": [names.OWNER_TAG]},
                    "StringNotEquals": {f"aws:RequestTag/{names.OWNER_TAG}": names.owner_tag_value(settings.stack)},
                },
                effect="Deny",
            ),
        ]
    iam_roles = _actions(types, "iam") & set(DEPLOY_ACTIONS["aws:iam/role:Role"] + DEPLOY_ACTIONS["aws:iam/rolePolicy:RolePolicy"])
    if iam_roles:
        writes = set(ROLE_WRITES) & iam_roles
        found.append(Grant("Roles", "read, tag and delete this stack's roles (kf-*)", tuple(iam_roles - writes), (scope.roles,)))
        found.append(
            Grant(
                "RoleWrites",
                "create and change roles only within the stack's permissions boundary (when configured)",
                tuple(writes),
                (scope.roles,),
                _boundary(settings),
            )
        )
        if "aws:s3/bucketReplicationConfig:BucketReplicationConfig" in types:
            found.append(
                Grant(
                    "PassReplicationRole",
                    "hand the replication role to S3, and to nothing else",
                    ("iam:PassRole",),
                    (scope.replication_role,),
                    {"StringEquals": {"iam:PassedToService": "s3.amazonaws.com"}},
                )
            )
    users = _actions(types, "iam") - iam_roles
    if users:
        writes = set(USER_WRITES) & users
        found.append(Grant("StaticUser", "static mode: the stack's own IAM user (kf-*) and its key", tuple(users - writes), (scope.users,)))
        found.append(
            Grant("StaticUserWrites", "create and change it within the boundary", tuple(writes), (scope.users,), _boundary(settings))
        )
    found.append(
        Grant(
            "NeverDropBoundaries",
            "a permissions boundary, once set, stays",
            ("iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"),
            ("*",),
            effect="Deny",
        )
    )
    secrets = _actions(types, "secretsmanager")
    if secrets:
        found.append(Grant("CredentialsSecret", "static mode: the secret holding the keys", tuple(secrets), (scope.secrets,)))
        # The secret is always under a customer-managed key (the stack's, or its own).
        if secrets:
            found.append(
                Grant(
                    "CredentialsSecretKey",
                    "Secrets Manager encrypts that secret with the stack's key, for the deployer",
                    ("kms:Decrypt", "kms:GenerateDataKey"),
                    scope.keys,
                    {"StringEquals": {"kms:ViaService": names.service_host("secretsmanager", settings.region), **scope.owner}},
                )
            )
    return found + _backend(settings, target, write=True)


def _backend(settings: Settings, target: Environment, write: bool) -> list[Grant]:
    """The Pulumi state backend (S3) and the secrets provider's key, from environments.yaml."""
    p, found = settings.partition, []
    if target.state_backend:
        parsed = urlparse(target.state_backend)
        bucket, prefix = parsed.netloc, parsed.path.strip("/")
        objects = f"arn:{p}:s3:::{bucket}/{prefix + '/' if prefix else ''}*"
        actions = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject") if write else ("s3:GetObject",)
        found += [
            Grant("StateObjects", "the stack's Pulumi state", actions, (objects,)),
            Grant(
                "StateListing",
                "list the stack's Pulumi state",
                ("s3:ListBucket",),
                (f"arn:{p}:s3:::{bucket}",),
                {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            ),
        ]
    if target.secrets_provider.startswith("awskms://"):
        parsed = urlparse(target.secrets_provider)
        alias = (parsed.netloc + parsed.path).removeprefix("alias/")
        found.append(
            Grant(
                "SecretsProviderKey",
                "decrypt (deploy: also encrypt) the stack's config secrets with the secrets provider's key",
                ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey") if write else ("kms:Decrypt",),
                (f"arn:{p}:kms:*:*:key/*",),
                {"ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{alias}"}},
            )
        )
    return found


def plan_grants(env: str, settings: Settings, account: str, target: Environment | None = None) -> list[Grant]:
    """Read only: the deploy grants' reads, never a secret's value; the state backend read-only."""
    target = target or environment(env)
    found = []
    for g in grants(env, settings, account, target):
        if g.effect != "Allow" or g.sid in ("StateObjects", "StateListing", "SecretsProviderKey", "CredentialsSecretKey"):
            continue
        reads = tuple(a for a in g.actions if a.split(":")[1].startswith(READ_PREFIXES) and a != "secretsmanager:GetSecretValue")
        if reads:
            found.append(Grant(g.sid, g.purpose.split(":")[0] + " (read only)", reads, g.resources, g.condition))
    return found + _backend(settings, target, write=False)


def verify_grants(settings: Settings, account: str) -> list[Grant]:
    scope = _scope(settings, account)
    by_service: dict[str, set[str]] = {}
    calls = set(VERIFY_CALLS.values()) - ({"sts:AssumeRole"} if not settings.assume_role_arns else set())
    for action in calls:
        by_service.setdefault(action.split(":")[0], set()).add(action)
    resources = {
        "s3": (*scope.buckets, *(f"{b}/*" for b in scope.buckets)),
        "kms": scope.keys,
        "iam": (scope.roles, scope.users, f"arn:{settings.partition}:iam::{account}:policy/*"),
        "sts": tuple(settings.assume_role_arns) or ("*",),
    }
    found = [
        Grant(service.title(), f"verify reads ({service})", tuple(actions), resources[service])
        for service, actions in sorted(by_service.items())
    ]
    return [g if g.resources != ("*",) or g.actions == ("sts:GetCallerIdentity",) else g for g in found]


def role_grants(env: str, role: str, settings: Settings, account: str) -> list[Grant]:
    chosen = {"deploy": grants, "plan": plan_grants}.get(role)
    return chosen(env, settings, account) if chosen else verify_grants(settings, account)


def document(found: list[Grant]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [g.statement() for g in found]}


def rbac_for(settings: Settings, role: str) -> list[dict[str, Any]]:
    """Kubernetes Roles for the deploying (patch) or reading (plan, verify) identity, per namespace.
    Plan and verify read ConfigMaps, ServiceAccounts and Deployments; of Secrets, verify checks keys
    exist (get), and plan reads them as the provider refreshes them."""
    verbs = ["get", "list", "patch", "create"] if role == "deploy" else ["get", "list"]
    rules = [
        {"apiGroups": [""], "resources": ["secrets", "configmaps", "serviceaccounts"], "verbs": list(verbs)},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": list(verbs)},
    ]
    if role == "deploy":
        rules.append(
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["delete"], "resourceNames": [names.ARTIFACT_REPOSITORIES_CONFIGMAP]}
        )
        rules.append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["delete"], "resourceNames": [names.UI_SIGNING_SECRET]})
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": f"kubeflow-artifact-store-{role}", "namespace": ns},
            "rules": json.loads(json.dumps(rules)),  # independent copies: no YAML anchors when dumped
        }
        for ns in settings.namespaces
    ]


def render(env: str, role: str, settings: Settings) -> dict[str, Any]:
    account = settings.account_ids[0] if settings.account_ids else "<account>"
    found = role_grants(env, role, settings, account)  # the program runs once under the mock engine
    return {
        "env": env,
        "role": role,
        "iamPolicy": document(found),
        "purposes": [{"sid": g.sid, "effect": g.effect, "purpose": g.purpose} for g in found],
        "kubernetesRbac": rbac_for(settings, role),
    }


def as_text(rendered: dict[str, Any]) -> str:
    """A readable summary: one line per statement with its purpose, then the documents."""
    import yaml

    lines = [f"# {rendered['role']} role of {rendered['env']}: what each statement is for"]
    lines += [f"#   {p['effect']:<5} {p['sid']:<22} {p['purpose']}" for p in rendered["purposes"]]
    return (
        "\n".join(lines)
        + "\n"
        + json.dumps(rendered["iamPolicy"], indent=2)
        + "\n---\n# Kubernetes RBAC (bind it to the identity that runs the driver)\n"
        + yaml.safe_dump_all(rendered["kubernetesRbac"], sort_keys=False)
    )
