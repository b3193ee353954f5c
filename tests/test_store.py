"""The storage half under the mock engine: each setting, ordering, protection, key policy, outputs."""

from __future__ import annotations

import json

import pulumi
import pytest

from automation.offline.mock_engine import MOCK_ACCOUNT, StoreMocks
from components import policies as p
from kubeflow_artifact_store import KubeflowArtifactStore
from tests.conftest import OIDC, run

BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KEY = "aws:kms/key:Key"


def _statement(policy: dict, sid: str) -> dict:
    return next(s for s in policy["Statement"] if s.get("Sid") == sid)


def test_bucket_uses_only_current_arguments_and_generated_prefix() -> None:
    r = run("dev")
    bucket = r.one(BUCKET, "artifacts")
    assert bucket.inputs["bucketPrefix"] == "kf-artifacts-dev-"
    assert bucket.inputs["forceDestroy"] is False
    deprecated = {"acl", "grants", "versioning", "serverSideEncryptionConfiguration", "logging", "lifecycleRules", "policy"}
    assert not deprecated & set(bucket.inputs)
    assert not [x for x in r.resources if "V2" in x.type or x.type.endswith("BucketAcl")]


def test_exact_bucket_name() -> None:
    bucket = run("dev", bucketName="team-artifacts-001").one(BUCKET, "artifacts")
    assert bucket.inputs["bucket"] == "team-artifacts-001" and "bucketPrefix" not in bucket.inputs


def test_public_access_block_all_four_and_ownership_enforced() -> None:
    r = run("dev")
    pab = r.one(PAB, "artifacts")
    assert [pab.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")] == [True] * 4
    assert r.one(OWNERSHIP, "artifacts").inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_policy_after_public_access_block_and_ownership_after_policy() -> None:
    r = run("dev")
    pab, policy, ownership = r.one(PAB, "artifacts"), r.one(POLICY, "artifacts"), r.one(OWNERSHIP, "artifacts")
    assert pab.urn in policy.dependencies
    assert policy.urn in ownership.dependencies


def test_sse_s3_default_encryption_blocks_sse_c() -> None:
    rule = run("dev").one(ENCRYPTION, "artifacts").inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert rule["blockedEncryptionTypes"] == ["SSE-C"]


def test_sse_kms_uses_the_created_keys_full_arn_and_bucket_key() -> None:
    r = run("staging", encryption="sse-kms")
    rule = r.one(ENCRYPTION, "artifacts").inputs["rules"][0]
    key_arn = f"arn:aws:kms:us-east-1:{MOCK_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}
    assert rule["bucketKeyEnabled"] is True
    assert r.exports["kmsKeyArn"] == key_arn


def test_existing_key_is_used_and_none_is_created() -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/abcdabcd-1111-2222-3333-444455556666"
    r = run("staging", encryption="sse-kms", kmsKeyArn=arn)
    assert not r.of_type(KEY)
    assert r.one(ENCRYPTION, "artifacts").inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == arn
    policy = json.loads(r.one(POLICY, "artifacts").inputs["policy"])
    assert _statement(policy, p.SID_DENY_WRONG_KEY)["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": arn},
        "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
    }


def test_bucket_policy_statements_sse_kms() -> None:
    policy = json.loads(run("staging", encryption="sse-kms").one(POLICY, "artifacts").inputs["policy"])
    arn = "arn:aws:s3:::kf-artifacts-staging-20261129000000000000000001"
    tls = _statement(policy, p.SID_DENY_INSECURE_TRANSPORT)
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", "*", ["s3:*"])
    assert tls["Resource"] == [arn, f"{arn}/*"]
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert _statement(policy, p.SID_DENY_OLD_TLS)["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    algorithm = _statement(policy, p.SID_DENY_WRONG_ALGORITHM)
    assert algorithm["Action"] == ["s3:PutObject"]
    # Refuses a wrong header only: an upload with no header (default encryption) is not denied.
    assert algorithm["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Null": {"s3:x-amz-server-side-encryption": "false"},
    }
    assert _statement(policy, p.SID_DENY_WRONG_KEY)["Condition"]["Null"] == {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"}
    assert _statement(policy, p.SID_DENY_KMS_WITHOUT_KEY)["Condition"] == {
        "StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "true"},
    }
    assert _statement(policy, p.SID_DENY_SSE_C)["Condition"] == {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}
    assert not [s for s in policy["Statement"] if s["Effect"] == "Allow"]


def test_sse_s3_policy_has_no_key_statement() -> None:
    policy = json.loads(run("dev").one(POLICY, "artifacts").inputs["policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {
        p.SID_DENY_INSECURE_TRANSPORT,
        p.SID_DENY_OLD_TLS,
        p.SID_DENY_WRONG_ALGORITHM,
        p.SID_DENY_SSE_C,
        p.SID_DENY_OUTSIDE_IDENTITIES,
    }


@pytest.mark.parametrize("versioning", [True, False])
def test_versioning_and_lifecycle(versioning: bool) -> None:
    r = run("dev", versioning=versioning, noncurrentVersionExpirationDays=45, abortIncompleteUploadDays=3)
    status = r.one("aws:s3/bucketVersioning:BucketVersioning", "artifacts").inputs["versioningConfiguration"]["status"]
    assert status == ("Enabled" if versioning else "Suspended")
    lifecycle = r.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "artifacts")
    rule = lifecycle.inputs["rules"][0]
    assert rule["status"] == "Enabled"
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 3}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 45}
    assert r.one("aws:s3/bucketVersioning:BucketVersioning", "artifacts").urn in lifecycle.dependencies


