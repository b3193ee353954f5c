"""`verify`: read the deployed bucket and key with boto3 and judge them by the same rules.

Standard AWS credential chain; boto3 honours AWS_ENDPOINT_URL (moto in the tests)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, NoCredentialsError

from automation.environments import environment
from automation.errors import OperationError, UsageError
from automation.live.kube import check_kubernetes
from automation.live.reader import LiveReader, access_key_ages
from automation.live.session import session_for
from automation.stackfiles import expectations_for, settings_for
from components import names
from components.settings import Settings
from rules import Finding, evaluate, exit_code
from rules.state import ACCESS_LOGS, ARTIFACTS, REPLICA, BucketState, Snapshot


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


def _bucket_from_outputs(outputs: dict[str, Any]) -> str:
    if "bucketName" not in outputs:
        raise UsageError("--bucket: the stack has no bucketName output (not deployed?); pass --bucket NAME")
    return str(outputs["bucketName"])


# Reads a stack's outputs (the CLI hands in the Automation API's: automation.driver.engine):
# `verify` itself never drives the engine.
OutputsReader = Callable[[str, str], dict[str, Any]]


def _outputs(env: str, required: bool, reader: OutputsReader | None) -> dict[str, Any]:
    """The stack's outputs; with `--bucket` they are optional (only the roles come from them)."""
    if reader is None:
        if required:
            raise UsageError("--bucket: no stack outputs can be read here; allowed: --bucket NAME")
        return {}
    try:
        return reader(env, "--bucket")
    except UsageError:
        if required:
            raise
        return {}


def stack_role_arns(outputs: dict[str, Any]) -> list[str]:
    """The Kubeflow roles the stack exported: the API server's, the UI's, each profile's."""
    found = [outputs.get("pipelineRoleArn"), outputs.get("uiRoleArn"), *(outputs.get("profileRoleArns") or {}).values()]
    return [str(arn) for arn in found if arn]


def run_verify(env: str, bucket: str | None, say: Callable[[str], None], outputs: OutputsReader | None = None) -> VerifyReport:
    settings = settings_for(env)
    expectations = expectations_for(settings, environment(env))
    stack = _outputs(env, bucket is None, outputs)
    name = bucket or _bucket_from_outputs(stack)
    roles = stack_role_arns(stack)
    try:
        reader = LiveReader(session_for(env), settings.region)
        artifacts = reader.bucket(name, ARTIFACTS)
        snapshot = Snapshot(buckets=[artifacts])
        if isinstance(artifacts.logging_target, str) and artifacts.logging_target:
            snapshot.buckets.append(reader.bucket(artifacts.logging_target, ACCESS_LOGS))
        if artifacts.sse_algorithm == "aws:kms" and isinstance(artifacts.kms_key_id, str):
            snapshot.keys.append(reader.key(artifacts.kms_key_id))
        destination = (artifacts.replication or {}).get("destination") if isinstance(artifacts.replication, dict) else None
        if destination:
            snapshot.buckets.append(_replica(reader, str(destination).rsplit(":", 1)[-1], snapshot))
        replication_role = (artifacts.replication or {}).get("role") if isinstance(artifacts.replication, dict) else None
        for role_arn in dict.fromkeys([*roles, *([replication_role] if replication_role else [])]):
            snapshot.identities.append(reader.identity(role_arn))
        sampled = reader.sample_encryption(name)
        key_notes, key_problems = _static_key_age(settings, reader)
    except NoCredentialsError:
        raise UsageError("AWS credentials: none found; allowed: the standard chain (AWS_PROFILE, env vars, SSO, instance role)") from None
    except BotoCoreError as error:
        raise OperationError(f"verify: {error}") from None
    findings = evaluate(snapshot, expectations, _live_controls())
    kube = check_kubernetes(settings, name, expectations)
    findings += kube.findings
    object_notes, object_problems = judge_sample(sampled, artifacts, settings.config.previous_kms_key_arns)
    identities = f"IAM identities: {len(snapshot.identities)} read live and judged by the request matrix (KF-REQ-01)"
    if not roles:
        identities += "; the stack's Kubeflow roles are unknown without its outputs (run with the stack, not only --bucket)"
    notes = [identities, *object_notes, *key_notes, *kube.notes]
    notes += [f"not readable with these credentials: {call}" for call in dict.fromkeys(reader.unreadable)]
    return VerifyReport(env, name, findings, reader.calls, notes, [*object_problems, *key_problems, *kube.problems])


ROTATION = "rotate it (docs/operations.md, rotating the static key)"


def _static_key_age(settings: Settings, reader: LiveReader, now: Any = None) -> tuple[list[str], list[str]]:
    """Static mode with the user the program creates: how old its access key is, failing past
    staticKeyMaxAgeDays. Keys you supply are yours to rotate: said, not read."""
    c = settings.config
    if c.credentials != "static":
        return [], []
    if settings.static_keys_supplied:
        return ["static credentials: supplied keys; their age is not read (rotate them yourself)"], []
    user = names.static_user_name(settings.stack)
    ages = access_key_ages(reader.session, user, reader.region, now)
    if ages is None:
        return [f"static credentials: user {user} not found (created before this release under another name?)"], []
    notes = [f"static credentials: {user} key {key} is {days} days old (limit {c.static_key_max_age_days})" for key, days in ages]
    problems = [
        f"static access key {key} of {user} is {days} days old, over staticKeyMaxAgeDays {c.static_key_max_age_days}: {ROTATION}"
        for key, days in ages
        if days > c.static_key_max_age_days
    ]
    return notes, problems


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
    """The replica, read in its own region, its key too."""
    reader = LiveReader(source.session, source.bucket_region(name))
    replica = reader.bucket(name, REPLICA)
    if isinstance(replica.logging_target, str) and replica.logging_target:  # its own log bucket, in its region
        snapshot.buckets.append(reader.bucket(replica.logging_target, ACCESS_LOGS))
    if replica.sse_algorithm == "aws:kms" and isinstance(replica.kms_key_id, str):
        snapshot.keys.append(reader.key(replica.kms_key_id))
    source.calls += reader.calls
    source.unreadable += reader.unreadable
    return replica


def _live_controls() -> tuple[Any, ...]:
    from rules import CONTROLS

    return tuple(c for c in CONTROLS if c.scope != "wiring")  # wiring: judged by kube_verify


@dataclass(frozen=True)
class Verdict:
    """For up/promote/pipeline: verify after an update, as an exit code and the lines that failed."""

    exit_code: int
    failures: tuple[str, ...] = ()


def verify_after_update(env: str, outputs: OutputsReader) -> Verdict:
    report = run_verify(env, None, lambda _: None, outputs)
    failed = [f"{f.control} {f.resource}: {f.detail}" for f in report.findings if f.verdict == "fail"]
    return Verdict(report.exit_code, tuple(failed + report.problems))
