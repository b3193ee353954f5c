"""Environments as data: environments.yaml, read by the driver, check and verify."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from automation.environments import load_environments
from components.settings import ConfigError
from tests.conftest import cli_in, project_copy


def test_the_projects_environments() -> None:
    envs = load_environments()
    assert [e.name for e in envs] == ["dev", "staging", "prod"]
    prod = envs[2]
    assert prod.protected and prod.secrets_provider.startswith("awskms://")
    assert prod.baseline.require_kms and prod.baseline.require_replication and prod.baseline.require_identity_perimeter
    assert not envs[0].protected and envs[0].secrets_provider == "passphrase"


def test_adding_qa_between_dev_and_staging_is_a_stack_file_and_a_few_lines(tmp_path: Path) -> None:
    copy = project_copy(tmp_path)
    shutil.copy(copy / "Pulumi.dev.yaml", copy / "Pulumi.qa.yaml")
    text = (copy / "environments.yaml").read_text()
    text = text.replace(
        "  - name: staging\n",
        "  - name: qa\n    protected: false\n    baseline: [kms]\n    secretsProvider: passphrase\n  - name: staging\n",
    )
    (copy / "environments.yaml").write_text(text)
    assert [e.name for e in load_environments(copy)] == ["dev", "qa", "staging", "prod"]
    checked = cli_in(copy, "check", "--env", "qa", "--json")
    assert checked.returncode == 1  # qa's baseline requires SSE-KMS; dev's stack file (copied) is SSE-S3
    assert '"KF-S3-09"' in checked.stdout
    help_text = cli_in(copy, "promote", "--help").stdout
    assert "qa" in help_text  # promote --to qa exists: dev -> qa -> staging


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("  - name: staging\n", "  - name: staging\n    colour: blue\n"),
            "environments.yaml: entry 2 (staging) colour: unknown key; allowed: name, protected",
        ),
        (
            ("  - name: staging\n", "  - name: dev\n"),
            "environments.yaml: entry 2 (dev) name: 'dev' is listed twice; allowed: each environment once",
        ),
        (
            ("  - name: staging\n", "  - name: uat\n"),
            "environments.yaml: entry 2 (uat) name: no stack file Pulumi.uat.yaml; allowed: an environment with its stack file",
        ),
        (("baseline: [kms,", "baseline: [kmss,"), "environments.yaml: entry 3 (prod) baseline.0: invalid"),
        (
            ("secretsProvider: awskms://alias", "secretsProvider: passphrase #"),
            "environments.yaml: entry 3 (prod) secretsProvider: 'passphrase' for a protected environment; allowed: awskms://",
        ),
    ],
)
def test_every_bad_environments_file_is_exit_2_one_line(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    copy = project_copy(tmp_path)
    path = copy / "environments.yaml"
    path.write_text(path.read_text().replace(*change, 1))
    with pytest.raises(ConfigError):
        load_environments(copy)
    result = cli_in(copy, "check", "--env", "dev")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {message}") and result.stderr.count("\n") == 1, result.stderr
