"""verify with limited credentials, on moto's server with IAM enforcement: a setting the role may
not read is a finding ("not readable"), never an abort; the stack's assumed role is used."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import boto3
import pytest

from automation.live.verify import run_verify
from tests.conftest import start_moto
from tests.test_verify_moto import PERIMETER, REGION, harden

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture(scope="module")
def enforcing() -> Iterator[str]:
    yield from start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "3"})  # enough to create an admin and its key


@pytest.fixture(scope="module")
def admin_key(enforcing: str) -> dict[str, str]:
    iam = boto3.client("iam", endpoint_url=enforcing, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    return iam.create_access_key(UserName="admin")["AccessKey"]


def _as(monkeypatch: pytest.MonkeyPatch, url: str, key: dict[str, str]) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")


def test_a_role_that_may_not_read_the_bucket_policy_gets_findings_not_an_abort(
    enforcing: str, admin_key: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _as(monkeypatch, enforcing, admin_key)
    session = boto3.session.Session()  # a new session: the default one caches the first credentials it found
    s3, iam = session.client("s3", region_name=REGION), session.client("iam", region_name=REGION)
    bucket = f"kf-artifacts-dev-{uuid.uuid4().hex[:8]}"
    harden(
        s3,
        bucket,
        REGION,
        None,
        __import__("components.policies", fromlist=["x"]).artifact_bucket_policy(f"arn:aws:s3:::{bucket}", None, PERIMETER),
    )
    verifier = f"verifier-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=verifier)
    denied = {"Effect": "Deny", "Action": ["s3:GetBucketPolicy"], "Resource": "*"}
    iam.put_user_policy(
        UserName=verifier, PolicyName="read", PolicyDocument=json.dumps({**ALLOW_ALL, "Statement": [*ALLOW_ALL["Statement"], denied]})
    )
    _as(monkeypatch, enforcing, iam.create_access_key(UserName=verifier)["AccessKey"])

    report = run_verify("dev", bucket, lambda _: None)
    verdicts = {f.control: (f.verdict, f.detail) for f in report.findings}
    for control in ("KF-S3-02", "KF-S3-05", "KF-S3-06", "KF-S3-14"):  # they read the policy
        assert verdicts[control] == ("not readable", "policy not readable: AccessDenied"), control
    assert verdicts["KF-S3-01"][0] == "pass" and verdicts["KF-S3-07"][0] == "pass"  # the rest is read and judged
    assert "not readable with these credentials: GetBucketPolicy (AccessDenied)" in report.notes


def test_verify_assumes_the_stacks_role(aws_env: str) -> None:
    from automation.live.session import AssumedRole, ProviderIdentity, session_of

    session = session_of(ProviderIdentity("eu-west-1", assume_roles=(AssumedRole("arn:aws:iam::123456789012:role/verify"),)))
    credentials = session.get_credentials().get_frozen_credentials()
    assert credentials.access_key.startswith("ASIA") and credentials.token  # STS temporary credentials, not the chain's
    assert session.client("sts").get_caller_identity()["Arn"].startswith("arn:aws:sts::123456789012:assumed-role/verify/")
