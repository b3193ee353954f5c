"""What people and pull requests see: terminal output that fits, colour rules, Markdown reports,
graphs of the stack, the pipeline table and --skip-verify."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pydot
import pytest
from rich.console import Console

from automation.cli import main as cli
from automation.cli.graph import dot, edges, mermaid
from automation.cli.report import Node, resource_tree, scorecard_table
from automation.offline.check import run_check
from automation.offline.mock_engine import ROOT
from rules import CONTROLS, FAIL, Finding
from tests.conftest import cli_in, documentation, project_copy
from tests.test_driver import Harness

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "GITHUB_STEP_SUMMARY")}
    return subprocess.run(
        [sys.executable, "-m", "automation", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env={**environment, **env}
    )


@pytest.mark.parametrize("columns", [80, 200])
def test_check_fits_the_terminal_width(columns: int) -> None:
    result = _run("check", COLUMNS=str(columns))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    starts = [i for i, line in enumerate(lines) if re.search(r"─ (check (dev|staging|prod)|summary) ─", line)]
    # A screenful per environment (prod: four buckets, two regions, 29 controls).
    assert len(starts) == 4 and all(b - a <= 56 for a, b in zip(starts, starts[1:], strict=False))
    assert lines[-3:] == [line for line in lines[-3:] if re.match(r"^(dev|staging|prod): ok \(", line)]
    # The control id is what people search for: never cut, whatever the width.
    shown = set(re.findall(r"^\S+\s+(KF-\S+)", result.stdout, re.M))
    assert shown == {c.id for c in CONTROLS}, shown ^ {c.id for c in CONTROLS}


def test_verbose_lists_every_finding_whole_at_80_columns() -> None:
    result = _run("check", "--env", "dev", "--verbose", COLUMNS="80", NO_COLOR="1")
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = next(i for i, line in enumerate(lines) if line.startswith("control "))
    start, end = lines[header].index("resource"), lines[header].index("detail")
    table = lines[header + 1 :]
    rows = [line.split()[:2] for line in table if line.startswith("KF-")]
    findings = run_check("dev").findings
    assert sorted(rows) == sorted([f.control, f.verdict] for f in findings)
    for f in findings:  # folded, not cut: each resource name is all there, in its column
        assert f.resource in "".join(line[start:end].strip() for line in table), f.resource


def test_a_failure_reason_is_shown_whole_at_80_columns() -> None:
    reason = "bucket policy has no Deny on aws:SecureTransport false, so plain HTTP requests reach the objects"
    failing = Finding("KF-S3-05", "Bucket policy denies requests without TLS", "high", (), "kubeflow-artifacts", FAIL, reason)
    out = Console(width=80, record=True, file=io.StringIO())
    out.print(scorecard_table([failing], out.width))
    text = out.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "KF-S3-05" in text and "FAIL" in text
    assert " ".join(text.split()).count(f"kubeflow-artifacts: {reason}") == 1, text


def test_the_tree_is_the_same_whatever_the_registration_order() -> None:
    nodes = [Node(r.urn, r.parent, r.type, r.name) for r in run_check("prod").run.resources if r.type != "pulumi:pulumi:Stack"]

    def render(order: list[Node]) -> str:
        out = Console(width=80, record=True, file=io.StringIO())
        out.print(resource_tree("tree", order, verbose=False))
        return out.export_text()

    assert render(nodes) == render(nodes[::-1])
    assert render(nodes).index("ArtifactKey kubeflow-key") < render(nodes).index("KubeflowAccess kubeflow-access")


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    assert not ANSI.search(_run("check", "--env", "dev").stdout)  # a pipe: no colour
    assert ANSI.search(_run("check", "--env", "dev", FORCE_COLOR="1").stdout)  # as on a terminal
    assert not ANSI.search(_run("check", "--env", "dev", FORCE_COLOR="1", NO_COLOR="1").stdout)


def _markdown_tables(text: str) -> list[list[str]]:
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def _cells(row: str) -> int:
    return len(re.split(r"(?<!\\)\|", row.strip())) - 2


def assert_valid_tables(text: str) -> None:
    tables = _markdown_tables(text)
    assert tables
    for table in tables:
        assert re.fullmatch(r"\|(---\|)+", table[1])
        assert len({_cells(row) for row in table}) == 1, table


def test_check_markdown_report_and_step_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = _run("check", "--format", "markdown", GITHUB_STEP_SUMMARY=str(summary))
    assert result.returncode == 0 and "### check prod" in result.stdout
    assert_valid_tables(result.stdout)
    assert summary.read_text().strip() == result.stdout.strip()


def test_check_without_env_exits_with_the_worst_code(tmp_path: Path) -> None:
    copy = project_copy(tmp_path)
    prod = copy / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("encryption: sse-kms", "encryption: sse-s3"))
    result = cli_in(copy, "check")
    assert result.returncode == 1
    assert "dev: ok" in result.stdout and "staging: ok" in result.stdout and "prod: FAIL" in result.stdout


def test_the_graph_has_every_resource_and_dependency() -> None:
    run = run_check("prod").run
    resources = [r for r in run.resources if r.custom]
    text = mermaid(run)
    assert text.startswith("flowchart LR")
    for r in resources:
        assert re.search(rf'n\d+\["[A-Za-z]+ {re.escape(r.name)}( \[protected\])?"\]', text), r.name
    arrows = re.findall(r"^\s+(n\d+) --> (n\d+)$", text, re.M)
    assert len(arrows) == len(edges(run)) > 0
    protected = [r for r in resources if r.protect]
    assert protected and text.count(":::protected") == len(protected)
    (graph,) = pydot.graph_from_dot_data(dot(run))
    nodes = [n for sub in [graph, *_subgraphs(graph)] for n in sub.get_nodes() if n.get_name() not in ("node", "edge", "graph")]
    assert len(nodes) == len(resources) and len(graph.get_edges()) == len(edges(run))


def _subgraphs(graph: pydot.Dot) -> list:
    found = []
    for sub in graph.get_subgraphs():
        found += [sub, *_subgraphs(sub)]
    return found


def test_check_graph_flag_prints_it() -> None:
    assert _run("check", "--env", "dev", "--graph", "dot").stdout.startswith("digraph stack {")


def test_preview_and_pipeline_markdown(capsys: pytest.CaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = Harness()
    world.plans["prod"] = [
        ("delete", "urn:pulumi:prod::p::aws:iam/role:Role::kubeflow-access-team-nlp-default-editor", "aws:iam/role:Role")
    ]
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    assert cli.main(["pipeline", "--preview-only", "--format", "markdown"], driver=world.driver()) == 0
    out = capsys.readouterr().out
    assert_valid_tables(out)
    assert "identitiesRemoved: team-nlp-default-editor" in out and "| prod | ok |" in out
    assert cli.main(["preview", "--env", "dev", "--format", "markdown"], driver=world.driver()) == 0
    assert_valid_tables(capsys.readouterr().out)
    assert (tmp_path / "summary.md").read_text().count("### pulumi preview") == 2


def test_skip_verify_is_said_and_recorded(capsys: pytest.CaptureFixture) -> None:
    world = Harness()
    assert cli.main(["up", "--env", "dev", "--skip-verify", "--json"], driver=world.driver()) == 0
    assert json.loads(capsys.readouterr().out)["result"]["verify"] == "skipped"


def test_pipeline_ends_with_a_table_per_environment(capsys: pytest.CaptureFixture) -> None:
    world = Harness()
    world.plans["dev"] = [("create", "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b", "aws:s3/bucket:Bucket")]
    assert cli.main(["pipeline", "--through", "staging"], driver=world.driver(verify=lambda env: 0)) == 0
    out = capsys.readouterr().out
    assert "| environment | status | changes | duration | verify |" in out
    assert re.search(r"\| dev \| updated \| 1 create \| [\d.]+ s \| passed \|", out)
    assert re.search(r"\| staging \| updated \| - \| [\d.]+ s \| passed \|", out)


def test_help_speaks_to_users_with_an_example_per_command() -> None:
    top = _run("--help").stdout
    assert "check, deploy and verify" in top and "import" not in top.lower()
    for command in (
        "check",
        "verify",
        "preview",
        "up",
        "repair",
        "refresh",
        "destroy",
        "manifests",
        "permissions",
        "outputs",
        "promote",
        "pipeline",
    ):
        text = _run(command, "--help").stdout
        assert "example:\n  python -m automation" in text or "example:\n  pulumi" in text, command


def test_verify_prints_notes_and_problems_as_text_not_markup(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from automation.live import verify

    report = verify.VerifyReport(
        "dev",
        "kf-artifacts-dev",
        [],
        3,
        notes=["kubeflow: configmap keys [bucketName, region] owned by [kubectl-edit]"],
        problems=["team-a/mlpipeline-minio-artifact: [accesskey] missing"],
    )
    monkeypatch.setattr(verify, "run_verify", lambda *args: report)
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli.main(["verify", "--env", "dev"]) == 1
    out = capsys.readouterr().out
    assert "keys [bucketName, region] owned by [kubectl-edit]" in out
    assert "FAIL team-a/mlpipeline-minio-artifact: [accesskey] missing" in out


def test_the_same_stack_gives_the_same_report_every_run() -> None:
    """Registration order varies between runs (here forced by the hash seed): reports must not."""
    for args in (("--json",), ("--graph", "mermaid"), ("--format", "markdown")):
        runs = {_run("check", "--env", "prod", *args, PYTHONHASHSEED=seed).stdout for seed in ("1", "2")}
        assert len(runs) == 1, args


def test_the_stable_order_keeps_parents_providers_and_dependencies_first() -> None:
    """As the engine's state does, and as CrossGuard hands resources to a stack policy."""
    resources = run_check("prod").run.resources
    position = {r.urn: i for i, r in enumerate(resources)}
    for r in resources:
        before = [r.parent, r.provider.rsplit("::", 1)[0], *r.dependencies]
        assert all(position[urn] < position[r.urn] for urn in before if urn in position), r.urn
    assert any(r.provider for r in resources)  # the replica's explicit provider is among them


def test_the_readme_shows_the_real_output() -> None:
    """ "What you see" is pasted from the commands; now that output is stable, it must stay true."""
    readme = documentation()
    terminal = _run("check", "--env", "prod", COLUMNS="80", NO_COLOR="1").stdout
    assert "\n".join(line.rstrip() for line in terminal.splitlines()) in readme
    assert _run("check", "--env", "dev", "--format", "markdown").stdout.strip() in readme
    assert "```mermaid\n" + _run("check", "--env", "prod", "--graph", "mermaid").stdout + "```" in readme
