"""`python -m automation COMMAND`: argument parsing, output and exit codes (0 ok, 1 failed, 2 usage).

Commands import what they need when they run, so `check` never loads boto3 or the
Automation API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from components.settings import ConfigError

from . import signals
from .environments import UnknownEnvironmentError, environments
from .errors import OperationError, UsageError
from .report import emit_json, scorecard, summary_line, table


def _parser(env_names: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m automation", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else there")
    common.add_argument("--verbose", action="store_true", help="full CLI logs on failure")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, env: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        if env:
            p.add_argument("--env", required=True, help=f"environment: {', '.join(env_names)}")
        return p

    command("check", "offline: run the program under mocks and judge it by the security rules")
    p = command("verify", "live: read the deployed bucket and key with boto3 and judge them by the same rules")
    p.add_argument("--bucket", help="bucket name, where the stack outputs cannot be read")
    command("preview", "pulumi preview with the policy pack; change summary, replacements and deletions")

    def gate_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--allow-replace", action="store_true", help="allow replacing or deleting an empty bucket or a KMS key")
        p.add_argument(
            "--allow-profile-changes", action="store_true", help="allow deleting Kubeflow identities (a profile removed, its SA renamed)"
        )
        p.add_argument("--yes", action="store_true", help="confirm an update of a protected environment")

    p = command("up", "preview, gates, then update")
    gate_flags(p)
    p.add_argument("--refresh", action="store_true", help="read the live state first: revert manual edits, recreate deleted resources")
    p = command("repair", "after an interrupted update: clear pending operations safely, and say what they were")
    p.add_argument("--yes", action="store_true", help="confirm for a protected environment")
    p = command("refresh", "drift detection (state is not changed)")
    p.add_argument("--expect-no-changes", action="store_true", help="exit 1 on drift (the default; kept for CI scripts)")
    p = command("destroy", "destroy an unprotected environment")
    p.add_argument("--force-empty", action="store_true", help="delete every object version in the bucket first")
    p.add_argument("--yes", action="store_true", help="confirm")
    p = command("manifests", "write the Kubernetes objects the program applies, as YAML with a kustomization.yaml (GitOps)")
    p.add_argument("--out", help="directory to write (default: manifests/<env>)")
    p.add_argument("--force", action="store_true", help="replace the YAML files of an existing, non-empty directory")
    p.add_argument("--include-secrets", action="store_true", help="static credentials: also write the Secrets holding them")
    p.add_argument("--outputs", help="`pulumi stack output --json` saved to a file, instead of reading the stack")
    p = command("permissions", "the least-privilege IAM policy and cluster RBAC a role needs for this stack")
    p.add_argument("--for", dest="role", choices=("deploy", "plan", "verify"), default="deploy", help="which role (default: deploy)")
    p = command("outputs", "the stack outputs; secrets shown as [secret]")
    p.add_argument("--show-secrets", action="store_true", help="show secret outputs in plaintext")
    p = command("promote", "update an environment from the one before it, behind the gates", env=False)
    p.add_argument("--to", required=True, choices=env_names[1:])
    gate_flags(p)
    p = command("pipeline", "dev -> staging -> prod in order, stopping at the first failure", env=False)
    p.add_argument("--through", choices=env_names, help="last environment (default: all)")
    p.add_argument("--preview-only", action="store_true", help="preview every environment, in parallel")
    gate_flags(p)
    return parser


def _say(args: argparse.Namespace) -> Callable[[str], None]:
    """People read progress on stdout; with --json it goes to stderr so stdout stays one object."""
    stream = sys.stderr if args.json else sys.stdout
    return lambda line: print(line, file=stream, flush=True)


def _check(args: argparse.Namespace) -> int:
    from .check import run_check

    report = run_check(args.env, warn=lambda line: print(line, file=sys.stderr))
    if args.json:
        emit_json(report.as_dict())
    else:
        inventory = report.inventory()
        print(f"{len(inventory)} resources in stack {args.env} (mock engine)\n")
        print(table([(r["type"], r["name"], r["parent"]) for r in inventory], ("type", "name", "parent")))
        print(f"\nscorecard: {summary_line(report.findings)}\n")
        print(scorecard(report.findings))
    return report.exit_code


def _verify(args: argparse.Namespace) -> int:
    from .verify import run_verify

    report = run_verify(args.env, args.bucket, _say(args))
    if args.json:
        emit_json(report.as_dict())
    else:
        print(f"live verification of {report.bucket} ({report.api_calls} API calls)\n")
        print(scorecard(report.findings))
        for line in report.notes:
            print(line)
        for line in report.problems:
            print(f"FAIL {line}")
    return report.exit_code


def _manifests(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .engine import stack_outputs
    from .manifests import read_outputs_file, write_manifests
    from .offline import ROOT

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


def _permissions(args: argparse.Namespace) -> int:
    from .permissions import as_text, render
    from .stackfiles import settings_for

    rendered = render(args.env, args.role, settings_for(args.env))
    if args.json:
        emit_json({"command": "permissions", **rendered})
    else:
        print(as_text(rendered))
    return 0


def _secret_config(env: str) -> dict[str, str]:
    """The stack's secret config values, decrypted by the CLI (only for --include-secrets)."""
    from .engine import real_stack_opener

    stack = real_stack_opener(lambda _: None)(env, False)
    return {key: value.value for key, value in stack.get_all_config().items() if value.secret}


def _driver(args: argparse.Namespace) -> Any:
    from .engine import real_stack_opener
    from .operations import Driver
    from .preflight import Preflight, offline_rule_failures

    say = _say(args)
    verify = None
    if args.command in ("up", "promote", "pipeline"):
        from .verify import verify_exit_code

        verify = verify_exit_code
    from .objects import empty_bucket, object_version_count

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
        if not args.json:
            say(f"{args.env}: {result['summary']}")
            for op in ("replace", "delete"):
                for name in result[op]:
                    say(f"  will {op}: {name}")
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
    else:
        result = driver.pipeline(
            args.through,
            preview_only=args.preview_only,
            yes=args.yes,
            allow_replace=args.allow_replace,
            allow_profile_changes=args.allow_profile_changes,
        )
        if args.preview_only and any(r.get("status") == "failed" for r in result):
            emit_json({"command": "pipeline", "results": result}) if args.json else say(str(result))
            return 1
    if args.json:
        emit_json({"command": args.command, "result": result})
    elif args.command not in ("preview", "outputs"):
        say(f"{args.command}: done")
    return 0


def main(argv: Sequence[str] | None = None, driver: Any = None) -> int:
    try:
        env_names = [e.name for e in environments()]
    except ConfigError as error:  # environments.yaml itself is wrong: nothing can run
        print(f"error: {error}", file=sys.stderr)
        return 2
    args = _parser(env_names).parse_args(argv)
    signals.install()  # SIGTERM/Ctrl-C reach a running `pulumi`, and are waited for
    active = driver
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "verify":
            return _verify(args)
        if args.command == "manifests":
            return _manifests(args)
        if args.command == "permissions":
            return _permissions(args)
        active = active or _driver(args)
        return _operation(args, active)
    except (ConfigError, UnknownEnvironmentError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OperationError as error:
        if signals.interrupted:  # the CLI was cancelled by our forwarded signal: say so, not its error
            _interrupted(args, active)
            return 1
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
