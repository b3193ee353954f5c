"""python -m automation: check, deploy and verify the Kubeflow artifact store,
per environment.

Offline (no cloud): check, checkov, manifests, permissions. Live AWS: verify.
With the Pulumi CLI: preview, up, refresh, repair, destroy, outputs, promote,
pipeline. Exit codes: 0 ok, 1 a check, gate or operation failed, 2 bad
arguments or configuration (nothing was run)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from automation.cli import commands
from automation.cli.report import console, emit_json, markdown_table, publish
from automation.driver import signals
from automation.environments import UnknownEnvironmentError, environment, environments
from automation.errors import OperationError, UsageError
from components.settings import ALLOW_UNKNOWN_REGION, ConfigError

EXAMPLES = {
    "check": "python -m automation check          # every environment\npython -m automation check --env prod --graph mermaid",
    "verify": "python -m automation verify --env prod --format markdown",
    "preview": "python -m automation preview --env staging",
    "up": "python -m automation up --env dev\npython -m automation up --env prod --yes --refresh",
    "repair": "python -m automation repair --env staging",
    "refresh": "python -m automation refresh --env dev",
    "destroy": "python -m automation destroy --env dev --force-empty",
    "manifests": "pulumi stack output --json --stack prod > out.json\n"
    "python -m automation manifests --env prod --outputs out.json --out gitops/prod",
    "permissions": "python -m automation permissions --env prod --for deploy",
    "checkov": "make checkov-setup\npython -m automation checkov --env prod --plan-out prod-plan.json",
    "outputs": "python -m automation outputs --env dev --json",
    "promote": "python -m automation promote --to staging",
    "pipeline": "python -m automation pipeline --preview-only --format markdown\npython -m automation pipeline --through prod --yes",
}


def _width() -> int:
    """The terminal's width; 80 when piped (COLUMNS honoured), as argparse wraps help."""
    return min(shutil.get_terminal_size((80, 24)).columns, 100) - 2


def _conflicts(args: argparse.Namespace) -> str | None:
    """Output options that cannot both hold: one line naming both (exit 2)."""
    fmt, graph = getattr(args, "format", "text"), getattr(args, "graph", None)
    if graph and args.json:
        return f"--graph {graph} and --json: a graph is not JSON; allowed: one of them"
    if graph and fmt == "markdown":
        return f"--graph {graph} and --format markdown: allowed: one of them"
    if fmt == "markdown" and args.json:
        return "--format markdown and --json: allowed: one of them"
    return None


