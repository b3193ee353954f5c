"""A newcomer's first mistakes, each the exact command and the one line it must print (exit 2):
errors name the environment's stack file and the fix in the project's words, never the validator's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from automation.offline.mock_engine import ROOT
from tests.conftest import cli_in, project_copy

NS = "kubeflow-artifact-store"


def _edit(copy: Path, env: str, old: str, new: str) -> None:
    path = copy / f"Pulumi.{env}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def _errors(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    return project_copy(tmp_path)


def test_a_bad_value_only_in_prod_names_prod_and_its_file_and_the_others_are_still_judged(copy: Path) -> None:
    _edit(copy, "prod", "    - team-nlp\n", "    - Team_NLP\n")
    result = cli_in(copy, "check")
    assert result.returncode == 2
    assert _errors(result) == [
        f"error: Pulumi.prod.yaml: {NS}:profileNamespaces: invalid value 'Team_NLP'; allowed: a list of distinct Kubernetes "
        "namespace names: lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit"
    ]
    assert "dev: ok" in result.stdout and "staging: ok" in result.stdout  # the other environments are reported


def test_a_misspelled_choice_is_said_in_the_projects_words(copy: Path) -> None:
    _edit(copy, "dev", "encryption: sse-s3", "encryption: sse-kmx")
    assert _errors(cli_in(copy, "check", "--env", "dev")) == [
        f"error: Pulumi.dev.yaml: {NS}:encryption: invalid value 'sse-kmx'; allowed: sse-s3 or sse-kms"
    ]


def test_a_list_written_as_a_string_says_how_to_write_a_list(copy: Path) -> None:
    _edit(copy, "dev", f"  {NS}:profileNamespaces:\n    - kubeflow-user-example-com\n", f'  {NS}:profileNamespaces: "team-a, team-b"\n')
    (line,) = _errors(cli_in(copy, "check", "--env", "dev"))
    assert line.startswith(
        f"error: Pulumi.dev.yaml: {NS}:profileNamespaces: invalid value 'team-a, team-b' (a list is written as a YAML list"
    )
    assert "JSON: Expecting" not in line


def test_a_missing_oidc_provider_says_missing(copy: Path) -> None:
    text = (copy / "Pulumi.dev.yaml").read_text()
    kept = [line for line in text.splitlines() if "eksOidcProviderArn" not in line]
    (copy / "Pulumi.dev.yaml").write_text("\n".join(kept) + "\n")
    (line,) = _errors(cli_in(copy, "check", "--env", "dev"))
    assert line.startswith(f"error: Pulumi.dev.yaml: {NS}:eksOidcProviderArn: missing")
    assert "invalid value ''" not in line


def test_a_yaml_syntax_error_names_the_file_and_line(copy: Path) -> None:
    _edit(copy, "dev", "  kubernetes:context: kubeflow-dev\n", "  kubernetes:context: [kubeflow-dev\n")
    (line,) = _errors(cli_in(copy, "check", "--env", "dev"))
    assert line.startswith("error: Pulumi.dev.yaml:") and "not valid YAML" in line
    assert line.split(":")[2].strip().isdigit()  # the line number


def test_an_unknown_key_names_the_nearest_only(copy: Path) -> None:
    _edit(copy, "dev", f"{NS}:encryption:", f"{NS}:encyption:")
    (line,) = _errors(cli_in(copy, "check", "--env", "dev"))
    allowed = "allowed: the keys Pulumi.yaml declares under config:"
    assert line == f"error: Pulumi.dev.yaml: {NS}:encyption: unknown config key (did you mean encryption?); {allowed}"


def test_an_unknown_region_is_refused_unless_allowed(copy: Path) -> None:
    _edit(copy, "dev", "aws:region: eu-west-1", "aws:region: mars-1")
    (line,) = _errors(cli_in(copy, "check", "--env", "dev"))
    assert line.startswith("error: Pulumi.dev.yaml: aws:region: 'mars-1' is no AWS region this project knows")
    _edit(copy, "dev", "aws:region: mars-1", "aws:region: eu-east-7")
    assert cli_in(copy, "check", "--env", "dev").returncode == 2
    allowed = cli_in(copy, "check", "--env", "dev", "--allow-unknown-region")
    assert not [line for line in _errors(allowed) if "aws:region" in line]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--graph", "mermaid", "--json"], "error: --graph mermaid and --json: a graph is not JSON; allowed: one of them"),
        (["check", "--format", "markdown", "--json"], "error: --format markdown and --json: allowed: one of them"),
    ],
)
def test_conflicting_output_options_are_refused(args: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "automation", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.strip() == message and result.stdout == ""


@pytest.mark.parametrize("command", ["", "check", "up", "refresh", "pipeline", "manifests", "permissions"])
def test_help_fits_80_columns_when_piped(command: str) -> None:
    args = [command, "--help"] if command else ["--help"]
    result = subprocess.run(
        [sys.executable, "-m", "automation", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 0
    too_long = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert too_long == []
    assert "--expect-no-changes" not in result.stdout  # no option that does nothing
