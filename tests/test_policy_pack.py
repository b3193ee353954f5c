"""The policy pack another project can use: `make policy-pack` writes a directory with the entry
point, a PulumiPolicy.yaml with its own virtualenv, the rules as this project's wheel (installed by
its requirements.txt) and the config schema generated from the control table. Nothing in it reaches
back into this repository."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import yaml

from automation.environments import ROOT
from automation.offline.policy_pack import build, config_schema
from rules.controls import CONTROLS


def test_the_pack_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "policy-pack"
    names = {p.name for p in build(out)}
    (wheel,) = [n for n in names if n.endswith(".whl")]
    assert names == {"__main__.py", "PulumiPolicy.yaml", "requirements.txt", "config-schema.json", wheel}
    assert yaml.safe_load((out / "PulumiPolicy.yaml").read_text())["runtime"]["options"]["virtualenv"] == "venv"
    assert f"./{wheel}" in (out / "requirements.txt").read_text().splitlines()
    for path in out.iterdir():
        if path.suffix != ".whl":
            assert "../" not in path.read_text() and "sys.path" not in path.read_text(), path.name
    contents = zipfile.ZipFile(out / wheel).namelist()
    assert {"rules/crossguard.py", "rules/matrix.py", "components/names.py", "components/releases.py"} <= set(contents)
    requires = next(n for n in contents if n.endswith("METADATA"))
    assert "Requires-Dist: pulumi-policy" in zipfile.ZipFile(out / wheel).read(requires).decode()


def test_the_rules_load_from_the_wheel_alone(tmp_path: Path) -> None:
    """The pack's policies, imported from the wheel's files only (not this checkout)."""
    out = tmp_path / "policy-pack"
    build(out)
    site = tmp_path / "site"
    zipfile.ZipFile(next(out.glob("*.whl"))).extractall(site)
    script = (
        "import sys\n"
        f"sys.path = [{str(site)!r}] + [p for p in sys.path if p and (not p.startswith({str(ROOT)!r}) or 'site-packages' in p)]\n"
        "sys.meta_path = [f for f in sys.meta_path if 'editable' not in type(f).__name__.lower() and 'editable' not in repr(f).lower()]\n"
        "import rules.crossguard as c\n"
        "policies = c.stack_policies()\n"
        "print(c.__file__, len(policies))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=out, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    where, count = done.stdout.split()
    assert where.startswith(str(site)) and int(count) == len(CONTROLS) + 2  # every control, kf-advisory, kf-not-judged


def test_the_config_schema_is_the_control_tables(tmp_path: Path) -> None:
    out = tmp_path / "policy-pack"
    build(out)
    schema = json.loads((out / "config-schema.json").read_text())
    assert schema == json.loads(json.dumps(config_schema()))
    good = {
        "requireKms": True,
        "controlLevels": {"KF-S3-12": "advisory"},
        "exceptions": [{"control": "KF-S3-13", "resource": "x", "reason": "y"}],
    }
    jsonschema.validate(good, schema)
    bad = {"controlLevels": {"KF-NOPE": "advisory"}}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))
