"""Profile isolation live on moto's server with IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT).

moto evaluates identity policies on actions and resource ARNs, not conditions: so object
access (GetObject/PutObject on bucket/private/<ns>/*) is shown live here, and the ListBucket
`s3:prefix` condition is judged offline in the last test, with the reason there."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from components import policies, wiring
from components.settings import load_settings
from tests.conftest import config, start_moto

REGION = "us-east-1"
BUCKET = "kf-artifacts-isolation"
PROFILES = ["team-a", "team-b"]


@pytest.fixture(scope="module")
def enforcing() -> Iterator[str]:
    # The first 3 requests are unauthenticated: just enough to create an admin user and its key.
    yield from start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "3"})


def _client(service: str, url: str, key: dict[str, str]):
    return boto3.client(
        service, endpoint_url=url, region_name=REGION, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )


@pytest.fixture(scope="module")
def teams(enforcing: str) -> dict[str, object]:
    bootstrap = boto3.client("iam", endpoint_url=enforcing, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    bootstrap.create_user(UserName="admin")
    bootstrap.put_user_policy(
        UserName="admin",
        PolicyName="all",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    )
    admin_key = bootstrap.create_access_key(UserName="admin")["AccessKey"]
    iam, s3 = _client("iam", enforcing, admin_key), _client("s3", enforcing, admin_key)
    s3.create_bucket(Bucket=BUCKET)
    settings = load_settings("dev", config(profileNamespaces=PROFILES))
    clients: dict[str, object] = {"admin": s3}
    for namespace in PROFILES:
        # Exactly the policy the program attaches to this profile's role.
        document = policies.artifact_access_policy(
            f"arn:aws:s3:::{BUCKET}",
            None,
            REGION,
            wiring.prefix(settings, namespace),
            legacy_prefix=wiring.legacy_prefix(settings, namespace),
        )
        iam.create_user(UserName=namespace)
        iam.put_user_policy(UserName=namespace, PolicyName="artifacts", PolicyDocument=document)
        clients[namespace] = _client("s3", enforcing, iam.create_access_key(UserName=namespace)["AccessKey"])
        s3.put_object(Bucket=BUCKET, Key=f"private-artifacts/{namespace}/v2/artifacts/run-1/model.txt", Body=namespace.encode())
        # Written before the layout followed upstream's: under the former prefix.
        s3.put_object(Bucket=BUCKET, Key=f"private/{namespace}/v2/artifacts/run-0/model.txt", Body=namespace.encode())
    return clients


def _denied(call, **kwargs) -> bool:
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"] in ("AccessDenied", "403")
    return False


def test_moto_enforces_identity_policies_here(teams: dict) -> None:
    """Without this the rest would prove nothing: a user with no policy is refused."""
    assert _denied(teams["team-a"].create_bucket, Bucket="kf-not-allowed")


def test_each_profile_reads_and_writes_its_own_prefix(teams: dict) -> None:
    for namespace in PROFILES:
        s3 = teams[namespace]
        key = f"private-artifacts/{namespace}/v2/artifacts/run-2/metrics.json"
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
        assert (
            s3.get_object(Bucket=BUCKET, Key=f"private-artifacts/{namespace}/v2/artifacts/run-1/model.txt")["Body"].read()
            == namespace.encode()
        )
        s3.delete_object(Bucket=BUCKET, Key=key)


def test_a_profile_cannot_touch_another_profiles_prefix_or_the_shared_layout(teams: dict) -> None:
    a = teams["team-a"]
    assert _denied(a.get_object, Bucket=BUCKET, Key="private-artifacts/team-b/v2/artifacts/run-1/model.txt")
    assert _denied(a.put_object, Bucket=BUCKET, Key="private-artifacts/team-b/v2/artifacts/run-1/model.txt", Body=b"overwrite")
    assert _denied(a.delete_object, Bucket=BUCKET, Key="private-artifacts/team-b/v2/artifacts/run-1/model.txt")
    assert _denied(a.put_object, Bucket=BUCKET, Key="v2/artifacts/shared.txt", Body=b"x")
    assert teams["admin"].get_object(Bucket=BUCKET, Key="private-artifacts/team-b/v2/artifacts/run-1/model.txt")["Body"].read() == b"team-b"


def test_the_former_prefix_stays_readable_by_its_profile_only_and_is_never_written(teams: dict) -> None:
    a = teams["team-a"]
    assert a.get_object(Bucket=BUCKET, Key="private/team-a/v2/artifacts/run-0/model.txt")["Body"].read() == b"team-a"
    assert _denied(a.put_object, Bucket=BUCKET, Key="private/team-a/v2/artifacts/run-9/new.txt", Body=b"x")
    assert _denied(a.delete_object, Bucket=BUCKET, Key="private/team-a/v2/artifacts/run-0/model.txt")
    assert _denied(a.get_object, Bucket=BUCKET, Key="private/team-b/v2/artifacts/run-0/model.txt")


def test_listing_is_limited_to_the_own_prefix_judged_offline() -> None:
    """moto ignores conditions, so a live ListBucket would pass for any prefix and prove nothing.
    Judged here on the document: the only ListBucket grant carries StringLike s3:prefix values
    that all start with the profile's own prefix; no statement grants ListBucket without it."""
    settings = load_settings("dev", config(profileNamespaces=PROFILES))
    for namespace in PROFILES:
        own = wiring.prefix(settings, namespace)
        legacy = wiring.legacy_prefix(settings, namespace)
        document = json.loads(policies.artifact_access_policy(f"arn:aws:s3:::{BUCKET}", None, REGION, own, legacy_prefix=legacy))
        listing = [s for s in document["Statement"] if "s3:ListBucket" in s["Action"]]
        assert len(listing) == 2  # the current prefix, and the former one (read-only)
        prefixes = [p for s in listing for p in s["Condition"]["StringLike"]["s3:prefix"]]
        assert prefixes and all(p.startswith((own, legacy)) for p in prefixes) and own.startswith("private-artifacts/")
        assert legacy == f"private/{namespace}/"
