"""Rules that see every resource: every bucket judged (keyed by its own URN), and identity
policies counted as AWS weighs them (inline, attached, AWS-managed), for `check` and the pack."""

from __future__ import annotations

from pathlib import Path

from automation.offline.check import resources_of
from automation.offline.mock_engine import run_program
from rules import evaluate
from rules.from_resources import snapshot_from_resources
from rules.state import Expectations
from tests.conftest import OIDC

PROGRAM = """
import json
import pulumi, pulumi_aws as aws
from components.bucket import HardenedBucket, bucket_args
from components.settings import load_settings
settings = load_settings("dev", {{"aws:region": "us-east-1", "kubeflow-artifact-store:eksOidcProviderArn": {oidc!r}}})
tls = {{"Bool": {{"aws:SecureTransport": "false"}}}}
deny = lambda a: {{"Sid": "DenyTls", "Effect": "Deny", "Principal": "*", "Action": ["s3:*"], "Resource": [a, a + "/*"], "Condition": tls}}
policy = lambda arn: arn.apply(lambda a: json.dumps({{"Version": "2012-10-17", "Statement": [deny(a)]}}))
for name in ("team-one", "team-two"):
    HardenedBucket(name, bucket_args(settings, policy, name_prefix=f"kf-{{name}}-"))
for name in ("plain-one", "plain-two"):
    aws.s3.Bucket(name)
{extra}
"""


def _run(tmp_path: Path, extra: str = "") -> list:
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM.format(oidc=OIDC, extra=extra))
    run = run_program("dev", {"aws:region": "us-east-1"}, program=program)
    return evaluate(snapshot_from_resources(resources_of(run)), Expectations())


def test_two_hardened_and_two_plain_buckets_under_one_stack_get_four_verdicts(tmp_path: Path) -> None:
    findings = [f for f in _run(tmp_path) if f.control == "KF-S3-01"]
    verdicts = {f.resource: f.verdict for f in findings}
    assert len(findings) == 4
    assert verdicts == {"team-one": "pass", "team-two": "pass", "plain-one": "fail", "plain-two": "fail"}


ROLE = """
role = aws.iam.Role("kf-team-role", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}){managed})
{attachment}
"""


def _identity_findings(tmp_path: Path, managed: str = "", attachment: str = "") -> dict[str, tuple[str, str]]:
    extra = ROLE.replace("{managed}", managed).replace("{attachment}", attachment)
    return {f.control: (f.verdict, f.detail) for f in _run(tmp_path, extra) if f.resource == "kf-team-role"}


def test_administrator_access_through_an_attachment_fails_least_privilege(tmp_path: Path) -> None:
    attachment = (
        'aws.iam.RolePolicyAttachment("kf-team-role-admin", role=role.name, policy_arn="arn:aws:iam::aws:policy/AdministratorAccess")'
    )
    assert _identity_findings(tmp_path, attachment=attachment)["KF-IAM-01"][0] == "fail"


def test_s3_full_access_in_managed_policy_arns_fails_least_privilege(tmp_path: Path) -> None:
    managed = ', managed_policy_arns=["arn:aws:iam::aws:policy/AmazonS3FullAccess"]'
    verdict, detail = _identity_findings(tmp_path, managed=managed)["KF-IAM-01"]
    assert verdict == "fail" and detail.startswith("allows wildcard actions ['s3:*', 's3-object-lambda:*']; fix: ")


def test_a_policy_of_the_program_is_read_through_its_attachment(tmp_path: Path) -> None:
    attachment = (
        'own = aws.iam.Policy("kf-wide", policy=json.dumps({"Version": "2012-10-17", "Statement": '
        '[{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))\n'
        'aws.iam.RolePolicyAttachment("kf-team-role-wide", role=role.name, policy_arn=own.arn)'
    )
    verdict, detail = _identity_findings(tmp_path, attachment=attachment)["KF-IAM-01"]
    assert verdict == "fail" and detail.startswith("allows s3:GetObject on every resource; fix: ")


def test_an_unknown_managed_policy_is_not_judged_and_named(tmp_path: Path) -> None:
    arn = "arn:aws:iam::aws:policy/SomeTeamsPolicy"
    attachment = f'aws.iam.RolePolicyAttachment("kf-team-role-x", role=role.name, policy_arn="{arn}")'
    verdict, detail = _identity_findings(tmp_path, attachment=attachment)["KF-IAM-01"]
    assert verdict == "not judged" and arn in detail
