"""`checkov --env E`: Checkov's own checks on what the program would create, through the Terraform
plan of `tfplan.py`, compared with the documented exceptions below.

Checkov runs as a separate program (`.venv-checkov`, `make checkov-setup`): its pinned
dependencies would fight the program's. `--skip-download` keeps it offline."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from automation.offline.mock_engine import ROOT, MockRun
from automation.offline.tfplan import write_terraform_plan
from rules import WAIVED, Finding

CHECKOV = Path(os.environ.get("CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))

# The checks that fail on purpose, per bucket (by the end of its Terraform name), and why. Every
# other failed check fails `checkov`; an exception that no longer fails is reported too.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("access_logs", "CKV_AWS_145"): "S3 delivers server access logs only to a bucket encrypted with SSE-S3",
    ("access_logs", "CKV_AWS_144"): "the log bucket is not replicated; the artifacts it describes are",
    ("access_logs", "CKV2_AWS_62"): "a notification per log delivery would be noise about the logs themselves",
}


@dataclass(frozen=True)
class CheckovResult:
    passed: list[tuple[str, str]]  # (check id, Terraform address)
    failed: list[tuple[str, str]]
    # Checkov ids of controls this environment does not require (its baseline waives them, e.g.
    # logging in dev): taken from the rules' own findings, so both agree on what is optional.
    waived: dict[str, str] = field(default_factory=dict)  # check id -> control id

    def exception_for(self, check: str, address: str) -> str | None:
        name = address.split(".", 1)[1]
        return next((why for (suffix, check_id), why in EXCEPTIONS.items() if check_id == check and name.endswith(suffix)), None)

    def why(self, check: str, address: str) -> tuple[str, str]:
        """("excepted", reason) | ("waived", control) | ("FAIL", "") for a failed check."""
        if reason := self.exception_for(check, address):
            return "excepted", reason
        if check in self.waived:
            return "waived", f"not required in this environment ({self.waived[check]})"
        return "FAIL", ""

    @property
    def unexpected(self) -> list[tuple[str, str]]:
        return [(c, a) for c, a in self.failed if self.why(c, a)[0] == "FAIL"]

    def judged(self, suffix: str) -> bool:
        """Did Checkov report anything (passed or failed) for a bucket whose name ends so?"""
        return any(a.startswith("aws_s3_bucket.") and a.endswith(suffix) for _, a in self.passed + self.failed)

    def stale_exceptions(self) -> list[str]:
        """Exceptions for a check that now passes on their bucket: the list would overstate the gaps."""
        return [f"{c} {a}: {self.exception_for(c, a)}" for c, a in self.passed if self.exception_for(c, a)]


def waived_checks(findings: list[Finding]) -> dict[str, str]:
    """Checkov id -> our control, for each control the environment's baseline waives."""
    return {benchmark: f.control for f in findings if f.verdict == WAIVED for benchmark in f.benchmarks}


class CheckovMissingError(RuntimeError):
    pass


def run_checkov(run: MockRun, waived: dict[str, str] | None = None) -> CheckovResult:
    with tempfile.TemporaryDirectory() as folder:
        plan = os.path.join(folder, "plan.json")
        write_terraform_plan(run, plan)
        return checkov_plan(plan, waived)


def checkov_plan(plan: str, waived: dict[str, str] | None = None) -> CheckovResult:
    """Checkov on a Terraform JSON plan file, offline."""
    if not CHECKOV.exists():
        raise CheckovMissingError(f"checkov: not installed at {CHECKOV}; allowed: `make checkov-setup` installs it (or set CHECKOV)")
    result = subprocess.run(
        [str(CHECKOV), "-f", plan, "--framework", "terraform_plan", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode not in (0, 1):  # 1: some check failed; anything else: checkov itself failed
        raise RuntimeError(f"checkov: exit {result.returncode}: {result.stderr.strip().splitlines()[-1:]}")
    results = json.loads(result.stdout).get("results", {})
    return CheckovResult(
        passed=sorted((c["check_id"], c["resource"]) for c in results.get("passed_checks", [])),
        failed=sorted(((c["check_id"], c["resource"]) for c in results.get("failed_checks", [])), key=lambda x: (x[1], x[0])),
        waived=waived or {},
    )
