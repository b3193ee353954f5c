"""Checkov's own checks (the real checkov, installed by `make test` into .venv-checkov) on the
Terraform plan of what the program would create: prod passes all but the documented exceptions,
and the plan is faithful enough that a weakened setting fails the matching check."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from automation.offline.check import run_check
from automation.offline.checkov import CHECKOV, EXCEPTIONS, checkov_plan, run_checkov, waived_checks
from automation.offline.mock_engine import ROOT
from automation.offline.tfplan import TERRAFORM_TYPES, terraform_plan, write_terraform_plan
from tests.conftest import NS, documentation, run

ARTIFACTS = "aws_s3_bucket.kubeflow_artifacts"
# What the issue asked of the artifact bucket, CKV_AWS_144 (replication) included.
ARTIFACT_BUCKET_CHECKS = {
    "CKV_AWS_18",
    "CKV_AWS_19",
    "CKV_AWS_20",
    "CKV_AWS_21",
    "CKV_AWS_57",
    "CKV_AWS_144",
    "CKV_AWS_145",
    "CKV2_AWS_6",
    "CKV2_AWS_61",
    "CKV2_AWS_62",
}


def test_checkov_is_installed_for_the_tests() -> None:
    assert CHECKOV.exists(), "make test installs checkov into .venv-checkov"


def test_prod_passes_checkov_but_for_the_documented_exceptions() -> None:
    result = run_checkov(run_check("prod").run)
    assert result.unexpected == [] and result.stale_exceptions() == []
    assert {c for c, a in result.passed if a == ARTIFACTS} >= ARTIFACT_BUCKET_CHECKS
    assert not [a for c, a in result.failed if a == ARTIFACTS]
    # Every documented exception is still a real failure, on the bucket it names, and nothing else fails.
    matched = {next(k for k in EXCEPTIONS if k[1] == check and address.endswith(k[0])) for check, address in result.failed}
    # Every failure is a documented exception, on the two log buckets (the source's and the replica's).
    assert matched == EXCEPTIONS.keys() and len(result.failed) == 2 * len(EXCEPTIONS)
    kms = {c for c, a in result.passed if a.startswith("aws_kms_key.")}
    assert {"CKV_AWS_7", "CKV_AWS_33", "CKV_AWS_227", "CKV2_AWS_64"} <= kms
    iam = {c for c, a in result.passed if a.startswith("aws_iam_role_policy.")}
    assert {"CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_355", "CKV_AWS_290"} <= iam


def test_the_plan_is_faithful_enough_to_fail_a_weakened_bucket(tmp_path: Path) -> None:
    """Without KMS, logging, events and replication (dev), Checkov fails exactly those; a public
    access flag turned off in the plan fails its own check."""
    report = run_check("dev")
    # `waived` comes from the rules' findings: a Checkov id is waived only where our control listing it is.
    dev = run_checkov(report.run, waived_checks(report.findings))
    assert {c for c, a in dev.failed if a == ARTIFACTS} == {"CKV_AWS_18", "CKV_AWS_144", "CKV_AWS_145", "CKV2_AWS_62"}
    assert dev.unexpected == [] and {dev.why(c, a)[0] for c, a in dev.failed} == {"waived"}

    plan = terraform_plan(run_check("prod").run)
    for resource in plan["planned_values"]["root_module"]["resources"]:
        if resource["address"] == "aws_s3_bucket_public_access_block.kubeflow_artifacts_public_access":
            resource["values"]["block_public_policy"] = False
    path = tmp_path / "weakened.json"
    path.write_text(json.dumps(plan))
    weakened = checkov_plan(str(path))
    weakened_checks = {c for c, a in weakened.failed if a.endswith("kubeflow_artifacts_public_access")}
    assert weakened_checks == {"CKV_AWS_54"}  # block_public_policy


def test_every_aws_type_the_stacks_register_has_a_terraform_name() -> None:
    registered = {r.type for env in ("dev", "staging", "prod") for r in run_check(env).run.resources if r.type.startswith("aws:")}
    static = run("dev", credentials="static", secretsManager=True)  # a user and access key, kept in Secrets Manager
    registered |= {r.type for r in static.resources if r.type.startswith("aws:")}
    assert registered <= TERRAFORM_TYPES.keys(), registered - TERRAFORM_TYPES.keys()


def test_the_plan_holds_no_secret(tmp_path: Path) -> None:
    secret_values = ("AKIAABCDEFGHIJKLMNOP", "abcdEFGHijklMNOPqrstUVWXyz0123456789ABCD")
    secrets = frozenset({f"{NS}:staticAccessKeyId", f"{NS}:staticSecretAccessKey"})
    static = run(
        "dev",
        secrets,
        credentials="static",
        secretsManager=True,
        staticAccessKeyId=secret_values[0],
        staticSecretAccessKey=secret_values[1],
    )
    path = tmp_path / "plan.json"
    write_terraform_plan(static, str(path))
    text = path.read_text()
    assert "aws_secretsmanager_secret_version" in text
    assert not [value for value in secret_values if value in text]


def test_cli_checkov_and_its_missing_tool_error(tmp_path: Path) -> None:
    def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "automation", "checkov", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, **env},
        )

    ok = cli("--env", "staging", "--json", "--plan-out", str(tmp_path / "plan.json"))
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert {f["verdict"] for f in report["failed"]} == {"waived"} and report["staleExceptions"] == []
    assert json.loads((tmp_path / "plan.json").read_text())["planned_values"]["root_module"]["resources"]
    summary = tmp_path / "summary.md"
    markdown = cli("--env", "prod", "--format", "markdown", GITHUB_STEP_SUMMARY=str(summary))
    assert markdown.returncode == 0 and re.match(r"### checkov prod\n\n\d+ passed, 6 excepted, 0 waived, 0 failed\n", markdown.stdout)
    assert summary.read_text().strip() == markdown.stdout.strip()
    assert markdown.stdout.count("| excepted | ") == 2 * len(EXCEPTIONS)
    missing = cli("--env", "dev", CHECKOV=str(tmp_path / "no-checkov"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: checkov: not installed at ")


def test_checkov_that_judged_nothing_is_a_failure(tmp_path: Path) -> None:
    """Fail closed: a Checkov that returns no result for the artifact bucket is no pass."""
    silent = tmp_path / "checkov"
    silent.write_text('#!/bin/sh\necho \'{"results": {"passed_checks": [], "failed_checks": []}}\'\n')
    silent.chmod(0o755)
    done = subprocess.run(
        [sys.executable, "-m", "automation", "checkov", "--env", "dev"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CHECKOV": str(silent)},
    )
    assert done.returncode == 1
    assert "checkov reported no result for the artifact bucket" in done.stderr


def test_the_readme_lists_every_exception_with_its_reason() -> None:
    readme = documentation()
    for (_, check), why in EXCEPTIONS.items():
        assert f"| {check} (" in readme and f"| {why} |" in readme, check


def test_side_resources_reference_their_bucket_even_when_its_name_is_pinned() -> None:
    """Checkov joins a bucket to its public access block, lifecycle... by these references."""
    for plan in (
        terraform_plan(run_check("dev").run),
        terraform_plan(run("dev", bucketName="kf-pinned-artifacts")),
        terraform_plan(run_check("prod").run),
    ):
        expressions = {r["address"]: r["expressions"] for r in plan["configuration"]["root_module"]["resources"]}
        for address in ("public_access_block.kubeflow_artifacts_public_access", "lifecycle_configuration.kubeflow_artifacts_lifecycle"):
            bucket = expressions[f"aws_s3_bucket_{address}"]["bucket"]["references"]
            assert bucket == ["aws_s3_bucket.kubeflow_artifacts.id", "aws_s3_bucket.kubeflow_artifacts"], address
