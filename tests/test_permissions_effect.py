"""The deploy, plan and verify documents judged by what they let a holder do (issue: roles that
cannot escalate): escalation attempts are denied, and every call the AWS provider makes for every
resource type the program registers is allowed. Each row is judged by the project's evaluator and
by @cloud-copilot/iam-simulate; the two must agree on every row."""

from __future__ import annotations

from typing import Any

import pytest

from automation.environments import Environment, environment
from automation.offline import permissions
from automation.offline.check import run_check
from automation.offline.provider_calls import DEPLOY_ACTIONS, NOT_AWS, VERIFY_CALLS
from automation.stackfiles import read_stack_config, settings_for
from components import names
from components.settings import Settings, load_settings
from rules.matrix import Row
from rules.policy_eval import Request
from tests import iam_oracle

ACCOUNT = "123456789012"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/pulumi-deploy"
SUFFIX = "20261206000000000000000001"  # 26 characters, as the AWS provider appends
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/kf-boundary"
FOREIGN_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/another-teams-key"
# How each resource type's calls name their resource: a new type without its entry fails the test.
RESOURCE_OF = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "bucket",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "bucket",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "bucket",
    "aws:s3/bucketPolicy:BucketPolicy": "bucket",
    "aws:s3/bucketVersioning:BucketVersioning": "bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "bucket",
    "aws:s3/bucketLogging:BucketLogging": "bucket",
    "aws:s3/bucketNotification:BucketNotification": "bucket",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "bucket",
    "aws:kms/key:Key": "key",
    "aws:kms/alias:Alias": "alias",
    "aws:iam/role:Role": "role",
    "aws:iam/rolePolicy:RolePolicy": "role",
    "aws:iam/user:User": "user",
    "aws:iam/userPolicy:UserPolicy": "user",
    "aws:iam/accessKey:AccessKey": "user",
    "aws:secretsmanager/secret:Secret": "secret",
    "aws:secretsmanager/secretVersion:SecretVersion": "secret",
}
CASES = {
    "dev": ("dev", {}),
    "staging": ("staging", {}),
    "prod": ("prod", {}),
    "static": ("dev", {"credentials": "static", "secretsManager": True, "encryption": "sse-kms", "profileIsolation": False}),
    "boundary": ("prod", {"iamPermissionsBoundaryArn": "arn:aws:iam::444455556666:policy/kf-boundary"}),
}


def _settings(case: str) -> tuple[str, Settings, Environment]:
    """The case's settings; the rows below then speak of the account its stack file names."""
    env, keys = CASES[case]
    base = settings_for(env)
    settings = base
    if keys:
        raw, secrets = read_stack_config(env)
        settings = load_settings(env, {**raw, **{f"{names.PROJECT}:{k}": v for k, v in keys.items()}}, secrets)
    _use_account(settings.account_ids[0])
    return env, settings, environment(env)


def _use_account(account: str) -> None:
    global ACCOUNT, DEPLOYER, BOUNDARY, FOREIGN_KEY
    ACCOUNT = account
    DEPLOYER = f"arn:aws:iam::{account}:role/pulumi-deploy"
    BOUNDARY = f"arn:aws:iam::{account}:policy/kf-boundary"
    FOREIGN_KEY = f"arn:aws:kms:eu-west-1:{account}:key/another-teams-key"


def _document(env: str, settings: Settings, role: str, target: Environment, monkeypatch: pytest.MonkeyPatch, keys: dict) -> dict[str, Any]:
    if keys:  # the variant's resources, not the stack file's
        from automation.offline import check
        from tests.conftest import run

        monkeypatch.setattr(check, "run_check", lambda e, *a, **k: type("R", (), {"run": run(env, region=settings.region, **keys)})())
    chosen = {"deploy": permissions.grants, "plan": permissions.plan_grants}.get(role)
    grants = chosen(env, settings, ACCOUNT, target) if chosen else permissions.verify_grants(settings, ACCOUNT)
    return {"Version": "2012-10-17", "Statement": [g.statement() for g in grants]}


def root_key_policy(account: str) -> dict[str, Any]:
    """The usual key policy (this stack's and most teams'): the account root delegates to IAM."""
    root = f"arn:aws:iam::{account}:root"
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "EnableIamPolicies", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}],
    }


def row(what: str, request: Request, document: dict[str, Any], allowed: bool) -> Row:
    """A request by the role holding `document`; a key's own policy is weighed for a call on a key."""
    key_policy = root_key_policy(request.resource_account) if ":key/" in request.resource else None
    return Row(what, request, (document,), key_policy, allowed)


def _request(action: str, resource: str, **context: str) -> Request:
    full = {"aws:PrincipalArn": DEPLOYER, "aws:PrincipalAccount": ACCOUNT, "aws:SecureTransport": "true", **context}
    return Request(DEPLOYER, action, resource, ACCOUNT, full)