def _parser(env_names: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m automation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else there")
    common.add_argument("--verbose", action="store_true", help="more detail: every resource and finding; full CLI logs on failure")
    common.add_argument(
        "--allow-unknown-region", action="store_true", help="accept an aws:region this release does not know (a new region)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, env: bool = True, env_required: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=textwrap.fill(help_text, _width()),
            epilog="example:\n  " + EXAMPLES[name].replace("\n", "\n  "),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if env:
            # Not argparse `choices`: an unknown name gets the one-line error of environments.py.
            p.add_argument("--env", required=env_required, metavar="ENV", help=f"environment: {', '.join(env_names)}")
        return p

    def report_format(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=("text", "markdown"), default="text", help="markdown: a report for a pull request")

    def gate_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--allow-replace", action="store_true", help="allow replacing or deleting an empty bucket or a KMS key")
        p.add_argument(
            "--allow-profile-changes", action="store_true", help="allow deleting Kubeflow identities (a profile removed, its SA renamed)"
        )
        p.add_argument("--yes", action="store_true", help="confirm an update of a protected environment")
        p.add_argument("--skip-verify", action="store_true", help="do not read the deployment back live (a role that may not read it)")

    p = command("check", "judge the program offline by the security rules (no cloud); every environment without --env", env_required=False)
    report_format(p)
    p.add_argument("--graph", choices=("mermaid", "dot"), help="print the planned resources as a graph instead")
    p = command("verify", "read the deployed buckets, keys and Kubernetes objects and judge them by the same rules")
    p.add_argument("--bucket", help="bucket name, where the stack outputs cannot be read")
    report_format(p)
    report_format(command("preview", "what an update would change, replace or delete, with the policy pack"))
    p = command("up", "update an environment: preflight, preview, gates, update, verify")
    gate_flags(p)
    p.add_argument("--refresh", action="store_true", help="read the live state first: revert manual edits, recreate deleted resources")
    p = command("repair", "after an interrupted update: clear pending operations safely, and say what they were")
    p.add_argument("--yes", action="store_true", help="confirm for a protected environment")
    p = command("refresh", "show drift: what changed outside Pulumi (state is not changed); drift is exit 1")
    p = command("destroy", "remove an unprotected environment")
    p.add_argument("--force-empty", action="store_true", help="delete every object version in the buckets first")
    p.add_argument("--yes", action="store_true", help="confirm")
    p = command("manifests", "write the Kubernetes objects the program applies, as YAML with a kustomization.yaml (GitOps)")
    p.add_argument("--out", help="directory to write (default: manifests/<env>)")
    p.add_argument("--force", action="store_true", help="replace the YAML files of an existing, non-empty directory")
    p.add_argument("--include-secrets", action="store_true", help="static credentials: also write the Secrets holding them")
    p.add_argument("--outputs", help="`pulumi stack output --json` saved to a file, instead of reading the stack")
    p = command("checkov", "Checkov's own checks on what the program would create (offline), against the documented exceptions")
    p.add_argument("--plan-out", help="also keep the Terraform JSON plan Checkov read, for another scanner")
    report_format(p)
    p = command("permissions", "the least-privilege IAM policy and cluster RBAC a role needs for this stack")
    p.add_argument("--for", dest="role", choices=("deploy", "plan", "verify"), default="deploy", help="which role (default: deploy)")
    p = command("outputs", "the stack outputs; secrets shown as [secret]")
    p.add_argument("--show-secrets", action="store_true", help="show secret outputs in plaintext")
    p = command("promote", "update an environment from the one before it: the source must be deployed and show no drift", env=False)
    p.add_argument("--to", required=True, metavar="ENV", help=f"target environment: {', '.join(env_names[1:])}")
    gate_flags(p)
    p = command("pipeline", f"{' -> '.join(env_names)} in order, stopping at the first failure", env=False)
    p.add_argument("--through", metavar="ENV", help="last environment (default: all)")
    p.add_argument("--preview-only", action="store_true", help="preview every environment, in parallel")
    report_format(p)
    gate_flags(p)
    return parser


def _say(args: argparse.Namespace) -> Callable[[str], None]:
    """People read progress on stdout; with --json it goes to stderr so stdout stays one object."""
    stream = sys.stderr if args.json else sys.stdout
    return lambda line: print(line, file=stream, flush=True)


def _driver(args: argparse.Namespace) -> Any:
    from automation.driver.engine import real_stack_opener
    from automation.driver.operations import Driver
    from automation.driver.preflight import Preflight
    from automation.offline.check import offline_rule_failures

    say = _say(args)
    verify = None
    if args.command in ("up", "promote", "pipeline") and not args.skip_verify:
        from automation.driver.engine import stack_outputs
        from automation.live.verify import verify_after_update

        def verify(env: str) -> Any:
            return verify_after_update(env, stack_outputs)
    elif getattr(args, "skip_verify", False):
        print("warning: --skip-verify: the deployment will not be read back live", file=sys.stderr)
    from automation.live.objects import empty_bucket, object_version_count

    preflight = Preflight(rules=offline_rule_failures, warn=lambda line: print(line, file=sys.stderr))
    return Driver(
        real_stack_opener(say),
        say,
        preflight,
        verify=verify,
        object_count=object_version_count,
        empty_bucket=empty_bucket,
        verbose=args.verbose,
        stream=not args.json,
    )


def _operation(args: argparse.Namespace, driver: Any) -> int:
    say = _say(args)
    result: Any
    if args.command == "preview":
        report = driver.preview(args.env)
        result = report.as_dict()
        markdown = commands.preview_markdown([{**result, "status": "ok"}])
        publish(markdown)
        if args.format == "markdown" and not args.json:
            print(markdown)
        elif not args.json:
            say(f"{args.env}: {result['summary']}")
            for op in ("replace", "delete", "identitiesRemoved"):
                for name in result[op]:
                    say(f"  will {op.removesuffix('Removed')}: {name}")
    elif args.command == "up":
        result = driver.up(
            args.env, allow_replace=args.allow_replace, yes=args.yes, allow_profile_changes=args.allow_profile_changes, refresh=args.refresh
        )
    elif args.command == "repair":
        result = driver.repair(args.env, yes=args.yes)
        if not args.json:
            say(f"repair {args.env}: {result['summary']}")
    elif args.command == "refresh":
        drift = driver.refresh(args.env)
        result = {"env": args.env, "drift": drift}
        if not args.json:
            say("no drift" if not drift else "drift:\n  " + "\n  ".join(drift))
        if args.json:
            emit_json(result)
        return 1 if drift else 0
    elif args.command == "outputs":
        result = driver.outputs(args.env, show_secrets=args.show_secrets)
        if not args.json:
            for key, value in sorted(result.items()):
                say(f"{key}: {value}")
    elif args.command == "destroy":
        result = driver.destroy(args.env, args.force_empty)
    elif args.command == "promote":
        result = driver.promote(args.to, allow_replace=args.allow_replace, yes=args.yes, allow_profile_changes=args.allow_profile_changes)
        if result.get("verify") == "skipped" and not args.json:
            say("warning: live verification skipped")
    else:
        try:
            result = driver.pipeline(
                args.through,
                preview_only=args.preview_only,
                yes=args.yes,
                allow_replace=args.allow_replace,
                allow_profile_changes=args.allow_profile_changes,
            )
        finally:
            if not args.json and not args.preview_only and getattr(driver, "pipeline_results", None):
                _pipeline_table(driver.pipeline_results)
        if args.preview_only:
            markdown = commands.preview_markdown(result)
            publish(markdown)
            if args.json:
                emit_json({"command": "pipeline", "results": result})
            elif args.format == "markdown":
                print(markdown)
            else:
                _pipeline_table(result)
            return 1 if any(r.get("status") == "failed" for r in result) else 0
    if args.json:
        emit_json({"command": args.command, "result": result})
    elif args.command not in ("preview", "outputs"):
        say(f"{args.command}: done")
    return 0


def _pipeline_table(results: list[dict[str, Any]]) -> None:
    rows = [
        (
            r["env"],
            r.get("status", "ok"),
            ", ".join(f"{n} {op}" for op, n in sorted((r.get("summary") or {}).items()) if op != "same") or "-",
            f"{r['seconds']} s" if "seconds" in r else "-",
            r.get("verify", "-"),
        )
        for r in results
    ]
    console().print(markdown_table(("environment", "status", "changes", "duration", "verify"), rows), markup=False)


def main(argv: Sequence[str] | None = None, driver: Any = None) -> int:
    try:
        env_names = [e.name for e in environments()]
    except ConfigError as error:  # environments.yaml itself is wrong: nothing can run
        print(f"error: {error}", file=sys.stderr)
        return 2
    args = _parser(env_names).parse_args(argv)
    conflict = _conflicts(args)
    if conflict:
        print(f"error: {conflict}", file=sys.stderr)
        return 2
    if args.allow_unknown_region:
        os.environ[ALLOW_UNKNOWN_REGION] = "1"  # the settings here, and the program the CLI runs
    signals.install()  # SIGTERM/Ctrl-C reach a running `pulumi`, and are waited for
    active = driver
    try:
        if args.command == "check":
            return commands.check(args, env_names)
        if args.command == "verify":
            return commands.verify(args)
        if args.command == "manifests":
            return commands.manifests(args)
        if args.command == "permissions":
            return commands.permissions(args)
        if args.command == "checkov":
            return commands.checkov(args)
        for name in (getattr(args, "env", None), getattr(args, "to", None), getattr(args, "through", None)):
            if name:
                environment(name)  # an unknown name: one line, exit 2, before the CLI is looked for
        active = active or _driver(args)
        return _operation(args, active)
    except (ConfigError, UnknownEnvironmentError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OperationError as error:
        if signals.interrupted:  # the CLI was cancelled by our forwarded signal: say so, not its error
            _interrupted(args, active)
            return 1
        failures = getattr(error, "failures", None)
        if failures is not None and getattr(args, "json", False):
            emit_json({"command": args.command, "error": str(error), "verifyFailures": failures, "exitCode": 1})
        print(f"failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _interrupted(args, active)
        return 1


def _interrupted(args: argparse.Namespace, active: Any) -> None:
    where = getattr(active, "current_env", None) or getattr(args, "env", None) or "no environment"
    waited = " (pulumi was asked to cancel and has exited)" if signals.interrupted else ""
    print(
        f"interrupted during {args.command} of {where}{waited}; if an update was running, "
        f"check `pulumi stack --stack <env>` and run `python -m automation repair --env <env>` if it left pending operations",
        file=sys.stderr,
    )