def test_kms_key_rotation_window_alias_and_lockout_check() -> None:
    r = run("staging", encryption="sse-kms", kmsKeyRotationDays=180, kmsDeletionWindowDays=14)
    key = r.one(KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["rotationPeriodInDays"] == 180
    assert key.inputs["deletionWindowInDays"] == 14
    assert key.inputs["bypassPolicyLockoutSafetyCheck"] is False
    assert r.one("aws:kms/alias:Alias").inputs["name"] == "alias/kubeflow-artifacts-staging"


def test_key_policy_statements() -> None:
    admins = ["arn:aws:iam::123456789012:role/platform-admin"]
    policy = json.loads(run("staging", encryption="sse-kms", kmsKeyAdminArns=admins).one(KEY).inputs["policy"])
    root = _statement(policy, p.SID_KEY_ROOT)
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{MOCK_ACCOUNT}:root"} and root["Action"] == ["kms:*"]
    admin = _statement(policy, p.SID_KEY_ADMINS)
    assert admin["Principal"] == {"AWS": admins}
    assert not {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:*"} & set(admin["Action"])
    assert "kms:ScheduleKeyDeletion" in admin["Action"]
    use = _statement(policy, p.SID_KEY_S3_USE)
    assert use["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": MOCK_ACCOUNT}}
    crypto = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
    outside = _statement(policy, p.SID_KEY_DENY_OUTSIDE_SERVICES)
    assert outside == {
        "Sid": p.SID_KEY_DENY_OUTSIDE_SERVICES,
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": crypto,
        "Resource": ["*"],
        "Condition": {"StringNotEquals": {"kms:ViaService": ["s3.us-east-1.amazonaws.com"]}},
    }
    admins_denied = _statement(policy, p.SID_KEY_DENY_ADMIN_USE)
    assert admins_denied["Effect"] == "Deny" and admins_denied["Principal"] == {"AWS": admins} and admins_denied["Action"] == crypto
    assert "Condition" not in admins_denied
    assert {s["Sid"] for s in policy["Statement"]} == {
        p.SID_KEY_ROOT,
        p.SID_KEY_ADMINS,
        p.SID_KEY_S3_USE,
        p.SID_KEY_DENY_OUTSIDE_SERVICES,
        p.SID_KEY_DENY_ADMIN_USE,
    }


def test_no_admin_statement_without_admins() -> None:
    policy = json.loads(run("staging", encryption="sse-kms").one(KEY).inputs["policy"])
    assert p.SID_KEY_ADMINS not in {s["Sid"] for s in policy["Statement"]}


def test_access_logging_bucket_is_equally_hardened_and_receives_logs() -> None:
    r = run("prod", accessLogging=True, encryption="sse-kms")
    logs = r.one(BUCKET, "access-logs")
    assert logs.inputs["bucketPrefix"] == "kf-artifact-logs-prod-"
    assert r.one(PAB, "access-logs").inputs["restrictPublicBuckets"] is True
    assert r.one(OWNERSHIP, "access-logs").inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    assert r.one(ENCRYPTION, "access-logs").inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    lifecycle = r.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "access-logs").inputs["rules"][0]
    assert lifecycle["expiration"] == {"days": 365}
    policy = json.loads(r.one(POLICY, "access-logs").inputs["policy"])
    delivery = _statement(policy, p.SID_ALLOW_LOG_DELIVERY)
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"] == {
        "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT},
        "ArnLike": {"aws:SourceArn": r.exports["bucketArn"]},
    }
    assert _statement(policy, p.SID_DENY_INSECURE_TRANSPORT)
    logging = r.one("aws:s3/bucketLogging:BucketLogging")
    assert logging.inputs["targetBucket"] == r.exports["logBucketName"]
    assert logging.inputs["targetPrefix"] == "s3-access-logs/"
    assert r.one(POLICY, "access-logs").urn in logging.dependencies


