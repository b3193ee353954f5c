"""The driver at the Automation API boundary: tests/engine_double.py answers as the CLI and engine."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pulumi.automation import CommandError, CommandResult, OutputValue
from tenacity import wait_none

from automation.cli import main as cli
from automation.driver.events import EventLog, reduce_error
from automation.driver.operations import Driver
from automation.driver.preflight import Preflight
from tests.engine_double import UpdateEntry, World

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_URN = (
    "urn:pulumi:dev::kubeflow-artifact-store::"
    "kubeflow:storage:KubeflowArtifactStore$kubeflow:storage:HardenedBucket$"
    "aws:s3/bucket:Bucket::kubeflow-artifacts"
)
VERSIONING_URN = BUCKET_URN.replace(
    "aws:s3/bucket:Bucket::kubeflow-artifacts", "aws:s3/bucketVersioning:BucketVersioning::kubeflow-artifacts-versioning"
)
ROLE_URN = "urn:pulumi:dev::kubeflow-artifact-store::aws:iam/role:Role::kubeflow-access-kubeflow-ml-pipeline"
ACCOUNTS = {"dev": "111122223333", "staging": "111122223333", "prod": "444455556666"}
CONTEXTS = {"kubeflow-dev", "kubeflow-staging", "kubeflow-prod"}


def violation(level: str = "mandatory", name: str = "kf-s3-09", message: str = "kubeflow-artifacts: not SSE-KMS [S3.17]") -> dict[str, Any]:
    return {
        "message": message,
        "color": "never",
        "policyName": name,
        "policyPackName": "kubeflow-artifact-store-security",
        "policyPackVersion": "0.0.1",
        "enforcementLevel": level,
    }


class Harness(World):
    def __init__(self) -> None:
        super().__init__()
        self.rule_failures: dict[str, list[str]] = {}
        self.account = ACCOUNTS  # the credentials each environment's run resolves to
        self.objects: dict[str, int] = {}  # bucket -> object versions (the live S3 side)
        self.stacks = {"dev", "staging", "prod"}  # created earlier; a test removes one to start from nothing
        self.emptied: list[str] = []

    def driver(self, verify: Any = None, lines: list[str] | None = None) -> Driver:
        say = lines.append if lines is not None else lambda _: None
        preflight = Preflight(
            rules=lambda env: self.rule_failures.get(env, []),
            account=lambda env: self.account[env],
            contexts=lambda: CONTEXTS,
            warn=say,
        )
        return Driver(
            self.open,
            say,
            preflight,
            verify=verify,
            object_count=lambda env, bucket: self.objects.get(bucket, 0),
            empty_bucket=lambda env, bucket: self.emptied.append(bucket),
            lock_wait=wait_none(),
        )

    def deployed(self, *envs: str) -> None:
        for env in envs:
            self.stacks.add(env)
            self.history[env] = [UpdateEntry("update", "succeeded")]
            self.state[env] = [(BUCKET_URN, BUCKET), (VERSIONING_URN, "aws:s3/bucketVersioning:BucketVersioning")]


@pytest.fixture
def world() -> Harness:
    return Harness()


def test_preview_passes_the_policy_pack_with_env_expectations(world: Harness) -> None:
    world.plans["prod"] = [("replace", BUCKET_URN, BUCKET), ("delete", ROLE_URN, "aws:iam/role:Role")]
    report = world.driver().preview("prod")
    _, _, kwargs = world.calls[0]
    assert kwargs["policy_packs"][0].endswith("/policy")
    config = json.loads(Path(kwargs["policy_pack_configs"][0]).read_text())
    assert config["kf-s3-09"] == {
        "requireKms": True,
        "requireLogging": True,
        "requireNotifications": True,
        "requireVersioning": True,
        "requireIdentityPerimeter": True,
        "requireNetworkPerimeter": False,
        "requireReplication": True,
        "isolatedNamespaces": ["team-vision", "team-nlp", "team-forecasting"],
        "wiredNamespaces": ["kubeflow", "team-vision", "team-nlp", "team-forecasting"],
        "vpcEndpointIds": [],
        "replicaVpcEndpointIds": [],
        "organizationId": "",
        "readLegacyPrefix": True,
        "kubeflowPipelinesVersion": "2.17",
        "controlLevels": {},
        "exceptions": [],
    }
    assert report.as_dict()["replace"] == ["kubeflow-artifacts"] and report.as_dict()["delete"] == ["kubeflow-access-kubeflow-ml-pipeline"]


def test_replacing_the_bucket_stops_before_up(world: Harness) -> None:
    world.plans["dev"] = [("replace", BUCKET_URN, BUCKET)]
    with pytest.raises(cli.OperationError, match="would lose data; rerun with --allow-replace"):
        world.driver().up("dev")
    assert world.ops() == [("dev", "preview")]
    world.calls.clear()
    world.driver().up("dev", allow_replace=True)
    assert world.ops() == [("dev", "preview"), ("dev", "up")]


def test_non_guarded_replacement_is_allowed(world: Harness) -> None:
    lifecycle = BUCKET_URN.replace(
        "aws:s3/bucket:Bucket::kubeflow-artifacts", "aws:s3/bucketLifecycleConfiguration:X::kubeflow-artifacts-lifecycle"
    )
    world.plans["dev"] = [("replace", lifecycle, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")]
    world.driver().up("dev")
    assert ("dev", "up") in world.ops()


def test_policy_not_judged_at_preview_is_reported_never_passed_silently(world: Harness) -> None:
    world.policy[("dev", "preview")] = [
        violation("advisory", "kf-not-judged", "KF-S3-05 kubeflow-artifacts: policy unknown until the update computes it"),
        violation(
            "advisory", "kf-s3-02", "can't run policy 'kf-s3-02' from policy pack 'x@v0.0.1' during preview: string value at .policy"
        ),
    ]
    lines: list[str] = []
    report = world.driver(lines=lines).preview("dev")
    assert len(report.not_judged) == 2 and report.as_dict()["notJudgedAtPreview"] == report.not_judged
    assert any("not judged at preview" in line and "KF-S3-05" in line for line in lines)


def test_offline_rule_failure_stops_up_before_any_cli_call(world: Harness) -> None:
    world.rule_failures["dev"] = ["KF-S3-07 kubeflow-artifacts: versioning is Suspended"]
    with pytest.raises(cli.OperationError, match="stopped before any change: the program fails its rules offline: KF-S3-07"):
        world.driver().up("dev")
    assert world.calls == []


def test_wrong_account_is_exit_2_before_anything(world: Harness, capsys: pytest.CaptureFixture) -> None:
    world.account = {**ACCOUNTS, "prod": "111122223333"}  # one credential for every environment
    assert cli.main(["pipeline", "--yes"], driver=world.driver()) == 2
    err = capsys.readouterr().err
    assert "account 111122223333 is not prod's (444455556666, aws:allowedAccountIds); nothing was run" in err
    assert world.calls == [] and world.opens == []


def test_missing_kube_context_is_exit_2(world: Harness, capsys: pytest.CaptureFixture) -> None:
    driver = world.driver()
    driver.preflight.contexts = lambda: {"someone-elses-cluster"}
    assert cli.main(["up", "--env", "dev"], driver=driver) == 2
    assert "kubernetes:context: context 'kubeflow-dev' is not in the kubeconfig" in capsys.readouterr().err
    assert world.calls == []


def test_protected_env_needs_yes_and_exit_2_before_anything(world: Harness, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["up", "--env", "prod"], driver=world.driver()) == 2
    assert "--yes: required to update protected environment(s) prod" in capsys.readouterr().err
    assert cli.main(["pipeline"], driver=world.driver()) == 2
    assert cli.main(["promote", "--to", "prod"], driver=world.driver()) == 2
    assert world.calls == []


def test_destroy_refused_for_prod_and_while_buckets_hold_objects(world: Harness) -> None:
    driver = world.driver()
    with pytest.raises(cli.UsageError, match="destroy is refused for protected environment prod"):
        driver.destroy("prod", True)
    world.objects["kf-artifacts-dev-x"] = 4
    with pytest.raises(cli.OperationError, match="kf-artifacts-dev-x holds 4 object versions; rerun with --force-empty"):
        driver.destroy("dev", False)
    assert ("dev", "destroy") not in world.ops()
    driver.destroy("dev", True)
    assert world.emptied == ["kf-artifacts-dev-x"] and ("dev", "destroy") in world.ops()


def test_destroy_force_empty_empties_the_log_bucket_too(world: Harness) -> None:
    world.outputs["dev"] = {"bucketName": OutputValue("kf-a", False), "logBucketName": OutputValue("kf-logs", False)}
    lines: list[str] = []
    world.objects["kf-logs"] = 2
    with pytest.raises(cli.OperationError, match="kf-logs holds 2 object versions"):
        world.driver().destroy("dev", False)
    world.objects["kf-a"] = 3
    world.driver(lines=lines).destroy("dev", True)
    assert world.emptied == ["kf-a", "kf-logs"]
    assert any("may still deliver access logs into kf-logs" in line for line in lines)


def test_pipeline_order_and_stop_at_first_failure(world: Harness) -> None:
    world.failures[("staging", "up")] = CommandError(CommandResult("", "error: creating S3 bucket: AccessDenied\nnoise", 255))
    with pytest.raises(cli.OperationError) as raised:
        world.driver().pipeline(yes=True)
    assert [op for op in world.ops() if op[1] == "up"] == [("dev", "up"), ("staging", "up")]
    assert not world.ops("prod")
    assert "pipeline stopped at staging; not updated: prod" in str(raised.value)
    assert "AccessDenied" in str(raised.value) and "noise" not in str(raised.value)


def test_pipeline_through_and_verify_after_each_update(world: Harness) -> None:
    verified: list[str] = []
    world.driver(verify=lambda env: verified.append(env) or 0).pipeline(through_env="staging")
    assert verified == ["dev", "staging"] and not world.ops("prod")


def test_failed_verification_stops_the_pipeline(world: Harness) -> None:
    with pytest.raises(cli.OperationError, match="live verification failed"):
        world.driver(verify=lambda env: 1).pipeline(yes=True)
    assert not world.ops("staging")


def test_refresh_reads_drift_from_outputs_events_not_pre_events(world: Harness) -> None:
    world.deployed("dev")
    world.drift["dev"] = {VERSIONING_URN: ("update", ("versioningConfiguration",)), BUCKET_URN: ("delete", ())}
    drift = world.driver().refresh("dev")
    assert drift == [
        "aws:s3/bucket:Bucket kubeflow-artifacts: deleted outside Pulumi",
        "aws:s3/bucketVersioning:BucketVersioning kubeflow-artifacts-versioning: changed (versioningConfiguration)",
    ]
    assert world.ops() == [("dev", "preview_refresh")]


def test_the_old_pre_event_logic_sees_no_drift_in_the_engine_shapes(world: Harness) -> None:
    """Kept to show the bug: reading only pre-events (all `refresh`) misses real drift."""
    world.deployed("dev")
    world.drift["dev"] = {VERSIONING_URN: ("update", ("versioningConfiguration",))}
    log = EventLog()
    world.open("dev", False).preview_refresh(on_event=log)
    assert log.changes == []  # what the old drift check read
    assert log.drift() != []  # what the engine actually reported


def test_promote_refuses_a_drifted_source(world: Harness) -> None:
    world.deployed("dev")
    world.drift["dev"] = {VERSIONING_URN: ("update", ("versioningConfiguration",))}
    with pytest.raises(cli.OperationError, match="promote staging: source dev has drifted: .*versioningConfiguration"):
        world.driver().promote("staging")
    assert world.ops() == [("dev", "history"), ("dev", "preview_refresh")]


def test_promote_refuses_a_source_that_was_never_deployed(world: Harness) -> None:
    world.stacks.discard("dev")
    with pytest.raises(cli.OperationError, match="promote staging: dev was never deployed \\(no stack 'dev'\\)"):
        world.driver().promote("staging")
    assert world.opens and all(not create for _, create, _, _ in world.opens) and "dev" not in world.stacks
    world.stacks.add("dev")  # created, but every update failed
    world.history["dev"] = [UpdateEntry("update", "failed"), UpdateEntry("refresh", "succeeded")]
    with pytest.raises(cli.OperationError, match="dev was never deployed \\(no successful update"):
        world.driver().promote("staging")
    assert not world.ops("staging")


def test_promote_updates_target_when_source_is_current(world: Harness) -> None:
    world.deployed("dev")
    world.driver().promote("staging")
    assert world.ops() == [("dev", "history"), ("dev", "preview_refresh"), ("staging", "preview"), ("staging", "up")]


def test_outputs_mask_secrets(world: Harness, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["outputs", "--env", "dev", "--json"], driver=world.driver()) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["result"] == {"bucketName": "kf-artifacts-dev-x", "credentialsSecretArn": "[secret]"}
    assert cli.main(["outputs", "--env", "dev", "--show-secrets"], driver=world.driver()) == 0
    assert "arn:secret" in capsys.readouterr().out


def test_refresh_drift_exit_1(world: Harness, capsys: pytest.CaptureFixture) -> None:
    world.deployed("dev")
    assert cli.main(["refresh", "--env", "dev"], driver=world.driver()) == 0
    assert "no drift" in capsys.readouterr().out
    world.drift["dev"] = {BUCKET_URN: ("update", ("tags",))}
    assert cli.main(["refresh", "--env", "dev", "--json"], driver=world.driver()) == 1
    assert json.loads(capsys.readouterr().out) == {"env": "dev", "drift": ["aws:s3/bucket:Bucket kubeflow-artifacts: changed (tags)"]}


def test_json_mode_prints_one_object_and_up_passes_show_secrets_false(world: Harness, capsys: pytest.CaptureFixture) -> None:
    world.plans["dev"] = [("create", BUCKET_URN, BUCKET)]
    assert cli.main(["up", "--env", "dev", "--json"], driver=world.driver()) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["command"] == "up" and payload["result"]["summary"] == {"create": 1}
    up_kwargs = next(k for e, op, k in world.calls if op == "up")
    assert up_kwargs["show_secrets"] is False


def test_interrupt_names_the_environment(world: Harness, capsys: pytest.CaptureFixture) -> None:
    world.failures[("staging", "up")] = KeyboardInterrupt()
    assert cli.main(["pipeline", "--through", "staging"], driver=world.driver()) == 1
    assert "interrupted during pipeline of staging" in capsys.readouterr().err


def test_parallel_previews_open_each_stack_once_never_concurrently(world: Harness) -> None:
    world.delay = 0.5
    world.open_delay = 0.05
    started = time.monotonic()
    results = world.driver().pipeline(preview_only=True)
    elapsed = time.monotonic() - started
    assert [r["env"] for r in results] == ["dev", "staging", "prod"] and all(r["status"] == "ok" for r in results)
    assert elapsed < 1.4  # sequential previews would be 1.5 s plus the opens
    assert sorted(env for env, *_ in world.opens) == ["dev", "prod", "staging"]
    spans = sorted((start, end) for _, _, start, end in world.opens)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1)), "two `stack select` calls overlapped"
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
    from automation.driver import engine

    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path))
    notes: list[str] = []
    env = engine.backend_env(notes.append)
    assert env["PULUMI_BACKEND_URL"].startswith("file://") and env["PULUMI_BACKEND_URL"].endswith("/.pulumi-state")
    assert "local file backend" in notes[0]
    (tmp_path / "credentials.json").write_text(json.dumps({"current": "https://api.pulumi.com"}))
    assert engine.backend_env(notes.append) == {}


def test_previews_never_create_stacks_and_an_update_creates_one(world: Harness) -> None:
    world.stacks.discard("staging")
    with pytest.raises(cli.OperationError, match="no stack 'staging' yet; `up --env staging` creates it"):
        world.driver().preview("staging")
    results = world.driver().pipeline(preview_only=True)
    assert [r["status"] for r in results] == ["ok", "failed", "ok"] and "staging" not in world.stacks
    assert all(not create for env, create, *_ in world.opens)
    world.driver().up("staging")
    assert "staging" in world.stacks and ("staging", True) in [(env, create) for env, create, *_ in world.opens]


def test_up_refresh_reads_live_state_before_preview_and_update(world: Harness) -> None:
    world.driver().up("dev", refresh=True)
    kwargs = {op: k for env, op, k in world.calls}
    assert kwargs["preview"]["refresh"] is True and kwargs["up"]["refresh"] is True
    world.calls.clear()
    world.driver().up("dev")
    assert all(k.get("refresh") is None for _, op, k in world.calls if op in ("preview", "up"))


def test_repair_clears_pending_operations_and_names_possible_creates(world: Harness) -> None:
    world.pending["dev"] = [
        {"type": "creating", "resource": {"urn": BUCKET_URN, "type": BUCKET}},
        {"type": "updating", "resource": {"urn": ROLE_URN, "type": "aws:iam/role:Role"}},
    ]
    lines: list[str] = []
    result = world.driver(lines=lines).repair("dev")
    assert world.pending["dev"] == []
    assert ("dev", "refresh") in world.ops() and [k for e, op, k in world.calls if op == "refresh"][0]["clear_pending_creates"] is True
    assert result["summary"].startswith("cleared 2 pending operations; check by hand whether these were created")
    assert "aws:s3/bucket:Bucket kubeflow-artifacts" in result["summary"]
    assert any("pending creating" in line for line in lines)
    assert world.driver().repair("dev")["summary"] == "nothing to repair: no pending operations"
    with pytest.raises(cli.UsageError, match="--yes: required to repair protected environment"):
        world.driver().repair("prod")


def test_on_ci_the_local_backend_fallback_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from automation.driver import engine

    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(cli.UsageError, match="PULUMI_BACKEND_URL: not set on CI"):
        engine.backend_env(lambda _: None)
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://state/kubeflow")
    assert engine.backend_env(lambda _: None) == {}
