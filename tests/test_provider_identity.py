"""The driver acts as the identity the AWS provider deploys with (automation/aws_session.py),
against moto's STS, S3 and IAM on loopback: the region only in the stack file, credentials only in
the stack's aws:profile, and aws:assumeRoles (every live call made as the assumed role)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from automation import stackfiles
from automation.driver.preflight import Preflight
from automation.live import objects
from automation.live import session as aws_session
from automation.offline.mock_engine import ROOT

MOTO_ACCOUNT = "123456789012"
REGION = "eu-west-1"


def _stack_file(tmp_path: Path, **aws: Any) -> Path:
    """A copy of dev's stack file bound to moto's account, with these provider keys."""
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    config = {k: v for k, v in document["config"].items() if not k.startswith("aws:")}
    oidc = f"arn:aws:iam::{MOTO_ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/5C1E0A4D7E3B2F9A8C6D4E2F0A1B3C5D"
    config.update({"aws:allowedAccountIds": [MOTO_ACCOUNT], "kubeflow-artifact-store:eksOidcProviderArn": oidc})
    config.update({f"aws:{k}": v for k, v in aws.items()})
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


@pytest.fixture
def stack_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stack files read from tmp_path by the session factory and the preflight."""
    real = stackfiles.read_stack_config
    monkeypatch.setattr(aws_session, "read_stack_config", lambda env, root=tmp_path: real(env, tmp_path))
    monkeypatch.setattr("automation.driver.preflight.settings_for", lambda env: stackfiles.settings_for(env, tmp_path))
    return tmp_path


def _bucket_with_objects() -> str:
    name = f"kf-artifacts-dev-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=name, Key="v2/artifacts/x", Body=b"x")
    return name


def _preflight() -> Preflight:
    return Preflight(rules=lambda env: [], contexts=lambda: {"kubeflow-dev"}, warn=lambda _: None)


def test_the_region_only_in_the_stack_file(aws_env: str, stack_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = _bucket_with_objects()
    _stack_file(stack_dir, region=REGION)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    _preflight()("dev")  # sts:GetCallerIdentity in the stack's region, account checked
    assert objects.object_version_count("dev", bucket) == 1


def test_credentials_only_in_the_stacks_profile(aws_env: str, stack_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = _bucket_with_objects()
    credentials = stack_dir / "credentials"
    credentials.write_text("[kf-dev]\naws_access_key_id = AKIAKFDEVPROFILE0001\naws_secret_access_key = profile-secret\n")
    _stack_file(stack_dir, region=REGION, profile="kf-dev", sharedCredentialsFiles=[str(credentials)])
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable)
    assert aws_session.session_for("dev").get_credentials().access_key == "AKIAKFDEVPROFILE0001"
    _preflight()("dev")
    assert objects.object_version_count("dev", bucket) == 1


def test_every_live_call_is_made_as_the_assumed_role(aws_env: str, stack_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automation.live.verify import run_verify

    bucket = _bucket_with_objects()
    role = f"arn:aws:iam::{MOTO_ACCOUNT}:role/kf-deployer"
    _stack_file(stack_dir, region=REGION, assumeRoles=[{"roleArn": role, "sessionName": "ci-dev", "externalId": "kf-42"}])
    used: list[str] = []
    real = aws_session.session_of

    def recording(identity: aws_session.ProviderIdentity) -> Any:
        session = real(identity)
        used.append(session.get_credentials().access_key)
        return session

    monkeypatch.setattr(aws_session, "session_of", recording)
    monkeypatch.setattr("automation.live.verify.settings_for", lambda env: stackfiles.settings_for(env, stack_dir))
    _preflight()("dev")
    assert objects.object_version_count("dev", bucket) == 1
    run_verify("dev", bucket, lambda _: None, lambda env, why: {})
    assert len(used) >= 3
    assert all(key.startswith("ASIA") for key in used), used  # moto's temporary keys: the assumed role's, never "testing"


def test_a_role_that_cannot_be_assumed_is_one_line(aws_env: str, stack_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automation.errors import UsageError

    _stack_file(stack_dir, region=REGION, assumeRoles=[{"roleArn": f"arn:aws:iam::{MOTO_ACCOUNT}:role/x"}])
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(stack_dir / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(stack_dir / "none"))
    with pytest.raises(UsageError, match=r"^aws:assumeRoles: no credentials to assume arn:aws:iam::123456789012:role/x with$"):
        aws_session.session_for("dev")
