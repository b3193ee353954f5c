"""The driver's gates, as the engine and the CLI really answer: buckets that cannot be named or
counted are refused whatever the flags, identities are not deleted without their flag, lock
conflicts are retried, and a failed verification says what failed. Doubles: tests/engine_double.py."""

from __future__ import annotations

import json

import pytest
from pulumi.automation import ConcurrentUpdateError

from automation.cli import main as cli
from tests.engine_double import LOCKED_DIY, LOCKED_SERVICE, locked
from tests.test_driver import BUCKET, BUCKET_URN, ROLE_URN, Harness, violation


@pytest.fixture
def world() -> Harness:
    return Harness()


def test_a_bucket_replacement_without_its_old_id_is_refused_whatever_the_flags(world: Harness) -> None:
    """Fail closed: the engine did not name the bucket, so nothing could be counted."""
    world.plans["dev"] = [("replace", BUCKET_URN, BUCKET, None)]
    with pytest.raises(cli.OperationError) as raised:
        world.driver().up("dev", allow_replace=True)
    assert f"refused: replace of bucket {BUCKET_URN}: the engine did not name the bucket" in str(raised.value)
    assert ("dev", "up") not in world.ops()


def test_a_bucket_replacement_without_live_access_is_refused(world: Harness) -> None:
    world.plans["dev"] = [("replace", BUCKET_URN, BUCKET, "kf-artifacts-dev-old")]
    driver = world.driver()
    driver.object_count = None
    with pytest.raises(cli.OperationError, match="its objects cannot be counted without live AWS access; no flag lifts this"):
        driver.up("dev", allow_replace=True)


def test_a_bucket_whose_objects_cannot_be_counted_is_refused(world: Harness) -> None:
    world.plans["dev"] = [("delete", BUCKET_URN, BUCKET, "kf-artifacts-dev-old")]
    driver = world.driver()

    def cannot(env: str, bucket: str) -> int:
        raise cli.OperationError(f"{bucket}: cannot count its objects (AccessDenied)")

    driver.object_count = cannot
    with pytest.raises(cli.OperationError, match="kf-artifacts-dev-old: cannot count its objects"):
        driver.up("dev", allow_replace=True)
    assert ("dev", "up") not in world.ops()


def test_a_failed_verification_says_what_failed_before_the_summary(world: Harness, capsys: pytest.CaptureFixture) -> None:
    from automation.live.verify import Verdict

    failures = ("KF-S3-10 kf-artifacts-dev-x: refuses uploads that rely on default encryption", "kubernetes: Secret x lacks keys")
    lines: list[str] = []
    driver = world.driver(verify=lambda env: Verdict(1, failures), lines=lines)
    assert cli.main(["up", "--env", "dev", "--json"], driver=driver) == 1
    assert [line.strip() for line in lines[-2:]] == [f"dev: verify: {f}" for f in failures]
    captured = capsys.readouterr()
    assert json.loads(captured.out)["verifyFailures"] == list(failures)
    assert captured.err.strip().endswith("failed: dev: updated, but live verification failed (exit 1)")


def test_replacing_a_non_empty_bucket_is_refused_whatever_the_flags(world: Harness) -> None:
    world.plans["dev"] = [("replace", BUCKET_URN, BUCKET, "kf-artifacts-dev-old")]
    world.objects["kf-artifacts-dev-old"] = 12
    with pytest.raises(cli.OperationError) as raised:
        world.driver().up("dev", allow_replace=True)
    message = str(raised.value)
    assert "refused: replace of bucket kf-artifacts-dev-old, which holds 12 object versions" in message
    assert "bucketName: kf-artifacts-dev-old" in message and "adoptBucket: kf-artifacts-dev-old" in message
    assert ("dev", "up") not in world.ops()
    world.objects["kf-artifacts-dev-old"] = 0  # empty: --allow-replace lets it go
    world.driver().up("dev", allow_replace=True)
    assert ("dev", "up") in world.ops()


def test_removing_a_profiles_identity_needs_its_own_flag(world: Harness) -> None:
    role_urn = ROLE_URN.replace("kubeflow-ml-pipeline", "team-a-default-editor")
    world.plans["dev"] = [("delete", role_urn, "aws:iam/role:Role", "kf-team-a-default-editor-123")]
    report = world.driver().preview("dev")
    assert report.as_dict()["identitiesRemoved"] == ["team-a-default-editor"]
    with pytest.raises(cli.OperationError, match="IAM roles of team-a-default-editor would be deleted .* --allow-profile-changes"):
        world.driver().up("dev", allow_replace=True)
    assert ("dev", "up") not in world.ops()
    world.driver().up("dev", allow_profile_changes=True)
    assert ("dev", "up") in world.ops()


def test_lock_conflicts_are_retried_then_named(world: Harness) -> None:
    world.failures[("dev", "preview")] = [locked(LOCKED_SERVICE), locked(LOCKED_DIY)]
    assert all(isinstance(e, ConcurrentUpdateError) for e in world.failures[("dev", "preview")])  # the SDK's own classification
    world.driver().preview("dev")
    assert world.ops().count(("dev", "preview")) == 3
    world.calls.clear()
    world.failures[("dev", "preview")] = locked()
    with pytest.raises(cli.OperationError, match="stack 'dev' is locked by another update after 5 attempts"):
        world.driver().preview("dev")
    assert world.ops().count(("dev", "preview")) == 5


def test_policy_violation_stops_the_update(world: Harness) -> None:
    """The CLI fails the preview after a mandatory violation's event (the double raises as it does):
    the driver names the violation from the events, not the CLI's bare `preview failed`."""
    world.policy[("dev", "preview")] = [violation()]
    with pytest.raises(cli.OperationError, match="preview dev: policy violations:\n  kf-s3-09: kubeflow-artifacts: not SSE-KMS"):
        world.driver().up("dev")
    assert ("dev", "up") not in world.ops()
