"""The request matrix (rules/matrix.py): every request that really happens to a stack, judged by
the project's evaluator and by @cloud-copilot/iam-simulate, for every environment and variant.
The two must agree on every row (exact verdict), and every row must get its expected verdict.
moto cannot show any of this: it ignores conditions."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from automation.environments import environment
from automation.offline.check import resources_of, run_check
from automation.stackfiles import expectations_for, settings_for
from components import policies
from components.settings import load_settings
from rules import evaluate
from rules.controls import control
from rules.from_resources import snapshot_from_resources
from rules.matrix import S3_STAR, Row, rows
from rules.state import Snapshot
from tests import iam_oracle
from tests.conftest import config, run

DEPLOYER = "arn:aws:iam::123456789012:role/pulumi-deploy"
PROD_LIKE = {"encryption": "sse-kms", "accessLogging": True, "replicaRegion": "eu-central-1", "profileNamespaces": ["team-a", "team-b"]}
VARIANTS: dict[str, dict] = {
    "organization": {**PROD_LIKE, "organizationId": "o-a1b2c3d4e5"},
    "trusted-accounts": {**PROD_LIKE, "trustedAccountIds": ["210987654321"]},
    "vpc-endpoints": {
        **PROD_LIKE,
        "allowedVpcEndpointIds": ["vpce-0a1b2c3d4e5f67890"],
        "replicaAllowedVpcEndpointIds": ["vpce-0f9e8d7c6b5a43210"],
        "perimeterExemptPrincipalArns": [DEPLOYER],
    },
    "static-credentials": {"credentials": "static", "profileIsolation": False, "profileNamespaces": ["team-a"], "encryption": "sse-kms"},
    "sse-s3": {"encryption": "sse-s3", "accessLogging": True, "profileNamespaces": ["team-a", "team-b"]},
}


def _matrix_of_env(env: str) -> list[Row]:
    report = run_check(env)
    return rows(snapshot_from_resources(resources_of(report.run)), expectations_for(settings_for(env), environment(env)))


def _matrix_of_variant(name: str) -> list[Row]:
    keys = VARIANTS[name]
    settings = load_settings("dev", config(**keys))
    snapshot = snapshot_from_resources(resources_of(run("dev", **keys)))
    return rows(snapshot, expectations_for(settings, environment("dev")))


CASES: dict[str, Callable[[], list[Row]]] = {
    **{env: (lambda env=env: _matrix_of_env(env)) for env in ("dev", "staging", "prod")},
    **{name: (lambda name=name: _matrix_of_variant(name)) for name in VARIANTS},
}


def _wrong(matrix: list[Row]) -> list[str]:
    return [f"{row.id}: {row.judge().result}" for row in matrix if row.judge().allowed != row.expect_allowed]


@pytest.mark.parametrize("case", list(CASES))
def test_every_row_gets_its_verdict_under_both_evaluators(case: str) -> None:
    iam_oracle.require()
    matrix = CASES[case]()
    assert len(matrix) >= 15, [r.id for r in matrix]
    assert _wrong(matrix) == []
    oracle = iam_oracle.verdicts(matrix)
    disagreements = [f"{row.id}: ours {row.judge().result}, iam-simulate {theirs}" for row, theirs in zip(matrix, oracle, strict=True)]
    disagreements = [d for d, row, theirs in zip(disagreements, matrix, oracle, strict=True) if row.judge().result != theirs]
    assert disagreements == []


def test_the_matrix_covers_the_requests_the_issue_names() -> None:
    ids = {row.id for row in _matrix_of_variant("vpc-endpoints")}
    for expected in (
        "runner team-a: upload with no SSE header",
        "runner team-a: S3 encrypts for it",
        "runner team-a: s3:GetObject in team-b's prefix",
        "runner team-a: list team-b's prefix",
        "pipeline kubeflow: API server stores a pipeline package",
        "ui kubeflow: UI reads an artifact",
        "plain HTTP upload",
        "TLS 1.1 read",
        "SSE-C upload",
        "upload naming another KMS key",
        "anonymous read",
        "replication: s3:ReplicateObject on the replica",
        "replication: S3 decrypts the source",
        "replication: S3 kms:GenerateDataKey with the replica key",
        "S3 delivers the artifact bucket's access logs",
        "run identity from outside the VPC endpoints",
    ):
        assert expected in ids, expected


def _with_old_header_denies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 1 reverted: the header Denies as they were (StringNotEqualsIfExists, no Null guard)."""
    import awacs.aws as iam

    from components.policies import bucket

    def old(sid: str, objects: str, key: str, operator: object, allowed: str) -> object:
        return bucket._deny_upload(sid, objects, iam.StringNotEqualsIfExists(key, allowed))

    monkeypatch.setattr(bucket, "_deny_wrong_header", old)


