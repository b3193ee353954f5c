"""Day-2 changes under the mock engine: adopting a bucket, renames, key transitions, IAM constraints."""

from __future__ import annotations

import json

import pytest

from components import names
from components.settings import ConfigError, load_settings
from tests.conftest import BUCKET_HARDENING, NS, config, run

BUCKET = "aws:s3/bucket:Bucket"
ROLE = "aws:iam/role:Role"
PREVIOUS = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-1234-4abc-9def-001122334455"
BOUNDARY = "arn:aws:iam::123456789012:policy/kubeflow-boundary"


def test_an_adopted_bucket_is_imported_hardened_and_never_deleted() -> None:
    r = run("dev", adoptBucket="kf-artifact-store-abc123")
    bucket = r.one(BUCKET, "artifacts")
    assert bucket.import_id == "kf-artifact-store-abc123" and bucket.inputs["bucket"] == "kf-artifact-store-abc123"
    assert bucket.retain_on_delete and set(bucket.ignore_changes) >= {"tags", "bucketPrefix"}
    hardening = {x.type.split(":")[-1] for x in r.resources if x.parent == bucket.parent and x.urn != bucket.urn}
    assert hardening == BUCKET_HARDENING
    assert not [x for x in hardening if x in ("Bucket",)]
    assert r.exports["bucketName"] == "kf-artifact-store-abc123"


def test_a_created_bucket_ignores_its_prefix_after_creation_so_a_stack_rename_keeps_it() -> None:
    """`pulumi stack rename` changes the generated prefix (kf-artifacts-<stack>-): ignored, the bucket stays."""
    before, after = run("dev").one(BUCKET, "artifacts"), run("dev-eu").one(BUCKET, "artifacts")
    assert before.inputs["bucketPrefix"] != after.inputs["bucketPrefix"]
    assert "bucketPrefix" in before.ignore_changes and "bucketPrefix" in after.ignore_changes
    assert not before.import_id and "tags" not in before.ignore_changes  # created buckets keep their tags managed


def test_previous_keys_are_decrypt_only_through_s3() -> None:
    r = run("dev", encryption="sse-kms", previousKmsKeyArns=[PREVIOUS], profileNamespaces=["team-a"])
    for x in r.of_type("aws:iam/rolePolicy:RolePolicy"):
        statements = json.loads(x.inputs["policy"])["Statement"]
        previous = [s for s in statements if PREVIOUS in s["Resource"]]
        assert len(previous) == 1, x.name
        if "replica" not in x.name:
            assert previous[0]["Action"] == ["kms:Decrypt"]
            assert previous[0]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_previous_key_in_another_region_is_refused() -> None:
    with pytest.raises(ConfigError, match=f"{NS}:previousKmsKeyArns: invalid value .* allowed: keys in the bucket's region us-east-1"):
        load_settings("dev", config(encryption="sse-kms", previousKmsKeyArns=[PREVIOUS.replace("us-east-1", "eu-west-1")]))


def test_boundary_and_path_on_every_role_and_user() -> None:
    keys = {"iamPermissionsBoundaryArn": BOUNDARY, "iamPath": "/kubeflow/", "replicaRegion": "eu-central-1"}
    r = run("prod", profileNamespaces=["team-a"], **keys)
    roles = r.of_type(ROLE)
    assert len(roles) == 4  # API server, UI, team-a, replication
    assert all(x.inputs["permissionsBoundary"] == BOUNDARY and x.inputs["path"] == "/kubeflow/" for x in roles)
    static = run("dev", credentials="static", **{k: v for k, v in keys.items() if k != "replicaRegion"})
    (user,) = static.of_type("aws:iam/user:User")
    assert user.inputs["permissionsBoundary"] == BOUNDARY and user.inputs["path"] == "/kubeflow/"
    assert "permissionsBoundary" not in run("dev").one(ROLE, "access-kubeflow-ml-pipeline").inputs


def test_long_namespaces_differing_at_the_end_get_distinct_readable_role_prefixes() -> None:
    a, b = "team-computer-vision-research-europe-1", "team-computer-vision-research-europe-2"
    r = run("dev", profileNamespaces=[a, b])
    prefixes = {x.name: x.inputs["namePrefix"] for x in r.of_type(ROLE) if "team-" in x.name}
    assert len(set(prefixes.values())) == 2
    assert all(len(p) <= names.IAM_NAME_PREFIX_MAX and p.startswith("kf-team-computer-vision") for p in prefixes.values())
    assert names.iam_name_prefix("kubeflow-ml-pipeline") == "kf-kubeflow-ml-pipeline-"  # short names unchanged
    assert all("namePrefix" in x.ignore_changes for x in r.of_type(ROLE) if "access" in x.name)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"adoptBucket": "Bad_Name"}, f"{NS}:adoptBucket: invalid value 'Bad_Name' (not an S3 bucket name)"),
        ({"adoptBucket": "kf-a", "bucketName": "kf-b"}, f"{NS}:bucketName: invalid value 'kf-b' (two different buckets named)"),
        (
            {"iamPermissionsBoundaryArn": "boundary"},
            f"{NS}:iamPermissionsBoundaryArn: invalid value 'boundary' (not an IAM managed policy ARN)",
        ),
        ({"iamPath": "kubeflow"}, f"{NS}:iamPath: invalid value 'kubeflow' (an IAM path starts and ends with /)"),
        ({"previousKmsKeyArns": ["alias/old"]}, "'alias/old' is not a full KMS key ARN"),
    ],
)
def test_bad_day2_input_is_one_line(keys: dict, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings("dev", config(**keys))
    assert message in str(raised.value) and "\n" not in str(raised.value)
