"""Read the deployed buckets and keys with boto3 into the rules' state (for `verify`).

Each setting is read on its own: a setting absent on the bucket is None (the rule judges it);
one the credentials may not read (AccessDenied) is NOT_READABLE, so verify reports "not readable"
for the controls that need it and goes on; one an emulator does not report is NOT_REPORTED."""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from automation.errors import OperationError
from components import names
from rules.state import ARTIFACTS, NOT_READABLE, NOT_REPORTED, REPLICA, BucketState, IdentityState, KeyState

# Absent configurations answer with these codes: the setting is off, not an error.
ABSENT = {
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
    "ReplicationConfigurationNotFoundError",
    "NoSuchEntity",
}
DENIED = {"AccessDenied", "AccessDeniedException", "403", "Forbidden"}
SAMPLE_SIZE = 100  # objects whose encryption verify reads (HeadObject each)


class DeniedError(Exception):
    """The credentials may not read this setting."""


def _lifecycle(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "status": rule.get("Status"),
            "abort_days": rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
            "noncurrent_days": rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
            "expiration_days": rule.get("Expiration", {}).get("Days"),
        }
        for rule in response.get("Rules", [])
    ]


def _replication(response: dict[str, Any]) -> dict[str, Any] | None:
    configuration = response.get("ReplicationConfiguration")
    if not configuration:
        return None
    rule = (configuration.get("Rules") or [{}])[0]
    destination = rule.get("Destination", {})
    return {
        "role": configuration.get("Role"),
        "status": rule.get("Status"),
        "destination": destination.get("Bucket"),
        "replica_kms_key_id": destination.get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID"),
        "delete_markers": rule.get("DeleteMarkerReplication", {}).get("Status"),
        "sse_kms_objects": rule.get("SourceSelectionCriteria", {}).get("SseKmsEncryptedObjects", {}).get("Status"),
    }


