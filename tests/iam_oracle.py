"""The independent evaluator: @cloud-copilot/iam-simulate (npm, pinned in tools/iam-simulate,
installed by `make test` with `npm ci`), run once per batch of rows through tools/iam-simulate/
oracle.mjs. Each row is handed over as the simulator's own `Simulation` (its README, "Usage"):
the same request, context keys and policies the project's evaluator judged."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rules.matrix import Row
from rules.policy_eval import ANONYMOUS

TOOL = Path(__file__).resolve().parent.parent / "tools" / "iam-simulate"


def available() -> str | None:
    """Why the oracle cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (README: prerequisites)"
    if not (TOOL / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        return "tools/iam-simulate is not installed: run `make test` (npm ci)"
    return None


def require() -> None:
    reason = available()
    if reason:
        pytest.skip(reason)


def simulation(row: Row) -> dict[str, Any]:
    r = row.request
    return {
        "request": {
            "principal": {"type": "Anonymous"} if r.principal == ANONYMOUS else r.principal,
            "action": r.action,
            "resource": {"resource": r.resource, "accountId": r.resource_account},
            "contextVariables": dict(r.context),
        },
        "identityPolicies": [{"name": f"policy{i}", "policy": p} for i, p in enumerate(row.identity_policies)],
        "resourcePolicy": row.resource_policy,
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }


def verdicts(rows: list[Row]) -> list[str]:
    """The simulator's overall result for each row, in order."""
    payload = json.dumps([simulation(row) for row in rows])
    done = subprocess.run(["node", str(TOOL / "oracle.mjs")], input=payload, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"iam-simulate failed: {done.stderr.strip()[:2000]}")
    return json.loads(done.stdout)
