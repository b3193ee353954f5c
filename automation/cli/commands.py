"""The commands that need no Pulumi CLI: check (offline), verify (live AWS), manifests, permissions.

Each renders for people (rich), for pull requests (--format markdown, also appended to
$GITHUB_STEP_SUMMARY) or for machines (--json)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rich.text import Text

from automation.cli.report import (
    Node,
    console,
    emit_json,
    findings_table,
    markdown_table,
    publish,
    resource_tree,
    scorecard_markdown,
    scorecard_table,
    summary_line,
)
from automation.errors import UsageError
from components.settings import ConfigError


def check(args: argparse.Namespace, env_names: list[str]) -> int:
    """One environment, or every one in one process (the worst exit code wins)."""
    from automation.offline.check import run_check

    envs = [args.env] if args.env else env_names
    reports, errors = [], []
    for env in envs:  # every environment's configuration errors, not only the first one's
        try:
            reports.append(run_check(env, warn=lambda line: print(line, file=sys.stderr)))
        except ConfigError as error:
            errors.append(str(error))
    code = _check_output(args, reports)
    for line in errors:  # after the environments that could be judged
        print(f"error: {line}", file=sys.stderr)
    return 2 if errors else code


def _check_output(args: argparse.Namespace, reports: list[Any]) -> int:
    if not reports:
        return 0
    if args.graph:
        from automation.cli import graph

        for report in reports:
            print((graph.mermaid if args.graph == "mermaid" else graph.dot)(report.run), end="")
        return max(r.exit_code for r in reports)
    if args.json:
        emit_json(reports[0].as_dict() if args.env else {"command": "check", "environments": [r.as_dict() for r in reports]})
        return max(r.exit_code for r in reports)
    markdown = "\n".join(scorecard_markdown(f"check {r.env} ({len(r.inventory())} resources, mock engine)", r.findings) for r in reports)
    publish(markdown)
    if args.format == "markdown":
        print(markdown)
        return max(r.exit_code for r in reports)
    out = console()
    for report in reports:
        out.rule(f"check {report.env}")
        nodes = [Node(r.urn, r.parent, r.type, r.name) for r in report.run.resources if r.type != "pulumi:pulumi:Stack"]
        out.print(resource_tree(f"{len(nodes)} resources (mock engine)", nodes, args.verbose))
        out.print(scorecard_table(report.findings, out.width, args.verbose))
        if args.verbose:
            out.print(findings_table(report.findings))
    if len(reports) > 1:
        out.rule("summary")
    for report in reports:
        out.print(f"{report.env}: {'FAIL' if report.exit_code else 'ok'} ({summary_line(report.findings)})")
    return max(r.exit_code for r in reports)


def verify(args: argparse.Namespace) -> int:
    from automation.driver.engine import stack_outputs
    from automation.live.verify import run_verify

    report = run_verify(args.env, args.bucket, lambda line: print(line, file=sys.stderr), stack_outputs)
    markdown = scorecard_markdown(f"verify {args.env}: {report.bucket} ({report.api_calls} API calls)", report.findings)
    markdown += "".join(f"\n- {line}" for line in [*report.notes, *(f"FAIL {p}" for p in report.problems)]) + "\n"
    publish(markdown)
    if args.json:
        emit_json(report.as_dict())
    elif args.format == "markdown":
        print(markdown)
    else:
        out = console()
        out.rule(f"verify {args.env}: {report.bucket} ({report.api_calls} API calls)")
        out.print(scorecard_table(report.findings, out.width, args.verbose))
        # Notes and problems quote names and lists ("[bucketName, region]"): text, never markup.
        for line in report.notes:
            out.print(line, markup=False)
        for line in report.problems:
            out.print(Text.assemble(("FAIL", "red"), " ", line))
    return report.exit_code


def manifests(args: argparse.Namespace) -> int:
    from automation.driver.engine import stack_outputs
    from automation.offline.manifests import read_outputs_file, write_manifests
    from automation.offline.mock_engine import ROOT

    outputs = read_outputs_file(Path(args.outputs)) if args.outputs else stack_outputs(args.env, "manifests")
    out = Path(args.out) if args.out else ROOT / "manifests" / args.env
    written = write_manifests(args.env, out, outputs, force=args.force, include_secrets=args.include_secrets, secret_config=_secret_config)
    if args.json:
        emit_json({"command": "manifests", "env": args.env, "files": [str(path) for path in written]})
    else:
        print(
            f"{len(written)} files in {out}; apply with: "
            f"kubectl apply --server-side --force-conflicts --field-manager=kubeflow-artifact-store -k {out}"
        )
    return 0


def _secret_config(env: str) -> dict[str, str]:
    """The stack's secret config values, decrypted by the CLI (only for --include-secrets)."""
    from automation.driver.engine import real_stack_opener

    stack = real_stack_opener(lambda _: None)(env, False)
    return {key: value.value for key, value in stack.get_all_config().items() if value.secret}


