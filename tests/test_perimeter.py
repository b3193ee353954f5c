"""Data perimeter and disaster recovery: the key policy's effect, the bucket perimeter statements,
replication, and their configuration errors."""

from __future__ import annotations

import json

import pytest

from components import policies
from components.settings import ConfigError, load_settings
from rules import policy_eval
from tests.conftest import NS, config, run

ACCOUNT = "123456789012"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"
KUBEFLOW_ROLE = f"arn:aws:iam::{ACCOUNT}:role/kf-kubeflow-ml-pipeline-x"
VIA_S3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
KMS_STAR = {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
KUBEFLOW_IAM = json.loads(policies.artifact_access_policy("arn:aws:s3:::b", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k", "eu-west-1"))


KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k"


def Request(principal: str, account: str, action: str, context: dict | None = None) -> policy_eval.Request:  # noqa: N802
    """A same-account KMS request with the context keys AWS sets for it."""
    full = {"aws:PrincipalArn": principal, "aws:PrincipalAccount": account, "kms:CallerAccount": account, **(context or {})}
    return policy_eval.Request(principal, action, KEY, account, full)


def allowed(key_policy: dict, identity: dict, request: policy_eval.Request) -> bool:
    return policy_eval.decide(request, [identity], key_policy).allowed


def key_policy(**kwargs: object) -> dict:
    return json.loads(policies.key_policy(ACCOUNT, "aws", "eu-west-1", [ADMIN], **kwargs))


class TestKeyPolicyEffect:
    """Evaluated offline (rules/policy_eval.py, AWS's evaluation order): moto stores key policies
    but does not enforce them, so no live KMS call here could show a Deny."""

    def test_kubeflow_role_uses_the_key_through_s3(self) -> None:
        for action in ("kms:Decrypt", "kms:GenerateDataKey"):
            assert allowed(key_policy(), KUBEFLOW_IAM, Request(KUBEFLOW_ROLE, ACCOUNT, action, VIA_S3))

    def test_the_same_role_calling_kms_directly_is_denied(self) -> None:
        assert not allowed(key_policy(), KUBEFLOW_IAM, Request(KUBEFLOW_ROLE, ACCOUNT, "kms:Decrypt"))
        assert not allowed(key_policy(), KMS_STAR, Request(KUBEFLOW_ROLE, ACCOUNT, "kms:Decrypt"))  # even with kms:* in IAM

    def test_an_administrator_with_kms_star_cannot_decrypt_at_all(self) -> None:
        assert not allowed(key_policy(), KMS_STAR, Request(ADMIN, ACCOUNT, "kms:Decrypt"))
        assert not allowed(key_policy(), KMS_STAR, Request(ADMIN, ACCOUNT, "kms:Decrypt", VIA_S3))
        assert not allowed(key_policy(), KMS_STAR, Request(ADMIN, ACCOUNT, "kms:GenerateDataKeyWithoutPlaintext", VIA_S3))

    def test_the_administrator_still_manages_the_key(self) -> None:
        for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:EnableKeyRotation", "kms:DescribeKey"):
            assert allowed(key_policy(), KMS_STAR, Request(ADMIN, ACCOUNT, action)), action

    def test_without_the_deny_statements_the_old_policy_let_them_decrypt(self) -> None:
        """What the issue found: root delegation alone lets kms:* in IAM decrypt directly."""
        old = key_policy()
        old["Statement"] = [s for s in old["Statement"] if s["Effect"] == "Allow"]
        assert allowed(old, KMS_STAR, Request(ADMIN, ACCOUNT, "kms:Decrypt"))
        assert allowed(old, KMS_STAR, Request(KUBEFLOW_ROLE, ACCOUNT, "kms:Decrypt"))

    def test_secrets_manager_keeps_working_when_it_holds_the_credentials(self) -> None:
        via_sm = {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
        with_sm = key_policy(via_services=["secretsmanager.eu-west-1.amazonaws.com"])
        assert not allowed(key_policy(), KMS_STAR, Request(KUBEFLOW_ROLE, ACCOUNT, "kms:Decrypt", via_sm))
        assert allowed(with_sm, KMS_STAR, Request(KUBEFLOW_ROLE, ACCOUNT, "kms:Decrypt", via_sm))
        r = run("dev", credentials="static", encryption="sse-kms", secretsManager=True)
        stored = json.loads(r.one("aws:kms/key:Key").inputs["policy"])
        deny = next(s for s in stored["Statement"] if s["Sid"] == policies.SID_KEY_DENY_OUTSIDE_SERVICES)
        assert deny["Condition"]["StringNotEquals"]["kms:ViaService"] == [
            "s3.us-east-1.amazonaws.com",
            "secretsmanager.us-east-1.amazonaws.com",
        ]


def _policy(r, name_part: str) -> dict:
    return json.loads(r.one("aws:s3/bucketPolicy:BucketPolicy", name_part).inputs["policy"])


def _sid(document: dict, sid: str) -> dict:
    return next(s for s in document["Statement"] if s.get("Sid") == sid)


PROD = {"encryption": "sse-kms", "accessLogging": True, "replicaRegion": "eu-central-1"}


@pytest.mark.parametrize(
    ("bucket", "endpoint"),
    [
        ("artifacts-policy", "vpce-0a1b2c3d4e5f67890"),
        ("kubeflow-access-logs-policy", "vpce-0a1b2c3d4e5f67890"),
        ("replica-bucket-policy", "vpce-0f9e8d7c6b5a43210"),  # the replica region's own endpoint
        ("replica-access-logs-policy", "vpce-0f9e8d7c6b5a43210"),  # the replica's log bucket, in its region
    ],
)
def test_network_perimeter_when_configured(bucket: str, endpoint: str) -> None:
    deployer = f"arn:aws:iam::{ACCOUNT}:role/pulumi-deploy"
    r = run(
        "prod",
        allowedVpcEndpointIds=["vpce-0a1b2c3d4e5f67890"],
        replicaAllowedVpcEndpointIds=["vpce-0f9e8d7c6b5a43210"],
        perimeterExemptPrincipalArns=[deployer],
        **PROD,
    )
    replication_role = r.one("aws:iam/role:Role", "replica-role").state["arn"]
    statement = _sid(_policy(r, bucket), policies.SID_DENY_OUTSIDE_NETWORK)
    assert statement["Effect"] == "Deny" and statement["Action"] == ["s3:*"]
    assert statement["Condition"] == {
        "StringNotEqualsIfExists": {"aws:SourceVpce": [endpoint]},
        # The deployer under any IAM path, and the replication role (S3 replicates as it, from no endpoint).
        "ArnNotLike": {"aws:PrincipalArn": [deployer, f"arn:aws:iam::{ACCOUNT}:role/*/pulumi-deploy", replication_role]},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"},
    }
    assert policies.SID_DENY_OUTSIDE_NETWORK not in {s["Sid"] for s in _policy(run("prod", **PROD), bucket)["Statement"]}


def test_replica_endpoints_are_required_with_both_perimeter_and_replica() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(
            "prod",
            config(allowedVpcEndpointIds=["vpce-0a1b2c3d4e5f67890"], perimeterExemptPrincipalArns=[ADMIN], replicaRegion="eu-central-1"),
        )
    assert str(raised.value).startswith(f"{NS}:replicaAllowedVpcEndpointIds: invalid value []")
    assert "allowed: VPC endpoint IDs in eu-central-1" in str(raised.value)


def test_replication_role_trust_and_policy_exactly() -> None:
    r = run("prod", **PROD)
    role = r.one("aws:iam/role:Role", "replica-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": ["sts:AssumeRole"],
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]
    source, replica = r.exports["bucketArn"], r.exports["replicaBucketArn"]
    document = json.loads(r.one("aws:iam/rolePolicy:RolePolicy", "replica-role-policy").inputs["policy"])
    assert document["Statement"] == [
        {
            "Sid": "ReplicationSourceBucket",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": [source],
        },
        {
            "Sid": "ReplicationSourceObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            "Resource": [f"{source}/*"],
        },
        {
            "Sid": "ReplicationDestination",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            "Resource": [f"{replica}/*"],
        },
        {
            "Sid": "ReplicationDecryptSource",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [r.exports["kmsKeyArn"]],
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        },
        {
            "Sid": "ReplicationEncryptReplica",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": [r.exports["replicaKmsKeyArn"]],
            "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-central-1.amazonaws.com"}},
        },
    ]


def test_every_replica_resource_goes_through_the_replica_regions_provider() -> None:
    r = run("prod", **PROD)
    provider = r.one("pulumi:providers:aws", "replica-region")
    assert provider.inputs["region"] == "eu-central-1"
    replica_component = r.one("kubeflow:storage:ArtifactReplica").urn
    in_region = [x for x in r.resources if x.custom and x.name.startswith(("kubeflow-replica-bucket", "kubeflow-replica-key"))]
    assert len(in_region) == 9  # bucket + 6 hardening resources, key + alias
    assert all(x.provider.startswith(provider.urn) for x in in_region), [x.name for x in in_region if not x.provider]
    assert r.exports["replicaKmsKeyArn"].startswith("arn:aws:kms:eu-central-1:")
    # The replication role and configuration are global / source-region: the default provider.
    assert not r.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig").provider
    assert r.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig").parent == replica_component


def test_replication_configuration_and_protection() -> None:
    r = run("prod", protect=True, replicationTimeControl=True, **PROD)
    configuration = r.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    (rule,) = configuration.inputs["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""} and rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"]["encryptionConfiguration"] == {"replicaKmsKeyId": r.exports["replicaKmsKeyArn"]}
    assert rule["destination"]["replicationTime"]["status"] == "Enabled"
    versionings = {x.urn for x in r.of_type("aws:s3/bucketVersioning:BucketVersioning") if "access-logs" not in x.name}
    assert versionings <= set(configuration.dependencies)
    replica_bucket = r.one("aws:s3/bucket:Bucket", "replica-bucket")
    assert replica_bucket.protect and replica_bucket.retain_on_delete and configuration.retain_on_delete
    assert r.one("aws:kms/key:Key", "replica-key").protect


def test_sse_s3_replicates_without_keys() -> None:
    r = run("dev", replicaRegion="eu-central-1")
    (rule,) = r.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig").inputs["rules"]
    assert "encryptionConfiguration" not in rule["destination"] and "sourceSelectionCriteria" not in rule
    assert not [x for x in r.of_type("aws:kms/key:Key")]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"replicaRegion": "us-east-1"},
            f"{NS}:replicaRegion: invalid value 'us-east-1' (the bucket is in us-east-1); allowed: a region other",
        ),
        (
            {"replicaRegion": "cn-north-1"},
            f"{NS}:replicaRegion: invalid value 'cn-north-1' (another partition); allowed: a region in partition aws",
        ),
        ({"replicaRegion": "Frankfurt"}, f"{NS}:replicaRegion: invalid value 'Frankfurt' (not an AWS region name)"),
        ({"replicaRegion": "eu-central-1", "versioning": False}, "allowed: only with versioning true"),
        ({"allowedVpcEndpointIds": ["vpce-0a1b2c3d4e5f67890"]}, f"{NS}:perimeterExemptPrincipalArns: invalid value []"),
        ({"allowedVpcEndpointIds": ["vpc-123"], "perimeterExemptPrincipalArns": [ADMIN]}, "'vpc-123' is not a VPC endpoint ID"),
        ({"organizationId": "org-123"}, f"{NS}:organizationId: invalid value 'org-123' (not an organization ID"),
        ({"trustedAccountIds": ["12345"]}, "'12345' is not a 12-digit account ID"),
        ({"perimeterExemptPrincipalArns": ["arn:aws:iam::123456789012:root"]}, "is not an IAM role or user ARN"),
    ],
)
def test_bad_perimeter_and_replication_input_is_one_line(keys: dict, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings("dev", config(**keys))
    assert message in str(raised.value) and "\n" not in str(raised.value) and "allowed:" in str(raised.value)