def _resources(settings: Settings) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """One resource (and the context AWS sets for the call) per kind of what the stack creates."""
    c, p, region, stack = settings.config, settings.partition, settings.region, settings.stack
    bucket = c.bucket_name or names.bucket_prefix(stack) + SUFFIX
    owner = {f"aws:ResourceTag/{names.OWNER_TAG}": names.owner_tag_value(stack)}
    key = f"arn:{p}:kms:{region}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    boundary = {"iam:PermissionsBoundary": c.iam_permissions_boundary_arn} if c.iam_permissions_boundary_arn else {}
    return {
        "bucket": [(f"arn:{p}:s3:::{bucket}", {}), (f"arn:{p}:s3:::{names.log_bucket_prefix(stack)}{SUFFIX}", {})],
        "key": [(key, owner)],
        "alias": [(f"arn:{p}:kms:{region}:{ACCOUNT}:{names.kms_alias(stack)}", {}), (key, owner)],
        "role": [(f"arn:{p}:iam::{ACCOUNT}:role{c.iam_path}kf-kubeflow-ml-pipeline-20261206", boundary)],
        "user": [(f"arn:{p}:iam::{ACCOUNT}:user{c.iam_path}kf-artifacts-{names.stack_slug(stack)}", boundary)],
        "secret": [(f"arn:{p}:secretsmanager:{region}:{ACCOUNT}:secret:s3-secret-20261206-AbCdEf", {})],
    }


def provider_rows(env: str, settings: Settings, document: dict[str, Any], keys: dict) -> list[Row]:
    """Every call of every resource type the program registers: must be allowed."""
    from tests.conftest import run

    registered = run(env, region=settings.region, **keys) if keys else run_check(env).run
    types = {r.type for r in registered.resources if not r.type.startswith(NOT_AWS)}
    resources = _resources(settings)
    rows = []
    for type_ in sorted(types):
        for action in DEPLOY_ACTIONS[type_]:
            action = action.replace("*", "Tagging")  # s3:GetBucket* -> one concrete call
            if action == "kms:CreateKey":
                tag = {f"aws:RequestTag/{names.OWNER_TAG}": names.owner_tag_value(settings.stack), "aws:TagKeys": names.OWNER_TAG}
                rows.append(row(f"{type_} {action}", _request(action, "*", **tag), document, True))
                key = resources["key"][0][0]
                rows.append(row(f"{type_} kms:TagResource at creation", _request("kms:TagResource", key, **tag), document, True))
                continue
            if action == "kms:ListAliases":
                rows.append(row(f"{type_} {action}", _request(action, "*"), document, True))
                continue
            for resource, context in resources[RESOURCE_OF[type_]]:
                if action == "kms:TagResource":
                    context = {**context, f"aws:RequestTag/{names.OWNER_TAG}": names.owner_tag_value(settings.stack)}
                rows.append(row(f"{type_} {action} on {resource}", _request(action, resource, **context), document, True))
    if "aws:s3/bucketReplicationConfig:BucketReplicationConfig" in types:
        role = f"arn:aws:iam::{ACCOUNT}:role{settings.config.iam_path}kf-artifact-replication-20261206"
        passed = _request("iam:PassRole", role, **{"iam:PassedToService": "s3.amazonaws.com"})
        rows.append(row("hand the replication role to S3", passed, document, True))
    return rows