def permissions(args: argparse.Namespace) -> int:
    from automation.offline.permissions import as_text, render
    from automation.stackfiles import settings_for

    rendered = render(args.env, args.role, settings_for(args.env))
    if args.json:
        emit_json({"command": "permissions", **rendered})
    else:
        print(as_text(rendered))
    return 0


def preview_markdown(results: list[dict[str, Any]]) -> str:
    from automation.cli.report import markdown_table

    rows = []
    for r in results:
        changes = ", ".join(f"{n} {op}" for op, n in sorted((r.get("summary") or {}).items()) if op != "same") or "no changes"
        risky = "; ".join(f"{k}: {', '.join(r[k])}" for k in ("replace", "delete", "identitiesRemoved", "policyViolations") if r.get(k))
        rows.append((r["env"], r.get("status", "ok"), changes, risky or r.get("error", "")[:200], len(r.get("notJudgedAtPreview") or [])))
    return (
        "### pulumi preview\n\n"
        + markdown_table(("environment", "status", "changes", "needs attention", "not judged at preview"), rows)
        + "\n"
    )


def checkov(args: argparse.Namespace) -> int:
    """Exit 1 on a failed check that is neither a documented exception nor waived by the
    environment's baseline, or on an exception that passes now (the list must stay true); 2 when
    Checkov is not installed."""
    from automation.offline.check import run_check
    from automation.offline.checkov import CheckovMissingError, run_checkov, waived_checks
    from automation.offline.tfplan import write_terraform_plan

    report = run_check(args.env, warn=lambda line: print(line, file=sys.stderr))
    if args.plan_out:
        write_terraform_plan(report.run, args.plan_out)
    try:
        result = run_checkov(report.run, waived_checks(report.findings))
    except CheckovMissingError as error:
        raise UsageError(str(error)) from None
    rows = [(check, address, *result.why(check, address)) for check, address in result.failed]
    stale = result.stale_exceptions()
    counts = Counter(verdict for *_, verdict, _ in rows)
    summary = f"{len(result.passed)} passed, {counts['excepted']} excepted, {counts['waived']} waived, {counts['FAIL']} failed"
    table = [(v, c, a, w) for c, a, v, w in rows] + [("FAIL", "stale exception", line, "") for line in stale]
    markdown = f"### checkov {args.env}\n\n{summary}\n\n" + markdown_table(("verdict", "check", "resource", "why"), table)
    publish(markdown + "\n")
    if args.json:
        failed = [{"check": c, "resource": a, "verdict": v, "why": w} for c, a, v, w in rows]
        emit_json({"command": "checkov", "env": args.env, "passed": len(result.passed), "failed": failed, "staleExceptions": stale})
    elif args.format == "markdown":
        print(markdown)
    else:
        for check, address, verdict, why in rows:
            print(f"{verdict} {check} {address}" + (f": {why}" if why else ""))
        for line in stale:
            print(f"FAIL stale exception, the check passes now: {line}")
        print(f"{args.env}: {summary}")
    if not result.judged("artifacts"):  # fail closed: no verdict on the artifact bucket is no pass
        print(
            f"{args.env}: checkov reported no result for the artifact bucket (aws_s3_bucket.*artifacts): nothing was judged",
            file=sys.stderr,
        )
        return 1
    return 1 if result.unexpected or stale else 0
