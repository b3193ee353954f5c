"""`python -m bench`: what planning, checking and deploying cost; prints a table, writes bench/results.json."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from automation.offline.mock_engine import MockRun, run_program  # noqa: E402
from automation.stackfiles import read_stack_config  # noqa: E402

RUNS = 7
FLOOR_IMPORTS = "import pulumi, pulumi_aws.s3, pulumi_aws.kms, pulumi_aws.iam, pulumi_kubernetes.core.v1"
OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789"


def _interleaved_medians(commands: dict[str, list[str]]) -> dict[str, float]:
    """Median wall time of each command, run in rounds (a, b, c, a, b, c, ...): this machine's speed
    drifts by 10-20% over a minute, and a ratio of two medians taken minutes apart carries it."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(RUNS):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def sdk_classes_floor() -> str:
    """Python that loads exactly the SDK classes the three stacks register. The SDKs load each
    resource class (and its large input modules) lazily on first use, so importing the packages
    alone does not pay for them; any program creating these resources does."""
    from automation.offline.check import run_check

    types = {r.type for env in ("dev", "staging", "prod") for r in run_check(env).run.resources}
    classes = []
    for token in sorted(types):
        package, module, name = token.split(":")
        if package == "aws":
            classes.append(f"pulumi_aws.{module.split('/')[0]}.{name}")
        elif package == "kubernetes":
            classes.append(f"pulumi_kubernetes.{module.replace('/', '.')}.{name}")
        elif package == "random":
            classes.append(f"pulumi_random.{name}")
        elif token == "pulumi:providers:aws":
            classes.append("pulumi_aws.Provider")
    return "import pulumi, pulumi.runtime.mocks, pulumi_aws, pulumi_kubernetes, pulumi_random\n" + "\n".join(classes)


def floor_vs_check() -> list[dict[str, Any]]:
    envs = ("dev", "staging", "prod")
    medians = _interleaved_medians(
        {
            "floor": [sys.executable, "-c", FLOOR_IMPORTS],
            "classes": [sys.executable, "-c", sdk_classes_floor()],
            **{env: [sys.executable, "-m", "automation", "check", "--env", env] for env in envs},
            "all": [sys.executable, "-m", "automation", "check"],  # what `make check` runs
        }
    )
    floor, class_floor = medians["floor"], medians["classes"]
    rows = [
        {"measure": "import floor (pulumi, aws, k8s modules)", "value": round(floor, 3), "unit": "s"},
        {
            "measure": "SDK floor (pulumi, pulumi_aws, pulumi_kubernetes, pulumi_random and the resource classes the stacks register)",
            "value": round(class_floor, 3),
            "unit": "s",
            "classes": sdk_classes_floor().count("\n"),
        },
    ]
    for env in envs:
        ratio = medians[env] / class_floor
        rows.append(
            {
                "measure": f"check --env {env}",
                "value": round(medians[env], 3),
                "unit": "s",
                "ratio": round(ratio, 2),
                "vsModuleFloor": round(medians[env] / floor, 2),
                "target": "ratio to the SDK floor <= 1.5",
                "met": ratio <= 1.5,
            }
        )
    seconds = medians["all"]
    ratio = seconds / class_floor
    rows.append(
        {
            "measure": "check, every environment in one process (make check)",
            "value": round(seconds, 3),
            "unit": "s",
            "ratio": round(ratio, 2),
            "vsModuleFloor": round(seconds / floor, 2),
            "target": "ratio to the SDK floor <= 1.5",
            "met": ratio <= 1.5,
        }
    )
    return rows


def _levels(run: MockRun) -> tuple[int, int]:
    """Longest dependency chain and widest level among custom resources (parents count as edges,
    since a child waits for nothing of a component; dependencies are what the engine waits for)."""
    custom = {r.urn: r for r in run.resources if r.custom}
    depth: dict[str, int] = {}

    def level(urn: str) -> int:
        if urn not in depth:
            deps = [d for d in custom[urn].dependencies if d in custom]
            depth[urn] = 1 + max((level(d) for d in deps), default=0)
        return depth[urn]

    for urn in custom:
        level(urn)
    widths: dict[int, int] = {}
    for value in depth.values():
        widths[value] = widths.get(value, 0) + 1
    return max(depth.values()), max(widths.values())


def _profiles(count: int) -> MockRun:
    config = {
        "aws:region": "us-east-1",
        "kubeflow-artifact-store:eksOidcProviderArn": OIDC,
        "kubeflow-artifact-store:encryption": "sse-kms",
        "kubeflow-artifact-store:accessLogging": True,
        "kubeflow-artifact-store:profileNamespaces": [f"team-{i:03d}" for i in range(count)],
        "kubeflow-artifact-store:profileIsolation": True,
    }
    return run_program("bench", config)


def _evaluate(run: MockRun, count: int) -> int:
    """The rules over the run, as `check` does: every control, isolation and wiring included."""
    from automation.offline.check import resources_of
    from rules import Expectations, evaluate
    from rules.from_resources import snapshot_from_resources

    namespaces = tuple(f"team-{i:03d}" for i in range(count))
    expectations = Expectations(
        require_kms=True, isolated_namespaces=namespaces, wired_namespaces=("kubeflow", *namespaces), read_legacy_prefix=True
    )
    findings = evaluate(snapshot_from_resources(resources_of(run)), expectations)
    failed = [f for f in findings if f.verdict == "fail"]
    assert not failed, failed[:3]
    return len(findings)


