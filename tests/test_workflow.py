"""The example workflow runs as is: every variable and secret it reads is documented in its header,
Python is the project's, each environment's secret is used by that environment's job only, the
region comes from the stack file, tests run once without cloud credentials, and the previews run
`make check` and `preview` only. (No GitHub runner here: the file is checked, not run.)"""

from __future__ import annotations

import re

import yaml

from automation.offline.mock_engine import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "promote.yml"
TEXT = WORKFLOW.read_text()
DOCUMENT = yaml.safe_load(TEXT)
HEADER = "\n".join(line for line in TEXT.splitlines() if line.startswith("#"))


def _references() -> set[str]:
    """Every `vars.X`/`secrets.X`, and every name the matrix hands to `vars[...]`/`secrets[...]`."""
    found = set(re.findall(r"\b(?:vars|secrets)\.([A-Z_][A-Z0-9_]*)", TEXT))
    for job in DOCUMENT["jobs"].values():
        for entry in ((job.get("strategy") or {}).get("matrix") or {}).get("include", []):
            found |= {value for key, value in entry.items() if key in ("role", "cluster", "passphrase") and value}
    return found


def test_every_variable_and_secret_is_documented_in_the_header() -> None:
    references = _references()
    assert {"PULUMI_BACKEND_URL", "DEPLOY_ROLE_ARN", "EKS_CLUSTER", "PLAN_ROLE_ARN_PROD", "PULUMI_CONFIG_PASSPHRASE_DEV"} <= references
    undocumented = {name for name in references if not re.search(rf"^#\s+(?:variable |secret )?{name}\b", HEADER, re.M)}
    assert undocumented == set()


def test_python_is_the_projects_and_every_job_sets_it_up() -> None:
    required = re.search(r'requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    for name, job in DOCUMENT["jobs"].items():
        setups = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/setup-python")]
        assert setups and setups[0]["with"]["python-version"] == required, name


def test_each_environment_uses_its_own_secret_only() -> None:
    for name, job in DOCUMENT["jobs"].items():
        text = yaml.safe_dump(job)
        if "environment" in job:  # an environment's job reads that environment's secret, by its plain name
            assert not re.search(r"PULUMI_CONFIG_PASSPHRASE_[A-Z]+", text), name
    assert "PULUMI_CONFIG_PASSPHRASE_STAGING" not in yaml.safe_dump(DOCUMENT["jobs"]["promote-prod"])


def test_the_region_comes_from_the_stack_file() -> None:
    regions = [
        s["with"]["aws-region"]
        for job in DOCUMENT["jobs"].values()
        for s in job["steps"]
        if "configure-aws-credentials" in str(s.get("uses"))
    ]
    assert regions and set(regions) == {"${{ env.AWS_REGION }}"}
    assert TEXT.count("['config']['aws:region']") >= 4


def test_tests_run_once_without_cloud_credentials_and_plans_only_check_and_preview() -> None:
    jobs = DOCUMENT["jobs"]
    runs = {name: [str(s.get("run", "")) for s in job["steps"]] for name, job in jobs.items()}
    assert [name for name, commands in runs.items() if "make test" in commands] == ["test"]
    assert not [s for s in jobs["test"]["steps"] if "configure-aws-credentials" in str(s.get("uses"))]
    automation = [c for c in runs["plan"] if "automation" in c or c.startswith("make")]
    assert automation == ["make check", automation[1]] and " preview " in automation[1]


def test_no_removed_option_is_used() -> None:
    assert "--expect-no-changes" not in TEXT
