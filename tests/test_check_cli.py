"""`python -m automation check` on every stack and on broken configurations."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from automation.offline.check import run_check
from automation.offline.mock_engine import ROOT
from tests.conftest import project_copy

ENVS = ["dev", "staging", "prod"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automation", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("env", ENVS)
def test_every_stack_passes_its_mandatory_controls(env: str) -> None:
    report = run_check(env)
    assert report.exit_code == 0
    verdicts = {(f.control, f.resource): f.verdict for f in report.findings}
    assert all(v in ("pass", "waived") for v in verdicts.values())
    if env == "prod":  # S3.9, S3.17, KMS.3-5 required and passing on prod
        for control_id in ("KF-S3-09", "KF-S3-11", "KF-S3-12", "KF-KMS-01", "KF-KMS-02", "KF-KMS-03"):
            assert [v for (c, _), v in verdicts.items() if c == control_id] and all(
                v == "pass" for (c, _), v in verdicts.items() if c == control_id
            )


def test_check_json_is_one_object_on_stdout() -> None:
    result = _cli("check", "--env", "prod", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["exitCode"] == 0 and payload["env"] == "prod"
    types = {r["type"] for r in payload["resources"]}
    assert {"aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:s3/bucketLogging:BucketLogging"} <= types
    control_ids = {c["control"] for c in payload["controls"]}
    assert {"KF-S3-01", "KF-S3-05", "KF-KMS-02", "KF-IAM-01"} <= control_ids


def test_check_table_for_people() -> None:
    result = _cli("check", "--env", "dev")
    assert result.returncode == 0
    assert "KF-S3-05" in result.stdout and "Bucket policy denies requests without TLS" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("dev: ok (")
    assert result.stderr == ""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.dev.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_prod_weakened_to_sse_s3_is_a_violation(project: Path) -> None:
    path = project / "Pulumi.prod.yaml"
    path.write_text(path.read_text().replace("encryption: sse-kms", "encryption: sse-s3"))
    report = run_check("prod", project)
    assert report.exit_code == 1
    assert {f.control for f in report.findings if f.verdict == "fail"} == {"KF-S3-09"}


def test_broken_config_exits_2_with_one_line(tmp_path: Path) -> None:
    """The real CLI (`python -m automation check`) in a copy of the project with a misspelt key."""
    copy = project_copy(tmp_path)
    path = copy / "Pulumi.dev.yaml"
    path.write_text(path.read_text() + "  kubeflow-artifact-store:encrytpion: sse-kms\n")
    result = subprocess.run(
        [sys.executable, "-m", "automation", "check", "--env", "dev"], cwd=copy, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: Pulumi.dev.yaml: kubeflow-artifact-store:encrytpion: unknown config key (did you mean encryption?)"
    )
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_protected_environment_without_account_binding_is_refused(tmp_path: Path) -> None:
    copy = project_copy(tmp_path)
    path = copy / "Pulumi.prod.yaml"
    path.write_text(path.read_text().replace('  aws:allowedAccountIds:\n    - "444455556666"\n', ""))
    result = subprocess.run(
        [sys.executable, "-m", "automation", "check", "--env", "prod"], cwd=copy, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: Pulumi.prod.yaml: aws:allowedAccountIds not set: "
        "the aws provider would deploy into whatever account the credentials reach; "
        "allowed: protected environment prod names its account and cluster\n"
    )
    dev = copy / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("  kubernetes:context: kubeflow-dev\n", ""))
    result = subprocess.run(
        [sys.executable, "-m", "automation", "check", "--env", "dev"], cwd=copy, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert "warning: Pulumi.dev.yaml: kubernetes:context not set" in result.stderr


def test_cli_unknown_env_exit_2_no_traceback() -> None:
    result = _cli("check", "--env", "qa")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --env: unknown environment 'qa'; allowed: dev, staging, prod"


def test_secret_placeholder_in_stack_file_is_treated_as_secret(project: Path) -> None:
    path = project / "Pulumi.dev.yaml"
    text = path.read_text().replace(
        "encryption: sse-s3",
        "encryption: sse-s3\n  kubeflow-artifact-store:credentials: static\n  kubeflow-artifact-store:profileIsolation: false",
    )
    text += "  kubeflow-artifact-store:staticAccessKeyId:\n    secure: v1:abc\n"
    text += "  kubeflow-artifact-store:staticSecretAccessKey:\n    secure: v1:def\n"
    path.write_text(text)
    report = run_check("dev", project)
    assert report.exit_code == 0
    assert "v1:def" not in json.dumps(report.as_dict())