def test_reverting_the_presence_guard_fails_the_headerless_upload_rows_under_both(monkeypatch: pytest.MonkeyPatch) -> None:
    iam_oracle.require()
    _with_old_header_denies(monkeypatch)
    matrix = _matrix_of_env("prod")
    headerless = [row for row in matrix if "no SSE header" in row.id or "no header" in row.id]
    assert len(headerless) >= 8
    assert all(row.judge().result == "ExplicitlyDenied" for row in headerless)
    assert set(iam_oracle.verdicts(headerless)) == {"ExplicitlyDenied"}
    finding = evaluate(
        snapshot_from_resources(resources_of(run_check("prod").run)), expectations_for(settings_for("prod"), environment("prod"))
    )
    failed = {f.control: f.detail for f in finding if f.verdict == "fail"}
    assert "refuses uploads that rely on default encryption" in failed["KF-S3-10"]
    assert "no SSE header: denied by DenyWrongEncryptionAlgorithm" in failed["KF-REQ-01"]


def test_without_the_replication_exemption_dr_is_denied_at_both_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's finding, reproduced: with allowedVpcEndpointIds and no exemption of the role,
    S3's replication requests (the role, no aws:SourceVpce) are refused by the network perimeter."""
    iam_oracle.require()
    original = policies.bucket._perimeter_statements

    def without_role(bucket_arn: str, perimeter: policies.Perimeter | None) -> list:
        if perimeter is not None:
            perimeter = policies.Perimeter(
                perimeter.account_ids, perimeter.organization_id, perimeter.vpc_endpoint_ids, perimeter.exempt_principal_arns
            )
        return original(bucket_arn, perimeter)

    monkeypatch.setattr(policies.bucket, "_perimeter_statements", without_role)
    matrix = [row for row in _matrix_of_variant("vpc-endpoints") if row.id.startswith("replication: s3:")]
    assert matrix and all(row.judge().result == "ExplicitlyDenied" for row in matrix)
    assert set(iam_oracle.verdicts(matrix)) == {"ExplicitlyDenied"}


def test_an_exempt_deployer_with_an_iam_path_is_not_locked_out() -> None:
    from rules.policy_eval import Request, decide

    document = json.loads(
        policies.artifact_bucket_policy(
            "arn:aws:s3:::b", None, policies.Perimeter(("123456789012",), vpc_endpoint_ids=("vpce-1",), exempt_principal_arns=(DEPLOYER,))
        )
    )
    with_path = "arn:aws:iam::123456789012:role/ci/pulumi-deploy"
    context = {
        "aws:PrincipalArn": with_path,
        "aws:PrincipalAccount": "123456789012",
        "aws:SecureTransport": "true",
        "aws:PrincipalIsAWSService": "false",
    }
    request = Request(with_path, "s3:GetBucketPolicy", "arn:aws:s3:::b", "123456789012", context)
    assert decide(request, [S3_STAR], document).allowed
    other = {**context, "aws:PrincipalArn": "arn:aws:iam::123456789012:role/ci/someone-else"}
    assert not decide(
        Request(other["aws:PrincipalArn"], "s3:GetBucketPolicy", "arn:aws:s3:::b", "123456789012", other), [], document
    ).allowed


def test_unknown_values_at_preview_are_not_judged() -> None:
    from rules.state import UNKNOWN

    snapshot = snapshot_from_resources(resources_of(run("dev")))
    snapshot.identities[0].arn = UNKNOWN
    finding = next(f for f in evaluate(snapshot, expectations_for(settings_for("dev"), environment("dev"))) if f.control == "KF-REQ-01")
    assert finding.verdict == "not judged" and "ARN" in finding.detail


def test_request_control_is_in_the_table() -> None:
    assert control("KF-REQ-01").scope == "stack"
    assert Snapshot().name == "stack"
