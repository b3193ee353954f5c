"""Static mode, properly: the credentials secret under a customer-managed key, and `verify` reading
the age of the access key the program created (moto's IAM on loopback: a real ListAccessKeys)."""

from __future__ import annotations

import datetime

import boto3
import pytest

from automation.live.reader import LiveReader
from automation.live.verify import _static_key_age
from components import names
from components.settings import load_settings
from tests.conftest import config, run

STATIC = {"credentials": "static", "secretsManager": True, "profileIsolation": False}


def test_with_sse_s3_the_secret_gets_a_dedicated_key_usable_only_through_secrets_manager() -> None:
    r = run("dev", **STATIC)
    key = r.one("aws:kms/key:Key", "credentials-key")
    assert r.one("aws:secretsmanager/secret:Secret").inputs["kmsKeyId"] == key.state["arn"]
    policy = key.inputs["policy"]
    assert "secretsmanager.us-east-1.amazonaws.com" in policy and key.inputs["enableKeyRotation"] is True


def test_with_sse_kms_the_secret_uses_the_stacks_key() -> None:
    r = run("dev", encryption="sse-kms", **STATIC)
    assert not [k for k in r.of_type("aws:kms/key:Key") if "credentials" in k.name]
    assert r.one("aws:secretsmanager/secret:Secret").inputs["kmsKeyId"] == r.exports["kmsKeyArn"]


@pytest.mark.parametrize(("days", "fails"), [(30, False), (120, True)])
def test_verify_fails_an_access_key_older_than_the_limit(aws_env: str, days: int, fails: bool) -> None:
    settings = load_settings("dev", config(**STATIC))
    user = names.static_user_name("dev")
    iam = boto3.client("iam", region_name="eu-west-1")
    if user not in {u["UserName"] for u in iam.list_users()["Users"]}:
        iam.create_user(UserName=user)
        iam.create_access_key(UserName=user)
    created = iam.list_access_keys(UserName=user)["AccessKeyMetadata"][0]["CreateDate"]
    reader = LiveReader(boto3.session.Session(), "eu-west-1")
    notes, problems = _static_key_age(settings, reader, now=created + datetime.timedelta(days=days))
    assert any(f"is {days} days old (limit 90)" in note for note in notes)
    assert bool(problems) is fails
    if fails:
        assert problems[0].endswith("over staticKeyMaxAgeDays 90: rotate it (docs/operations.md, rotating the static key)")