def scale() -> list[dict[str, Any]]:
    rows = []
    _profiles(0)  # warm-up: imports and first-run costs are not the program's
    for count in (0, 10, 100, 500):
        # Timed without tracemalloc (it doubles Python's run time); memory is the process's peak RSS so far.
        started = time.perf_counter()
        run = _profiles(count)
        findings = _evaluate(run, count)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        levels, width = _levels(run)
        row = {
            "measure": f"program + rules (request matrix included), {count} isolated profile namespaces",
            "value": round(seconds, 2),
            "unit": "s",
            "resources": len(run.resources),
            "findings": findings,
            "peakRssMiB": round(peak, 1),
            "levels": levels,
            "widest": width,
            "perNamespaceMs": round(1000 * seconds / count, 2) if count else None,
        }
        if count == 500:
            row.update(target="<= 10 s and <= 5 levels", met=seconds <= 10 and levels <= 5)
        rows.append(row)
    return rows


def request_matrix() -> list[dict[str, Any]]:
    """Every row of the three stacks' request matrices, judged by the project's evaluator (what
    `make check` adds) and by @cloud-copilot/iam-simulate (what the differential test adds)."""
    from automation.environments import environment
    from automation.offline.check import resources_of, run_check
    from automation.stackfiles import expectations_for, settings_for
    from rules.from_resources import snapshot_from_resources
    from rules.matrix import rows as matrix_rows
    from tests import iam_oracle

    matrices = []
    for env in ("dev", "staging", "prod"):
        snapshot = snapshot_from_resources(resources_of(run_check(env).run))
        matrices.append(matrix_rows(snapshot, expectations_for(settings_for(env), environment(env))))
    every = [row for matrix in matrices for row in matrix]
    started = time.perf_counter()
    for row in every:
        row.judge()
    ours = time.perf_counter() - started
    found = [
        {
            "measure": f"request matrix, {len(every)} rows of dev, staging, prod: our evaluator",
            "value": round(ours * 1000, 1),
            "unit": "ms",
            "target": "adds <= 1 s to make check",
            "met": ours <= 1.0,
        },
    ]
    if iam_oracle.available() is None:
        started = time.perf_counter()
        iam_oracle.verdicts(every)
        found.append(
            {
                "measure": f"request matrix, {len(every)} rows: @cloud-copilot/iam-simulate (one node process)",
                "value": round(time.perf_counter() - started, 2),
                "unit": "s",
            }
        )
    return found


def critical_path() -> list[dict[str, Any]]:
    rows = []
    for env in ("dev", "staging", "prod"):
        config, secrets = read_stack_config(env)
        levels, width = _levels(run_program(env, config, secrets))
        rows.append(
            {
                "measure": f"critical path {env}",
                "value": levels,
                "unit": "levels",
                "widest": width,
                "target": "<= 5 levels",
                "met": levels <= 5,
            }
        )
    return rows


def parallel_previews() -> list[dict[str, Any]]:
    from tests.test_driver import Harness

    world = Harness()
    world.delay = 1.0
    rows = []
    for label, workers in (("sequential", 1), ("parallel", 3)):
        driver = world.driver()
        driver.workers = workers
        started = time.perf_counter()
        driver.pipeline(preview_only=True)
        seconds = time.perf_counter() - started
        row: dict[str, Any] = {"measure": f"3 previews of 1 s, {label}", "value": round(seconds, 2), "unit": "s"}
        if workers > 1:
            row.update(target="<= 1.3 s", met=seconds <= 1.3)
        rows.append(row)
    return rows


def live_verify() -> list[dict[str, Any]]:
    """Runs the moto-backed verify test with timing output, and reads its API-call figure."""
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-s",
            "tests/test_verify_moto.py::test_compliant_deployment_passes",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_REPORT": "1"},
    )
    seconds = time.perf_counter() - started
    calls = next((int(line.split("=")[1]) for line in result.stdout.splitlines() if line.startswith("API_CALLS=")), -1)
    return [
        {
            "measure": "live verify against moto (prod, incl. server start)",
            "value": round(seconds, 2),
            "unit": "s",
            "apiCalls": calls,
            "target": "<= 50 calls (4 buckets, 2 keys, the replication role)",
            "met": 0 <= calls <= 50,
        }
    ]


def test_suite() -> list[dict[str, Any]]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True)
    seconds = time.perf_counter() - started
    return [
        {"measure": "whole test suite (pytest -n 2)", "value": round(seconds, 1), "unit": "s", "target": "<= 90 s", "met": seconds <= 90}
    ]


def main() -> int:
    sections: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = [
        ("floor", floor_vs_check),
        ("scale", scale),
        ("request matrix", request_matrix),
        ("critical path", critical_path),
        ("previews", parallel_previews),
        ("verify", live_verify),
        ("tests", test_suite),
    ]
    rows: list[dict[str, Any]] = []
    for name, section in sections:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(section())
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    (ROOT / "bench" / "results.json").write_text(json.dumps({"machine": machine, "runs": RUNS, "rows": rows}, indent=2) + "\n")
    print(f"machine: {machine}; subprocess timings are medians of {RUNS} interleaved rounds\n")
    print("| measure | value | details | target | met |\n|---|---|---|---|---|")
    for row in rows:
        details = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("measure", "value", "unit", "target", "met") and v is not None)
        met = {True: "yes", False: "**no**"}.get(row.get("met"), "")
        print(f"| {row['measure']} | {row['value']} {row['unit']} | {details} | {row.get('target', '')} | {met} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
