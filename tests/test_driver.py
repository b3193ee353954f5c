"""The driver at the Automation API boundary: a Stack double answers as the CLI would."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pulumi.automation import CommandError, CommandResult, ConcurrentUpdateError, OutputValue
from pulumi.automation.events import EngineEvent, OpType, PolicyEvent, ResourcePreEvent, StepEventMetadata
from tenacity import wait_none

from automation import cli
from automation.operations import Driver, reduce_error

BUCKET_URN = (
    "urn:pulumi:dev::kubeflow-artifact-store::"
    "kubeflow:storage:KubeflowArtifactStore$kubeflow:storage:HardenedBucket$"
    "aws:s3/bucket:Bucket::kubeflow-artifacts"
)
ROLE_URN = "urn:pulumi:dev::kubeflow-artifact-store::aws:iam/role:Role::kubeflow-access-kubeflow-ml-pipeline"


def step(op: OpType, urn: str, type_: str) -> EngineEvent:
    return EngineEvent(1, 0, resource_pre_event=ResourcePreEvent(StepEventMetadata(op, urn, type_, "provider")))


def violation() -> EngineEvent:
    return EngineEvent(
        2,
        0,
        policy_event=PolicyEvent(
            "kubeflow-artifacts: not SSE-KMS [S3.17]", "never", "kf-s3-09", "kubeflow-artifact-store-security", "0.0.1", "", "mandatory"
        ),
    )


class Result:
    def __init__(self, summary: dict[str, int]) -> None:
        self.change_summary = {OpType(k): v for k, v in summary.items()}
        self.summary = type("S", (), {"resource_changes": summary})()


class FakeStack:
    """Answers preview/up/refresh/destroy/outputs like pulumi.automation.Stack; records calls."""

    def __init__(self, name: str, world: World) -> None:
        self.name, self.world = name, world

    def _do(self, operation: str, kwargs: dict[str, Any]) -> Result:
        self.world.calls.append((self.name, operation, kwargs))
        failure = self.world.failures.get((self.name, operation))
        if failure is not None:
            if isinstance(failure, list):
                if failure:
                    raise failure.pop(0)
            else:
                raise failure
        for event in self.world.events.get((self.name, operation), []):
            kwargs.get("on_event", lambda e: None)(event)
        time.sleep(self.world.delay)
        return Result(self.world.summary)

    def preview(self, **kwargs: Any) -> Result:
        return self._do("preview", kwargs)

    def up(self, **kwargs: Any) -> Result:
        return self._do("up", kwargs)

    def refresh(self, **kwargs: Any) -> Result:
        return self._do("refresh", kwargs)

    def destroy(self, **kwargs: Any) -> Result:
        return self._do("destroy", kwargs)

    def outputs(self) -> dict[str, OutputValue]:
        self.world.calls.append((self.name, "outputs", {}))
        return {"bucketName": OutputValue("kf-artifacts-dev-x", False), "credentialsSecretArn": OutputValue("arn:secret", True)}


class World:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self.events: dict[tuple[str, str], list[EngineEvent]] = {}
        self.failures: dict[tuple[str, str], Any] = {}
        self.summary = {"create": 3, "same": 10}
        self.delay = 0.0

    def driver(self, verify: Any = None, lines: list[str] | None = None) -> Driver:
        say = lines.append if lines is not None else lambda _: None
        return Driver(lambda env: FakeStack(env, self), say, verify=verify, lock_wait=wait_none())

    def ops(self, env: str | None = None) -> list[tuple[str, str]]:
        return [(e, op) for e, op, _ in self.calls if env is None or e == env]


@pytest.fixture
def world() -> World:
    return World()


def test_preview_passes_the_policy_pack_with_env_expectations(world: World) -> None:
    world.events[("prod", "preview")] = [
        step(OpType.REPLACE, BUCKET_URN, "aws:s3/bucket:Bucket"),
        step(OpType.DELETE, ROLE_URN, "aws:iam/role:Role"),
    ]
    report = world.driver().preview("prod")
    _, _, kwargs = world.calls[0]
    assert kwargs["policy_packs"][0].endswith("/policy")
    config = json.loads(Path(kwargs["policy_pack_configs"][0]).read_text())
    assert config["kf-s3-09"] == {"requireKms": True, "requireLogging": True, "requireNotifications": True, "requireVersioning": True}
    assert report.as_dict()["replace"] == ["kubeflow-artifacts"] and report.as_dict()["delete"] == ["kubeflow-access-kubeflow-ml-pipeline"]


def test_replacing_the_bucket_stops_before_up(world: World) -> None:
    world.events[("dev", "preview")] = [step(OpType.REPLACE, BUCKET_URN, "aws:s3/bucket:Bucket")]
    with pytest.raises(cli.OperationError, match="would lose data; rerun with --allow-replace"):
        world.driver().up("dev")
    assert world.ops() == [("dev", "preview")]
    world.calls.clear()
    world.driver().up("dev", allow_replace=True)
    assert world.ops() == [("dev", "preview"), ("dev", "up")]


def test_non_guarded_replacement_is_allowed(world: World) -> None:
    world.events[("dev", "preview")] = [step(OpType.REPLACE, ROLE_URN, "aws:iam/role:Role")]
    world.driver().up("dev")
    assert ("dev", "up") in world.ops()


def test_policy_violation_stops_the_update(world: World) -> None:
    world.events[("dev", "preview")] = [violation()]
    world.failures[("dev", "preview")] = None
    with pytest.raises(cli.OperationError, match="stopped by policy: kf-s3-09"):
        world.driver().up("dev")
    assert ("dev", "up") not in world.ops()


def test_protected_env_needs_yes_and_exit_2_before_anything(world: World, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["up", "--env", "prod"], driver=world.driver()) == 2
    assert "--yes: required to update protected environment(s) prod" in capsys.readouterr().err
    assert cli.main(["pipeline"], driver=world.driver()) == 2
    assert cli.main(["promote", "--to", "prod"], driver=world.driver()) == 2
    assert world.calls == []


def test_destroy_refused_for_prod_and_while_bucket_holds_objects(world: World) -> None:
    driver = world.driver()
    with pytest.raises(cli.UsageError, match="destroy is refused for protected environment prod"):
        driver.destroy("prod", True, lambda b: 0, lambda b: None)
    emptied: list[str] = []
    with pytest.raises(cli.OperationError, match="still holds 4 object versions; rerun with --force-empty"):
        driver.destroy("dev", False, lambda b: 4, emptied.append)
    assert ("dev", "destroy") not in world.ops()
    driver.destroy("dev", True, lambda b: 4, emptied.append)
    assert emptied == ["kf-artifacts-dev-x"] and ("dev", "destroy") in world.ops()


def test_pipeline_order_and_stop_at_first_failure(world: World) -> None:
    world.failures[("staging", "up")] = CommandError(CommandResult("", "error: creating S3 bucket: AccessDenied\nnoise", 255))
    with pytest.raises(cli.OperationError) as raised:
        world.driver().pipeline(yes=True)
    assert [op for op in world.ops() if op[1] == "up"] == [("dev", "up"), ("staging", "up")]
    assert not world.ops("prod")
    assert "pipeline stopped at staging; not updated: prod" in str(raised.value)
    assert "AccessDenied" in str(raised.value) and "noise" not in str(raised.value)


def test_pipeline_through_and_verify_after_each_update(world: World) -> None:
    verified: list[str] = []
    world.driver(verify=lambda env: verified.append(env) or 0).pipeline(through_env="staging")
    assert verified == ["dev", "staging"] and not world.ops("prod")


def test_failed_verification_stops_the_pipeline(world: World) -> None:
    with pytest.raises(cli.OperationError, match="live verification failed"):
        world.driver(verify=lambda env: 1).pipeline(yes=True)
    assert not world.ops("staging")


def test_promote_refuses_a_drifted_source(world: World) -> None:
    world.events[("dev", "refresh")] = [step(OpType.UPDATE, BUCKET_URN, "aws:s3/bucket:Bucket")]
    with pytest.raises(cli.OperationError, match="source dev is not current"):
        world.driver().promote("staging")
    assert world.ops() == [("dev", "refresh")]
    assert world.calls[0][2]["preview_only"] is True


def test_promote_updates_target_when_source_is_current(world: World) -> None:
    world.driver().promote("staging")
    assert world.ops() == [("dev", "refresh"), ("staging", "preview"), ("staging", "up")]


def test_lock_conflicts_are_retried_then_named(world: World) -> None:
    locked = CommandError(CommandResult("", "error: the stack is currently locked by 1 lock(s)", 255))
    world.failures[("dev", "preview")] = [ConcurrentUpdateError(CommandResult("", str(locked), 255)) for _ in range(2)]
    world.driver().preview("dev")
    assert world.ops().count(("dev", "preview")) == 3
    world.calls.clear()
    world.failures[("dev", "preview")] = ConcurrentUpdateError(CommandResult("", "locked", 255))
    with pytest.raises(cli.OperationError, match="stack 'dev' is locked by another update after 5 attempts"):
        world.driver().preview("dev")
    assert world.ops().count(("dev", "preview")) == 5


def test_outputs_mask_secrets(world: World, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["outputs", "--env", "dev", "--json"], driver=world.driver()) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["result"] == {"bucketName": "kf-artifacts-dev-x", "credentialsSecretArn": "[secret]"}
    assert cli.main(["outputs", "--env", "dev", "--show-secrets"], driver=world.driver()) == 0
    assert "arn:secret" in capsys.readouterr().out


def test_refresh_drift_exit_1(world: World, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["refresh", "--env", "dev"], driver=world.driver()) == 0
    assert "no drift" in capsys.readouterr().out
    world.events[("dev", "refresh")] = [step(OpType.UPDATE, BUCKET_URN, "aws:s3/bucket:Bucket")]
    assert cli.main(["refresh", "--env", "dev", "--json"], driver=world.driver()) == 1
    assert json.loads(capsys.readouterr().out) == {"env": "dev", "drift": ["aws:s3/bucket:Bucket kubeflow-artifacts"]}


def test_json_mode_prints_one_object_and_up_passes_show_secrets_false(world: World, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["up", "--env", "dev", "--json"], driver=world.driver()) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["command"] == "up" and payload["result"]["summary"] == {"create": 3, "same": 10}
    up_kwargs = next(k for e, op, k in world.calls if op == "up")
    assert up_kwargs["show_secrets"] is False


def test_interrupt_names_the_environment(world: World, capsys: pytest.CaptureFixture) -> None:
    world.failures[("staging", "up")] = KeyboardInterrupt()
    assert cli.main(["pipeline", "--through", "staging"], driver=world.driver()) == 1
    assert "interrupted during pipeline of staging" in capsys.readouterr().err


def test_parallel_previews_take_about_the_slowest(world: World) -> None:
    world.delay = 0.5
    started = time.monotonic()
    results = world.driver().pipeline(preview_only=True)
    elapsed = time.monotonic() - started
    assert [r["env"] for r in results] == ["dev", "staging", "prod"] and all(r["status"] == "ok" for r in results)
    assert elapsed < 1.2  # sequential would be 1.5 s
    assert not [op for op in world.ops() if op[1] == "up"]


def test_error_reduction_keeps_meaningful_lines() -> None:
    error = CommandError(
        CommandResult(
            "Previewing update (dev)\n  pulumi:pulumi:Stack ...\n",
            "error: update failed\n  aws:s3:Bucket (x):\n    error: BucketAlreadyExists\n",
            255,
        )
    )
    reduced = reduce_error(error)
    assert "BucketAlreadyExists" in reduced and "Previewing" not in reduced
    assert "Previewing" in reduce_error(error, verbose=True)


def test_no_pulumi_cli_is_exit_2_with_install_hint(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli.main(["preview", "--env", "dev"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Pulumi CLI not found; install it") and "\n" not in err


def test_local_backend_default(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from automation import engine

    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path))
    notes: list[str] = []
    env = engine.backend_env(notes.append)
    assert env["PULUMI_BACKEND_URL"].startswith("file://") and env["PULUMI_BACKEND_URL"].endswith("/.pulumi-state")
    assert "local file backend" in notes[0]
    (tmp_path / "credentials.json").write_text(json.dumps({"current": "https://api.pulumi.com"}))
    assert engine.backend_env(notes.append) == {}
