"""`verify`: read the deployed bucket and key with boto3 and judge them by the same rules.

Standard AWS credential chain; boto3 honours AWS_ENDPOINT_URL (moto in the tests)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from rules import Finding, evaluate, exit_code
from rules.state import ACCESS_LOGS, ARTIFACTS, NOT_REPORTED, REPLICA, BucketState, KeyState, Snapshot

from .environments import environment
from .errors import OperationError, UsageError
from .kube_verify import check_kubernetes
from .stackfiles import expectations_for, settings_for

SAMPLE_SIZE = 100  # objects whose encryption verify reads (HeadObject each)

# Absent configurations answer with these codes: the setting is off, not an error.
ABSENT = {
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
    "ReplicationConfigurationNotFoundError",
}


@dataclass
class VerifyReport:
    env: str
    bucket: str
    findings: list[Finding]
    api_calls: int
    notes: list[str] = field(default_factory=list)
    # Beyond the controls: Kubernetes objects missing or unreadable, objects no role can decrypt.
    # One line each; any of them fails verify.
    problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return exit_code(self.findings) or (1 if self.problems else 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": "verify",
            "env": self.env,
            "bucket": self.bucket,
            "apiCalls": self.api_calls,
            "controls": [f.as_dict() for f in self.findings],
            "notes": self.notes,
            "problems": self.problems,
            "exitCode": self.exit_code,
        }


class LiveReader:
    """Reads S3 and KMS state into rule state; counts API calls."""

    def __init__(self, session: boto3.session.Session, region: str) -> None:
        self.calls = 0
        self.session = session
        # A non-AWS endpoint (AWS_ENDPOINT_URL: an emulator) may not report every setting real S3 does.
        self.emulated = bool(os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))
        self.s3 = session.client("s3", region_name=region)
        self.kms = session.client("kms", region_name=region)
        for client in (self.s3, self.kms):
            client.meta.events.register("before-call", self._count)

    def _count(self, **_: Any) -> None:
        self.calls += 1

    def _get(self, call: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | None:
        try:
            return call(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ABSENT:
                return None
            if code in ("NoSuchBucket", "404"):
                raise OperationError(f"verify: bucket {kwargs.get('Bucket')} does not exist") from None
            operation = error.operation_name
            raise OperationError(f"verify: {operation} refused: {code} ({error.response['Error'].get('Message', '')})") from None

    def bucket(self, name: str, role: str) -> BucketState:
        s3 = self.s3
        state = BucketState(name=name, role=role)
        pab = self._get(s3.get_public_access_block, Bucket=name)
        if pab is not None:
            flags = pab["PublicAccessBlockConfiguration"]
            state.public_access_block = {key[0].lower() + key[1:]: bool(value) for key, value in flags.items()}
        ownership = self._get(s3.get_bucket_ownership_controls, Bucket=name)
        state.ownership = ownership["OwnershipControls"]["Rules"][0]["ObjectOwnership"] if ownership else None
        encryption = self._get(s3.get_bucket_encryption, Bucket=name)
        if encryption:
            rule = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            state.sse_algorithm = default.get("SSEAlgorithm")
            state.kms_key_id = default.get("KMSMasterKeyID")
            state.bucket_key_enabled = rule.get("BucketKeyEnabled")
            state.blocked_encryption_types = (rule.get("BlockedEncryptionTypes") or {}).get("EncryptionType")
        policy = self._get(s3.get_bucket_policy, Bucket=name)
        state.policy = json.loads(policy["Policy"]) if policy else None
        state.versioning = (self._get(s3.get_bucket_versioning, Bucket=name) or {}).get("Status")
        lifecycle = self._get(s3.get_bucket_lifecycle_configuration, Bucket=name)
        state.lifecycle_rules = (
            [
                {
                    "status": rule.get("Status"),
                    "abort_days": rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
                    "noncurrent_days": rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
                    "expiration_days": rule.get("Expiration", {}).get("Days"),
                }
                for rule in (lifecycle or {}).get("Rules", [])
            ]
            if lifecycle
            else None
        )
        if role == ARTIFACTS:
            replication = (self._get(s3.get_bucket_replication, Bucket=name) or {}).get("ReplicationConfiguration")
            rule = ((replication or {}).get("Rules") or [{}])[0]
            state.replication = (
                {
                    "status": rule.get("Status"),
                    "destination": rule.get("Destination", {}).get("Bucket"),
                    "replica_kms_key_id": rule.get("Destination", {}).get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID"),
                    "delete_markers": rule.get("DeleteMarkerReplication", {}).get("Status"),
                    "sse_kms_objects": rule.get("SourceSelectionCriteria", {}).get("SseKmsEncryptedObjects", {}).get("Status"),
                }
                if replication
                else None
            )
            if state.replication and self.emulated:
                # moto stores but never returns DeleteMarkerReplication (always "Disabled") and
                # SourceSelectionCriteria: there, their absence proves nothing.
                state.replication.update(delete_markers=NOT_REPORTED, sse_kms_objects=NOT_REPORTED)
            logging = self._get(s3.get_bucket_logging, Bucket=name) or {}
            state.logging_target = logging.get("LoggingEnabled", {}).get("TargetBucket")
            notifications = self._get(s3.get_bucket_notification_configuration, Bucket=name) or {}
            state.eventbridge = "EventBridgeConfiguration" in notifications
            if not state.eventbridge and self.emulated:
                # moto stores EventBridgeConfiguration but never returns it: absence proves nothing there.
                state.eventbridge = NOT_REPORTED
        return state

    def sample_encryption(self, bucket: str, limit: int = SAMPLE_SIZE) -> Counter[tuple[str, str]]:
        """(algorithm, key ARN) of the newest objects among the first listed page: objects written
        before a key or algorithm change keep their old encryption, which the bucket default hides."""
        page = self._get(self.s3.list_objects_v2, Bucket=bucket, MaxKeys=1000) or {}
        newest = sorted(page.get("Contents", []), key=lambda o: o["LastModified"], reverse=True)[:limit]
        found: Counter[tuple[str, str]] = Counter()
        for obj in newest:
            head = self._get(self.s3.head_object, Bucket=bucket, Key=obj["Key"]) or {}
            found[(head.get("ServerSideEncryption") or "none", head.get("SSEKMSKeyId") or "")] += 1
        return found

    def key(self, key_id: str) -> KeyState:
        metadata = self._get(self.kms.describe_key, KeyId=key_id)["KeyMetadata"]  # type: ignore[index]
        rotation = self._get(self.kms.get_key_rotation_status, KeyId=key_id) or {}
        policy = self._get(self.kms.get_key_policy, KeyId=key_id, PolicyName="default") or {}
        return KeyState(
            name=metadata["Arn"],
            enabled=metadata.get("Enabled"),
            key_state=metadata.get("KeyState"),
            rotation_enabled=rotation.get("KeyRotationEnabled"),
            rotation_days=rotation.get("RotationPeriodInDays"),
            policy=json.loads(policy["Policy"]) if policy.get("Policy") else None,
            bypass_lockout_check=False,
        )


def _bucket_from_outputs(env: str) -> str:
    from .engine import stack_outputs

    outputs = stack_outputs(env, "--bucket")
    if "bucketName" not in outputs:
        raise UsageError(f"--bucket: stack {env} has no bucketName output (not deployed?); pass --bucket NAME")
    return str(outputs["bucketName"])


def run_verify(env: str, bucket: str | None, say: Callable[[str], None]) -> VerifyReport:
    settings = settings_for(env)
    expectations = expectations_for(settings, environment(env))
    name = bucket or _bucket_from_outputs(env)
    try:
        reader = LiveReader(boto3.session.Session(), settings.region)
        artifacts = reader.bucket(name, ARTIFACTS)
        snapshot = Snapshot(buckets=[artifacts])
        if isinstance(artifacts.logging_target, str) and artifacts.logging_target:
            snapshot.buckets.append(reader.bucket(artifacts.logging_target, ACCESS_LOGS))
        if artifacts.sse_algorithm == "aws:kms" and isinstance(artifacts.kms_key_id, str):
            snapshot.keys.append(reader.key(artifacts.kms_key_id))
        destination = (artifacts.replication or {}).get("destination") if isinstance(artifacts.replication, dict) else None
        if destination:
            snapshot.buckets.append(_replica(reader, str(destination).rsplit(":", 1)[-1], snapshot))
        try:
            sampled: Counter[tuple[str, str]] | str = reader.sample_encryption(name)
        except OperationError as error:  # reading objects may be denied where reading settings is not
            sampled = str(error).removeprefix("verify: ")
    except NoCredentialsError:
        raise UsageError("AWS credentials: none found; allowed: the standard chain (AWS_PROFILE, env vars, SSO, instance role)") from None
    except BotoCoreError as error:
        raise OperationError(f"verify: {error}") from None
    findings = evaluate(snapshot, expectations, _live_controls())
    kube = check_kubernetes(settings, name, expectations)
    findings += kube.findings
    object_notes, object_problems = judge_sample(sampled, artifacts, settings.config.previous_kms_key_arns)
    notes = ["IAM identities: judged by `check` and the policy pack; not read live", *object_notes, *kube.notes]
    return VerifyReport(env, name, findings, reader.calls, notes, [*object_problems, *kube.problems])


def judge_sample(
    sampled: Counter[tuple[str, str]] | str, bucket: BucketState, previous_keys: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """Objects under another algorithm or key than the bucket default: under a previous key (still
    readable: roles keep Decrypt on it) they are a note; under any other key, a problem."""
    if isinstance(sampled, str):
        return [f"objects: not sampled ({sampled})"], []
    default = (str(bucket.sse_algorithm), str(bucket.kms_key_id or "") if bucket.sse_algorithm == "aws:kms" else "")
    total = sum(sampled.values())
    other = {k: n for k, n in sampled.items() if k != default}
    notes = [f"objects: {total} newest sampled, {sum(other.values())} under another key or algorithm than the bucket default"]
    problems = []
    for (algorithm, key), count in sorted(other.items()):
        where = f"{algorithm} {key}".strip()
        if key and key in previous_keys:
            notes.append(f"objects: {count} under previous key {key} (readable; re-encrypt before dropping it)")
        elif algorithm == "AES256" or (algorithm == "aws:kms" and not key):
            notes.append(f"objects: {count} under {where} (readable with S3 permissions alone)")
        else:
            problems.append(f"objects: {count} under {where}, which no Kubeflow role may decrypt (add it to previousKmsKeyArns)")
    return notes, problems


def _replica(source: LiveReader, name: str, snapshot: Snapshot) -> BucketState:
    """The replica, read in its own region (GetBucketLocation: None is us-east-1), its key too."""
    location = (source._get(source.s3.get_bucket_location, Bucket=name) or {}).get("LocationConstraint") or "us-east-1"
    reader = LiveReader(source.session, location)
    replica = reader.bucket(name, REPLICA)
    if replica.sse_algorithm == "aws:kms" and isinstance(replica.kms_key_id, str):
        snapshot.keys.append(reader.key(replica.kms_key_id))
    source.calls += reader.calls
    return replica


def _live_controls() -> tuple[Any, ...]:
    from rules import CONTROLS

    return tuple(c for c in CONTROLS if c.scope not in ("identity", "wiring"))  # wiring: judged by kube_verify


def verify_exit_code(env: str) -> int:
    """For promote/pipeline: verify after an update, as an exit code."""
    return run_verify(env, None, lambda _: None).exit_code


COUNT_CAP = 1000  # one ListObjectVersions page: enough to say "holds objects" without reading millions


def object_version_count(bucket: str) -> int:
    """Object versions and delete markers, up to COUNT_CAP; 0 for a bucket that does not exist."""
    try:
        page = boto3.client("s3").list_object_versions(Bucket=bucket, MaxKeys=COUNT_CAP)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0
        raise OperationError(f"{bucket}: cannot count its objects ({error.response['Error'].get('Code')})") from None
    return min(COUNT_CAP, len(page.get("Versions", [])) + len(page.get("DeleteMarkers", [])))


def empty_bucket(bucket: str) -> None:
    boto3.resource("s3").Bucket(bucket).object_versions.delete()
