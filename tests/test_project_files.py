"""Pulumi.yaml against Pulumi's schema and the config model; stack files; README config reference."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from automation.environments import environments
from automation.offline.mock_engine import ROOT
from automation.stackfiles import settings_for
from components.config_declarations import project_config_declarations, project_key_names
from tests.conftest import documentation

# Copied from the upstream projects (shared/schemas): no test depends on a sibling folder.
SCHEMA = ROOT / "tests" / "data" / "schemas" / "pulumi-project.schema.json"
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def test_pulumi_yaml_is_valid_against_pulumis_schema() -> None:
    jsonschema.validate(PROJECT, json.loads(SCHEMA.read_text()))


def test_pulumi_yaml_declares_every_key_as_the_model_does() -> None:
    assert PROJECT["name"] == "kubeflow-artifact-store"
    assert PROJECT["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert PROJECT["config"] == project_config_declarations()
    assert not [k for k, v in PROJECT["config"].items() if "default" in v and "value" in v]


@pytest.mark.parametrize("env", [e.name for e in environments()])
def test_each_environment_has_a_valid_stack_file(env: str) -> None:
    settings = settings_for(env)
    c = settings.config
    if env == "dev":
        assert (c.encryption, c.protect) == ("sse-s3", False)
    if env == "staging":
        assert settings.creates_kms_key
    if env == "prod":
        assert settings.creates_kms_key and c.access_logging and c.event_notifications and c.protect
        assert yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["secretsprovider"].startswith("awskms://")


def test_readme_documents_every_config_key_and_output() -> None:
    readme = documentation()
    for key in project_key_names():
        assert f"`{key}`" in readme, key
    from automation.offline.mock_engine import run_program
    from tests.conftest import config

    exported = run_program(
        "dev",
        config(
            encryption="sse-kms", accessLogging=True, profileNamespaces=["a"], profileObjects="external", kubeflowPipelinesVersion="2.14"
        ),
    ).exports
    for output in exported:
        assert f"`{output}`" in readme, output


def test_state_dir_is_git_ignored() -> None:
    assert ".pulumi-state/" in (ROOT / ".gitignore").read_text().splitlines()
    assert Path(ROOT / "policy" / "PulumiPolicy.yaml").exists()


def test_example_workflow_binds_each_deploy_to_its_environment() -> None:
    """One job per environment, each with its GitHub environment (own role, own approval), its own
    kubeconfig context named as the stack's kubernetes:context, and a concurrency group that never
    cancels a waiting deploy."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "promote.yml").read_text())
    deploys = {name: job for name, job in workflow["jobs"].items() if job.get("environment")}
    assert sorted(job["environment"] for job in deploys.values()) == ["dev", "prod", "staging"]
    for job in deploys.values():
        env = job["environment"]
        runs = [step.get("run", "") for step in job["steps"]]
        roles = [step["with"]["role-to-assume"] for step in job["steps"] if "configure-aws-credentials" in step.get("uses", "")]
        assert roles[-1] == "${{ vars.DEPLOY_ROLE_ARN }}"  # the GitHub environment's own variable
        context = yaml.safe_load((ROOT / f"Pulumi.{env}.yaml").read_text())["config"]["kubernetes:context"]
        assert any("update-kubeconfig" in r and f"--alias {context}" in r for r in runs)
        assert job["concurrency"] == {"group": f"kubeflow-artifact-store-{env}", "cancel-in-progress": False}


def test_every_requirement_is_bounded_and_locked() -> None:
    """Ranges with an upper bound in requirements*.txt, and an exact version of each in the lock."""
    import re

    locked = dict(line.split("==") for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line)
    locked = {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in locked.items()}
    for file in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / file).read_text().splitlines():
            if not line or line.startswith(("#", "-r")):
                continue
            name = re.sub(r"[-_.]+", "-", re.split(r"[\[<>=]", line)[0]).lower()
            assert "<" in line, f"{file}: {line} has no upper bound"
            assert name in locked, f"{name} is not in requirements.lock"
    assert "-c requirements.lock" in (ROOT / "Makefile").read_text()


def test_example_workflow_previews_with_read_only_roles_and_a_pinned_cli() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "promote.yml").read_text())
    plan = workflow["jobs"]["plan"]
    text = yaml.safe_dump(plan)
    assert "PLAN_ROLE_ARN" in text and "DEPLOY_ROLE_ARN" not in text  # pull-request code never gets a deploy role
    assert "environment" not in plan and plan["concurrency"]["group"].startswith("plan-")
    assert any("preview" in step.get("run", "") for step in plan["steps"])
    for name, job in workflow["jobs"].items():
        if name == "test":  # the test suite needs no Pulumi CLI
            continue
        pins = [step["with"]["pulumi-version"] for step in job["steps"] if step.get("uses", "").startswith("pulumi/actions")]
        assert pins and all(p.count(".") == 2 for p in pins)  # an exact CLI version
    assert workflow["env"]["PULUMI_BACKEND_URL"]
