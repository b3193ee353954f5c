"""`verify` judges the live documents by effect: the bucket, key and role policies read from moto's
S3, KMS and IAM APIs on loopback, then the request matrix (KF-REQ-01) and KF-S3-10 with the
evaluator. moto stores these documents but never evaluates their conditions: the verdicts here
come from the evaluator the differential test holds to @cloud-copilot/iam-simulate."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from automation.live.verify import run_verify
from components import names, policies
from tests.test_verify_moto import ACCOUNT, PERIMETER, REGION, deployed  # noqa: F401 (the fixture)

OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/ABCDEF0123456789"
PROFILES = ("team-nlp", "team-vision")


def _profile_roles(bucket: str, key_arn: str) -> dict[str, str]:
    """Each profile's IRSA role with the program's trust and least-privilege policy."""
    iam = boto3.client("iam", region_name=REGION)
    issuer = OIDC.split("oidc-provider/")[1]
    arns = {}
    for namespace in PROFILES:
        trust = policies.irsa_trust_policy(OIDC, issuer, namespace, "default-editor")
        role_name = f"kf-{namespace}-{bucket.rsplit('-', 1)[-1]}"  # one moto server serves every test: unique names
        role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust)["Role"]
        prefix, legacy = f"{names.PROFILE_PREFIX_ROOT}/{namespace}/", f"{names.LEGACY_PROFILE_PREFIX_ROOT}/{namespace}/"
        document = policies.artifact_access_policy(f"arn:aws:s3:::{bucket}", key_arn, REGION, prefix, legacy_prefix=legacy)
        iam.put_role_policy(RoleName=role["RoleName"], PolicyName="artifacts", PolicyDocument=document)
        arns[namespace] = role["Arn"]
    return arns


@pytest.fixture
def with_roles(deployed: dict[str, str]) -> dict[str, Any]:  # noqa: F811
    key_arn = boto3.client("kms", region_name=REGION).describe_key(KeyId=deployed["key"])["KeyMetadata"]["Arn"]
    roles = _profile_roles(deployed["bucket"], key_arn)
    return {**deployed, "key_arn": key_arn, "outputs": lambda env, why: {"profileRoleArns": roles}}


def _findings(bucket: str, outputs: object) -> dict[str, tuple[str, str]]:
    report = run_verify("prod", bucket, lambda _: None, outputs)  # type: ignore[arg-type]
    return {f"{f.control}@{f.resource}": (f.verdict, f.detail) for f in report.findings}


def test_live_documents_pass_the_request_matrix(with_roles: dict[str, str]) -> None:
    report = run_verify("prod", with_roles["bucket"], lambda _: None, with_roles["outputs"])
    matrix = next(f for f in report.findings if f.control == "KF-REQ-01")
    assert matrix.verdict == "pass", matrix.detail
    assert report.exit_code == 0
    assert any("IAM identities: 3 read live" in note for note in report.notes)


def test_a_bucket_whose_header_denies_lack_the_presence_guard_fails_naming_the_request(with_roles: dict[str, str]) -> None:
    document = json.loads(policies.artifact_bucket_policy(f"arn:aws:s3:::{with_roles['bucket']}", with_roles["key_arn"], PERIMETER))
    for statement in document["Statement"]:
        condition = statement.get("Condition") or {}
        if "StringNotEquals" in condition and "Null" in condition:  # the old, wrong form
            statement["Condition"] = {"StringNotEqualsIfExists": condition["StringNotEquals"]}
    boto3.client("s3", region_name=REGION).put_bucket_policy(Bucket=with_roles["bucket"], Policy=json.dumps(document))
    report = run_verify("prod", with_roles["bucket"], lambda _: None, with_roles["outputs"])
    failed = {f.control: f.detail for f in report.findings if f.verdict == "fail" and f.resource in (with_roles["bucket"], "stack")}
    assert report.exit_code == 1
    assert failed["KF-S3-10"].startswith("refuses uploads that rely on default encryption")
    assert "runner team-nlp: upload with no SSE header: denied by DenyWrongEncryptionAlgorithm" in failed["KF-REQ-01"]


def test_a_profile_role_that_reaches_another_prefix_fails_the_matrix(with_roles: dict[str, str]) -> None:
    iam = boto3.client("iam", region_name=REGION)
    wide = policies.artifact_access_policy(f"arn:aws:s3:::{with_roles['bucket']}", with_roles["key_arn"], REGION)  # no prefix
    role_name = f"kf-team-nlp-{with_roles['bucket'].rsplit('-', 1)[-1]}"
    iam.put_role_policy(RoleName=role_name, PolicyName="artifacts", PolicyDocument=wide)
    detail = _findings(with_roles["bucket"], with_roles["outputs"])["KF-REQ-01@stack"]
    assert detail[0] == "fail" and "runner team-nlp: s3:GetObject in team-vision's prefix: allowed by ArtifactObjects" in detail[1]
