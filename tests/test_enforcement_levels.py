"""Enforcement per control (environments.yaml `controls` and `exceptions`): an advisory control is
advisory in its environment and mandatory elsewhere, in `check`, the policy pack and `verify`;
an exception names a resource and needs a reason; a protected environment cannot weaken what its
baseline requires."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from automation.environments import load_environments
from components.settings import ConfigError
from rules import ADVISORY, EXCEPTED, FAIL, control
from rules.crossguard import ADVISORY_POLICY, stack_policies
from rules.evaluate import evaluate_control
from rules.state import BucketState, Expectations
from tests.conftest import cli_in, project_copy


def _with(copy: Path, env: str, **keys: object) -> None:
    path = copy / "environments.yaml"
    document = yaml.safe_load(path.read_text())
    for entry in document["environments"]:
        if entry["name"] == env:
            entry.update(keys)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _no_events(bucket: str = "kubeflow-artifacts") -> BucketState:
    return BucketState(name=bucket, eventbridge=False)


def test_an_advisory_control_is_advisory_there_and_mandatory_elsewhere() -> None:
    advisory = Expectations(require_notifications=True, control_levels=(("KF-S3-12", "advisory"),))
    mandatory = Expectations(require_notifications=True)
    assert evaluate_control(control("KF-S3-12"), _no_events(), advisory).verdict == ADVISORY
    assert evaluate_control(control("KF-S3-12"), _no_events(), mandatory).verdict == FAIL


def test_an_exception_names_one_resource_and_says_why() -> None:
    excepted = Expectations(require_notifications=True, exceptions=(("KF-S3-12", "kubeflow-artifacts", "events go to the data lake"),))
    finding = evaluate_control(control("KF-S3-12"), _no_events(), excepted)
    assert finding.verdict == EXCEPTED and "excepted: events go to the data lake" in finding.detail
    assert evaluate_control(control("KF-S3-12"), _no_events("other-bucket"), excepted).verdict == FAIL


def test_check_shows_the_level_per_environment(tmp_path: Path) -> None:
    """Both environments require EventBridge notifications (their stack files turn them off, so the
    control fails); dev runs it as advisory: advisory there, a failure in staging."""
    copy = project_copy(tmp_path)
    _with(copy, "dev", baseline=["notifications"], controls={"KF-S3-12": "advisory"})
    _with(copy, "staging", baseline=["notifications"])
    dev = cli_in(copy, "check", "--env", "dev", "--json")
    staging = cli_in(copy, "check", "--env", "staging", "--json")
    verdict = lambda out: {c["control"]: c["verdict"] for c in json.loads(out.stdout)["controls"]}  # noqa: E731
    assert verdict(dev)["KF-S3-12"] == ADVISORY and dev.returncode == 0
    assert verdict(staging)["KF-S3-12"] == FAIL and staging.returncode == 1
    text = cli_in(copy, "check", "--env", "dev")
    assert "adv  KF-S3-12" in text.stdout and "advisory in this environment" in text.stdout


def test_the_pack_reports_advisory_findings_in_its_advisory_policy_only() -> None:
    from tests.conftest import config
    from tests.test_rules import _policy_args

    config_values = Expectations(require_kms=True, control_levels=(("KF-S3-09", "advisory"),))
    by_name = {p.name: p for p in stack_policies()}
    mandatory: list[str] = []
    advisory: list[str] = []
    by_name["kf-s3-09"].validate(_policy_args(config(), config_values), lambda message, urn=None: mandatory.append(message))
    by_name[ADVISORY_POLICY].validate(_policy_args(config(), config_values), lambda message, urn=None: advisory.append(message))
    assert mandatory == [] and any(m.startswith("KF-S3-09 ") and "advisory in this environment" in m for m in advisory)


def test_a_protected_environment_cannot_weaken_its_baseline(tmp_path: Path) -> None:
    copy = project_copy(tmp_path)
    _with(copy, "prod", controls={"KF-S3-12": "advisory"})
    with pytest.raises(ConfigError) as raised:
        load_environments(copy)
    assert str(raised.value).startswith(
        "environments.yaml: entry 3 (prod) controls.KF-S3-12: protected environment prod's baseline requires"
    )
    _with(copy, "prod", controls={}, exceptions=[{"control": "KF-S3-99", "resource": "x", "reason": "y"}])
    with pytest.raises(ConfigError, match="exceptions.KF-S3-99: 'KF-S3-99' is no control"):
        load_environments.__wrapped__(copy)


def test_an_exception_without_a_reason_is_refused(tmp_path: Path) -> None:
    copy = project_copy(tmp_path)
    _with(copy, "dev", exceptions=[{"control": "KF-S3-12", "resource": "kubeflow-artifacts", "reason": ""}])
    with pytest.raises(ConfigError, match="exceptions.0.reason"):
        load_environments.__wrapped__(copy)