class LiveReader:
    """Reads S3 and KMS state into rule state; counts API calls and remembers what it could not read."""

    def __init__(self, session: boto3.session.Session, region: str) -> None:
        self.calls = 0
        self.session = session
        self.region = region
        self.unreadable: list[str] = []
        # A non-AWS endpoint (AWS_ENDPOINT_URL: an emulator) may not report every setting real S3 does.
        self.emulated = bool(os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))
        self.s3 = session.client("s3", region_name=region)
        self.kms = session.client("kms", region_name=region)
        for client in (self.s3, self.kms):
            client.meta.events.register("before-call", self._count)

    def _count(self, **_: Any) -> None:
        self.calls += 1

    def _get(self, call: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | None:
        """The response; None when the setting is absent; DeniedError when it may not be read."""
        try:
            return call(**kwargs)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ABSENT:
                return None
            if code in ("NoSuchBucket", "404"):
                raise OperationError(f"verify: bucket {kwargs.get('Bucket')} does not exist") from None
            if code in DENIED:
                self.unreadable.append(f"{error.operation_name} ({code})")
                raise DeniedError from None
            raise OperationError(f"verify: {error.operation_name} refused: {code} ({error.response['Error'].get('Message', '')})") from None

    def _read(
        self, subject: Any, fields: tuple[str, ...], parse: Callable[[dict[str, Any]], tuple[Any, ...]], call: Callable, **kw: Any
    ) -> None:
        try:
            response = self._get(call, **kw)
        except DeniedError:
            for name in fields:
                setattr(subject, name, NOT_READABLE)
            return
        values = parse(response) if response is not None else (None,) * len(fields)
        for name, value in zip(fields, values, strict=True):
            setattr(subject, name, value)

    def bucket(self, name: str, role: str) -> BucketState:
        arn = f"arn:{names.partition_of(self.region)}:s3:::{name}"
        s3, state = self.s3, BucketState(name=name, role=role, arn=arn, region=self.region)
        flags = lambda r: ({k[0].lower() + k[1:]: bool(v) for k, v in r["PublicAccessBlockConfiguration"].items()},)  # noqa: E731
        self._read(state, ("public_access_block",), flags, s3.get_public_access_block, Bucket=name)
        ownership = lambda r: (r["OwnershipControls"]["Rules"][0]["ObjectOwnership"],)  # noqa: E731
        self._read(state, ("ownership",), ownership, s3.get_bucket_ownership_controls, Bucket=name)

        def encryption(response: dict[str, Any]) -> tuple[Any, ...]:
            rule = response["ServerSideEncryptionConfiguration"]["Rules"][0]
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            blocked = (rule.get("BlockedEncryptionTypes") or {}).get("EncryptionType")
            return default.get("SSEAlgorithm"), default.get("KMSMasterKeyID"), rule.get("BucketKeyEnabled"), blocked

        fields = ("sse_algorithm", "kms_key_id", "bucket_key_enabled", "blocked_encryption_types")
        self._read(state, fields, encryption, s3.get_bucket_encryption, Bucket=name)
        self._read(state, ("policy",), lambda r: (json.loads(r["Policy"]),), s3.get_bucket_policy, Bucket=name)
        self._read(state, ("versioning",), lambda r: (r.get("Status"),), s3.get_bucket_versioning, Bucket=name)
        self._read(state, ("lifecycle_rules",), lambda r: (_lifecycle(r),), s3.get_bucket_lifecycle_configuration, Bucket=name)
        if role in (ARTIFACTS, REPLICA):
            self._artifact_settings(state)
        return state

    def _artifact_settings(self, state: BucketState) -> None:
        s3, name = self.s3, state.name
        self._read(state, ("replication",), lambda r: (_replication(r),), s3.get_bucket_replication, Bucket=name)
        if isinstance(state.replication, dict) and self.emulated:
            # moto stores but never returns DeleteMarkerReplication (always "Disabled") and
            # SourceSelectionCriteria: there, their absence proves nothing.
            state.replication.update(delete_markers=NOT_REPORTED, sse_kms_objects=NOT_REPORTED)
        target = lambda r: (r.get("LoggingEnabled", {}).get("TargetBucket"),)  # noqa: E731
        self._read(state, ("logging_target",), target, s3.get_bucket_logging, Bucket=name)
        events = lambda r: ("EventBridgeConfiguration" in r,)  # noqa: E731
        self._read(state, ("eventbridge",), events, s3.get_bucket_notification_configuration, Bucket=name)
        if state.eventbridge is False and self.emulated:
            # moto stores EventBridgeConfiguration but never returns it: absence proves nothing there.
            state.eventbridge = NOT_REPORTED

    def bucket_region(self, name: str) -> str:
        """GetBucketLocation (None is us-east-1); the reader's own region when it may not be read."""
        try:
            return (self._get(self.s3.get_bucket_location, Bucket=name) or {}).get("LocationConstraint") or "us-east-1"
        except DeniedError:
            return self.region

    def sample_encryption(self, bucket: str, limit: int = SAMPLE_SIZE) -> Counter[tuple[str, str]] | str:
        """(algorithm, key ARN) of the newest objects among the first listed page: objects written
        before a key or algorithm change keep their old encryption, which the bucket default hides.
        A string when the objects may not be read."""
        try:
            page = self._get(self.s3.list_objects_v2, Bucket=bucket, MaxKeys=1000) or {}
            newest = sorted(page.get("Contents", []), key=lambda o: o["LastModified"], reverse=True)[:limit]
            found: Counter[tuple[str, str]] = Counter()
            for obj in newest:
                head = self._get(self.s3.head_object, Bucket=bucket, Key=obj["Key"]) or {}
                found[(head.get("ServerSideEncryption") or "none", head.get("SSEKMSKeyId") or "")] += 1
            return found
        except DeniedError:
            return f"not readable: {self.unreadable[-1]}"

    def key(self, key_id: str) -> KeyState:
        state = KeyState(name=key_id)

        def metadata(response: dict[str, Any]) -> tuple[Any, ...]:
            found = response["KeyMetadata"]
            state.name = state.arn = found["Arn"]
            return found.get("Enabled"), found.get("KeyState")

        self._read(state, ("enabled", "key_state"), metadata, self.kms.describe_key, KeyId=key_id)
        rotation = lambda r: (r.get("KeyRotationEnabled"), r.get("RotationPeriodInDays"))  # noqa: E731
        self._read(state, ("rotation_enabled", "rotation_days"), rotation, self.kms.get_key_rotation_status, KeyId=key_id)
        policy = lambda r: (json.loads(r["Policy"]) if r.get("Policy") else None,)  # noqa: E731
        self._read(state, ("policy",), policy, self.kms.get_key_policy, KeyId=key_id, PolicyName="default")
        state.bypass_lockout_check = False
        return state

    @functools.cached_property
    def iam(self) -> Any:
        """One IAM client for every role read (IAM is global; its calls counted like the rest)."""
        client = self.session.client("iam", region_name=self.region)
        client.meta.events.register("before-call", self._count)
        return client

    def identity(self, role_arn: str) -> IdentityState:
        """A role with its trust policy and every policy IAM weighs for it: inline and attached."""
        iam = self.iam
        name = role_arn.rsplit("/", 1)[-1]
        state = IdentityState(name=role_arn, arn=role_arn)

        def documents() -> dict[str, Any]:
            found = []
            for policy_name in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
                found.append(_document(iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]))
            for attached in iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", []):
                version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
                found.append(
                    _document(iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"])
                )
            return {"documents": found}

        self._read(state, ("trust_policy",), lambda r: (_document(r["Role"]["AssumeRolePolicyDocument"]),), iam.get_role, RoleName=name)
        if state.trust_policy is None:  # NoSuchEntity: the role is gone
            raise OperationError(f"verify: role {role_arn} does not exist")
        self._read(state, ("policies",), lambda r: (r["documents"],), documents)
        return state


def access_key_ages(session: boto3.session.Session, user: str, region: str, now: Any = None) -> list[tuple[str, int]] | None:
    """(access key id, age in days) of the user's active keys; None when the user does not exist."""
    import datetime

    iam = session.client("iam", region_name=region)
    try:
        keys = iam.list_access_keys(UserName=user).get("AccessKeyMetadata", [])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise OperationError(f"verify: ListAccessKeys refused: {error.response['Error'].get('Code')}") from None
    now = now or datetime.datetime.now(datetime.UTC)
    return [(k["AccessKeyId"], (now - k["CreateDate"]).days) for k in keys if k.get("Status") == "Active"]


def _document(value: Any) -> Any:
    """IAM returns documents URL-encoded JSON text (boto3 decodes most of them to dicts)."""
    from urllib.parse import unquote

    return json.loads(unquote(value)) if isinstance(value, str) else value