def escalation_rows(settings: Settings, target: Environment, document: dict[str, Any]) -> list[Row]:
    """What a holder of the deploy document must never be able to do."""
    c, p, stack = settings.config, settings.partition, settings.stack
    ours = names.owner_tag_value(stack)
    key = _resources(settings)["key"][0][0]
    replication = f"arn:aws:iam::{ACCOUNT}:role{c.iam_path}kf-artifact-replication-20261206"
    rows = [
        ("access keys for another user (an admin)", _request("iam:CreateAccessKey", f"arn:{p}:iam::{ACCOUNT}:user/admin")),
        ("a policy on another user", _request("iam:PutUserPolicy", f"arn:{p}:iam::{ACCOUNT}:user/admin")),
        ("pass the replication role to EC2", _request("iam:PassRole", replication, **{"iam:PassedToService": "ec2.amazonaws.com"})),
        ("pass the replication role to Lambda", _request("iam:PassRole", replication, **{"iam:PassedToService": "lambda.amazonaws.com"})),
        (
            "pass a Kubeflow role to S3",
            _request(
                "iam:PassRole",
                f"arn:{p}:iam::{ACCOUNT}:role{c.iam_path}kf-kubeflow-ml-pipeline-x",
                **{"iam:PassedToService": "s3.amazonaws.com"},
            ),
        ),
        ("PutKeyPolicy on another team's key", _request("kms:PutKeyPolicy", FOREIGN_KEY)),
        ("ScheduleKeyDeletion on another team's key", _request("kms:ScheduleKeyDeletion", FOREIGN_KEY)),
        (
            "ScheduleKeyDeletion on the stack's own key",
            _request("kms:ScheduleKeyDeletion", key, **{f"aws:ResourceTag/{names.OWNER_TAG}": ours}),
        ),
        ("a key without the owner tag", _request("kms:CreateKey", "*")),
        (
            "remove the owner tag",
            _request("kms:UntagResource", key, **{f"aws:ResourceTag/{names.OWNER_TAG}": ours, "aws:TagKeys": names.OWNER_TAG}),
        ),
        ("point the stack's alias at another key", _request("kms:UpdateAlias", FOREIGN_KEY)),
        (
            "drop a role's permissions boundary",
            _request("iam:DeleteRolePermissionsBoundary", f"arn:{p}:iam::{ACCOUNT}:role{c.iam_path}kf-x"),
        ),
        (
            "drop a user's permissions boundary",
            _request("iam:DeleteUserPermissionsBoundary", f"arn:{p}:iam::{ACCOUNT}:user{c.iam_path}kf-x"),
        ),
        ("configure another stack's bucket", _request("s3:PutBucketPolicy", f"arn:{p}:s3:::{names.bucket_prefix(stack)[:-1]}-eu-{SUFFIX}")),
        (
            "decrypt with another team's key through Secrets Manager",
            _request("kms:Decrypt", FOREIGN_KEY, **{"kms:ViaService": f"secretsmanager.{settings.region}.amazonaws.com"}),
        ),
    ]
    if c.iam_permissions_boundary_arn:
        role = f"arn:{p}:iam::{ACCOUNT}:role{c.iam_path}kf-escalate"
        rows.append(("a kf- role without the boundary", _request("iam:CreateRole", role)))
        rows.append(
            (
                "a kf- role with another boundary",
                _request("iam:CreateRole", role, **{"iam:PermissionsBoundary": f"arn:{p}:iam::{ACCOUNT}:policy/wide"}),
            )
        )
        rows.append(("an inline policy on a kf- role without the boundary", _request("iam:PutRolePolicy", role)))
    if target.protected:
        objects = f"arn:{p}:s3:::{names.bucket_prefix(stack)}{SUFFIX}/v2/artifacts/x"
        rows.append(("delete object versions in a protected environment", _request("s3:DeleteObjectVersion", objects)))
        rows.append(("delete objects in a protected environment", _request("s3:DeleteObject", objects)))
    return [row(what, request, document, False) for what, request in rows]


def _judge(rows: list[Row]) -> None:
    wrong = [f"{r.id}: {r.judge().result}" for r in rows if r.judge().allowed != r.expect_allowed]
    assert wrong == []
    iam_oracle.require()
    theirs = iam_oracle.verdicts(rows)
    assert [f"{r.id}: ours {r.judge().result}, iam-simulate {t}" for r, t in zip(rows, theirs, strict=True) if r.judge().result != t] == []


@pytest.mark.parametrize("case", list(CASES))
def test_the_deploy_document_allows_every_provider_call_and_no_escalation(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env, settings, target = _settings(case)
    keys = CASES[case][1]
    document = _document(env, settings, "deploy", target, monkeypatch, keys)
    allowed = provider_rows(env, settings, document, keys)
    assert len(allowed) >= 20
    _judge(allowed + escalation_rows(settings, target, document))


@pytest.mark.parametrize("case", ["dev", "prod", "static"])
def test_the_plan_role_reads_but_never_a_secret_or_a_write(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env, settings, target = _settings(case)
    document = _document(env, settings, "plan", target, monkeypatch, CASES[case][1])
    resources = _resources(settings)
    rows = [
        row("read a bucket's policy", _request("s3:GetBucketPolicy", resources["bucket"][0][0]), document, True),
        row("read the static credentials", _request("secretsmanager:GetSecretValue", resources["secret"][0][0]), document, False),
        row("change a bucket policy", _request("s3:PutBucketPolicy", resources["bucket"][0][0]), document, False),
        row("create a role", _request("iam:CreateRole", resources["role"][0][0]), document, False),
    ]
    _judge(rows)


def _verify_resource(action: str, by_service: dict[str, str], resources: dict[str, Any]) -> str:
    if action == "s3:GetObject":
        return by_service["s3"] + "/v2/x"
    if action == "iam:ListAccessKeys":  # the static user's key age
        return resources["user"][0][0]
    return by_service[action.split(":")[0]]


def test_the_verify_role_can_make_every_call_verify_makes() -> None:
    settings = settings_for("prod")
    _use_account(settings.account_ids[0])
    document = {"Statement": [g.statement() for g in permissions.verify_grants(settings, ACCOUNT)]}
    resources = _resources(settings)
    by_service = {"s3": resources["bucket"][0][0], "kms": resources["key"][0][0], "iam": resources["role"][0][0], "sts": "*"}
    rows = [
        row(
            f"verify: {call}",
            _request(action, _verify_resource(action, by_service, resources)),
            document,
            True,
        )
        for call, action in sorted(VERIFY_CALLS.items())
        if action != "sts:AssumeRole" and action.split(":")[1] not in ("GetPolicy", "GetPolicyVersion")
    ]
    rows.append(row("verify cannot change anything", _request("s3:PutBucketPolicy", resources["bucket"][0][0]), document, False))
    _judge(rows)