def test_event_notifications_to_eventbridge() -> None:
    assert run("prod", eventNotifications=True).one("aws:s3/bucketNotification:BucketNotification").inputs["eventbridge"] is True
    assert not run("dev").of_type("aws:s3/bucketNotification:BucketNotification")


@pytest.mark.parametrize("protect", [True, False])
def test_protection_on_buckets_and_key_only(protect: bool) -> None:
    r = run("prod", protect=protect, encryption="sse-kms", accessLogging=True)
    guarded = [x for x in r.resources if x.type in (BUCKET, KEY)]
    assert len(guarded) == 3
    assert all(x.protect is protect for x in guarded)
    # Buckets follow `protect`; a created key is always retained (never scheduled for deletion by Pulumi).
    assert all(x.retain_on_delete is (protect or x.type == KEY) for x in guarded)
    assert not any(x.protect for x in r.resources if x.type not in (BUCKET, KEY))


def test_tags_merged_with_stack_and_managed_by() -> None:
    tags = run("dev", tags={"team": "ml"}).one(BUCKET, "artifacts").inputs["tags"]
    assert tags == {
        "team": "ml",
        "pulumi-stack": "dev",
        "managed-by": "pulumi/kubeflow-artifact-store",
        "kubeflow-artifact-store:stack": "kubeflow-artifact-store/dev",
    }


@pytest.mark.parametrize(
    ("region", "endpoint", "partition"),
    [
        ("eu-west-1", "s3.eu-west-1.amazonaws.com", "aws"),
        ("us-gov-west-1", "s3.us-gov-west-1.amazonaws.com", "aws-us-gov"),
        ("cn-north-1", "s3.cn-north-1.amazonaws.com.cn", "aws-cn"),
    ],
)
def test_outputs_per_partition(region: str, endpoint: str, partition: str) -> None:
    oidc = f"arn:{partition}:iam::123456789012:oidc-provider/oidc.eks.{region}.amazonaws.com/id/ABCDEF0123456789"
    r = run("dev", region=region, eksOidcProviderArn=oidc)
    assert r.exports["region"] == region
    assert r.exports["s3Endpoint"] == endpoint
    assert r.exports["bucketArn"].startswith(f"arn:{partition}:s3:::kf-artifacts-dev-")
    assert "kmsKeyArn" not in r.exports and "logBucketName" not in r.exports  # None outputs


def test_children_are_parented_to_the_component() -> None:
    r = run("prod", encryption="sse-kms", accessLogging=True, eventNotifications=True)
    root = next(x for x in r.resources if x.type == "kubeflow:storage:KubeflowArtifactStore")
    for x in r.resources:
        if x.type not in ("pulumi:pulumi:Stack", "kubeflow:storage:KubeflowArtifactStore"):
            chain = x
            while chain.parent and chain.parent != root.urn:
                chain = r.by_urn(chain.parent)
            assert chain.parent == root.urn, x.name


@pulumi.runtime.test
def test_component_attributes_under_pulumi_runtime_test():
    """The component's own attributes, resolved by the mock engine; returned so the test awaits them."""
    pulumi.runtime.set_mocks(StoreMocks("eu-west-1"), project="kubeflow-artifact-store", stack="staging", preview=False)
    store = KubeflowArtifactStore(
        "unit",
        {
            "region": "eu-west-1",
            "eks_oidc_provider_arn": OIDC.replace("us-east-1", "eu-west-1"),
            "encryption": "sse-kms",
            "access_logging": True,
        },
    )

    def check(values: list) -> None:
        name, arn, key_arn, log_name, region, endpoint = values
        assert name.startswith("kf-artifacts-staging-")
        assert arn == f"arn:aws:s3:::{name}"
        assert key_arn.startswith("arn:aws:kms:eu-west-1:") and ":key/" in key_arn
        assert log_name.startswith("kf-artifact-logs-staging-")
        assert region == "eu-west-1" and endpoint == "s3.eu-west-1.amazonaws.com"

    outputs = (store.bucket_name, store.bucket_arn, store.kms_key_arn, store.log_bucket_name, store.region, store.s3_endpoint)
    return pulumi.Output.all(*outputs).apply(check)
