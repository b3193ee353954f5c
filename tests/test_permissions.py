"""`permissions`: each role's policy linted by a real IAM linter (parliament, offline) and checked
against the calls the code makes and the resource types the program registers."""

from __future__ import annotations

import json
import re

import pytest
from parliament import analyze_policy_string

from automation.offline import permissions
from automation.offline.mock_engine import ROOT
from automation.stackfiles import settings_for
from tests.conftest import run

ENVS = ["dev", "staging", "prod"]
ROLES = ["deploy", "plan", "verify"]


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("role", ROLES)
def test_each_policy_passes_the_iam_linter(env: str, role: str) -> None:
    rendered = permissions.render(env, role, settings_for(env))
    findings = analyze_policy_string(json.dumps(rendered["iamPolicy"])).findings
    # parliament's action table predates kms:ResourceAliases (KMS Developer Guide, 2021): the secrets
    # provider's key is named by its alias, which only that key identifies. Nothing else is unknown.
    findings = [f for f in findings if not (f.issue == "UNKNOWN_CONDITION_FOR_ACTION" and "kms:ResourceAliases" in str(f.detail))]
    # The deployer writes the bucket and key policies: that is its job, and parliament rightly names
    # it (s3:PutBucketPolicy, kms:PutKeyPolicy). Nothing else may be found, for any role.
    expected = {"RESOURCE_POLICY_PRIVILEGE_ESCALATION"} if role == "deploy" else set()
    assert {f.issue for f in findings} == expected, [(f.issue, f.detail) for f in findings]
    for statement in rendered["iamPolicy"]["Statement"]:
        assert statement["Resource"] == ["*"] or not any(r == "*" for r in statement["Resource"])
        if statement["Resource"] == ["*"] and statement["Effect"] == "Allow":
            # only what AWS cannot scope: CreateKey (held to the owner tag), ListAliases, GetCallerIdentity
            assert set(statement["Action"]) <= {*permissions.UNSCOPED, "kms:CreateKey"}, statement
            assert statement["Action"] != ["kms:CreateKey"] or "aws:RequestTag/kubeflow-artifact-store:stack" in json.dumps(statement)


def test_every_call_verify_makes_has_its_permission() -> None:
    """The boto3 calls in the verify code, read from the source: each must be in VERIFY_CALLS."""
    source = "".join((ROOT / "automation" / name).read_text() for name in ("live/reader.py", "live/verify.py", "live/session.py"))
    calls = set(re.findall(r'(?:self\.s3|self\.kms|\.client\("(?:sts|s3)"\))\.(\w+)\(', source))
    calls |= set(re.findall(r"\biam\.(?!meta\b)(\w+)\b", source))  # IAM calls, also passed as functions
    assert calls and calls <= set(permissions.VERIFY_CALLS), calls - set(permissions.VERIFY_CALLS)
    driver = set(re.findall(r'\.client\("s3"\)\.(\w+)\(', (ROOT / "automation" / "live" / "objects.py").read_text()))
    assert driver == {"list_object_versions"} and driver <= set(permissions.DRIVER_CALLS)  # emptying: resource API, delete_objects
    verify = permissions.render("prod", "verify", settings_for("prod"))["iamPolicy"]
    granted = {a for s in verify["Statement"] for a in s["Action"]}
    assert {permissions.VERIFY_CALLS[c] for c in calls if c != "assume_role"} <= granted
    assert {"get_role", "get_role_policy", "list_attached_role_policies"} <= calls  # the roles are read live


@pytest.mark.parametrize(
    "keys",
    [
        {
            "encryption": "sse-kms",
            "accessLogging": True,
            "eventNotifications": True,
            "replicaRegion": "eu-central-1",
            "profileNamespaces": ["a"],
        },
        {"credentials": "static", "secretsManager": True, "encryption": "sse-kms"},
        {"adoptBucket": "kf-existing", "manageKubernetes": False},
    ],
)
def test_every_resource_type_the_program_registers_has_its_deploy_actions(keys: dict) -> None:
    types = {r.type for r in run("prod", **keys).resources}
    missing = {t for t in types if not t.startswith(permissions.NOT_AWS) and t not in permissions.DEPLOY_ACTIONS}
    assert missing == set()


def test_plan_is_read_only_and_within_deploy() -> None:
    settings = settings_for("prod")
    actions = {
        role: {a for s in permissions.render("prod", role, settings)["iamPolicy"]["Statement"] for a in s["Action"]} for role in ROLES
    }
    assert actions["plan"] <= actions["deploy"]
    # Reads, and the secrets provider's Decrypt (a preview decrypts the stack's config secrets).
    assert all(a.split(":")[1].startswith(("Get", "List", "Describe")) or a == "kms:Decrypt" for a in actions["plan"])
    assert "iam:PassRole" in actions["deploy"] and "s3:PutBucketPolicy" in actions["deploy"]
    assert "secretsmanager:GetSecretValue" not in actions["plan"]
    assert not {a for a in actions["verify"] if a.split(":")[1].startswith(("Put", "Create", "Delete"))}


def test_rbac_per_namespace_and_verbs() -> None:
    settings = settings_for("prod")
    deploy, verify = permissions.rbac_for(settings, "deploy"), permissions.rbac_for(settings, "verify")
    assert [r["metadata"]["namespace"] for r in deploy] == list(settings.namespaces)
    assert "patch" in deploy[0]["rules"][0]["verbs"] and verify[0]["rules"][0]["verbs"] == ["get", "list"]


def test_the_command_prints_both_documents() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "automation", "permissions", "--env", "dev", "--for", "plan", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    payload = json.loads(result.stdout)
    assert result.returncode == 0 and payload["role"] == "plan" and payload["iamPolicy"]["Statement"] and payload["kubernetesRbac"]
