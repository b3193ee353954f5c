"""Shared fixtures: stack configs for the mock engine, and a moto server on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from automation.offline.mock_engine import MockRun, run_program

NS = "kubeflow-artifact-store"
OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789"


# What HardenedBucket puts around a bucket: one resource per concern.
BUCKET_HARDENING = frozenset(
    {
        "BucketPublicAccessBlock",
        "BucketOwnershipControls",
        "BucketServerSideEncryptionConfiguration",
        "BucketPolicy",
        "BucketVersioning",
        "BucketLifecycleConfiguration",
    }
)


def config(**keys: Any) -> dict[str, Any]:
    """A valid IRSA config in us-east-1, with project keys given as keyword arguments."""
    base = {"aws:region": keys.pop("region", "us-east-1"), f"{NS}:eksOidcProviderArn": OIDC}
    base.update({f"{NS}:{key}": value for key, value in keys.items()})
    return base


def run(stack: str = "dev", secret_keys: frozenset[str] = frozenset(), **keys: Any) -> MockRun:
    return run_program(stack, config(**keys), secret_keys)


def project_copy(tmp_path: Path) -> Path:
    """The program, rules and driver with their stack files and environments.yaml, outside the repository."""
    from automation.offline.mock_engine import ROOT

    target = tmp_path / "project"
    shutil.copytree(
        ROOT, target, ignore=shutil.ignore_patterns(".venv*", ".git", "__pycache__", ".pulumi-state", "bench", "tests", "manifests")
    )
    return target


def cli_in(copy: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m automation ARGS` run in a project copy."""
    return subprocess.run([sys.executable, "-m", "automation", *args], cwd=copy, capture_output=True, text=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's real HTTP S3/KMS API on 127.0.0.1 and a free port; stopped after the session."""
    yield from start_moto()


def start_moto(env: dict[str, str] | None = None) -> Iterator[str]:
    """A moto server process on loopback; `env` e.g. INITIAL_NO_AUTH_ACTION_COUNT to enforce IAM."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("moto server did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def aws_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    # Never ask the instance metadata service (a link-local address) when a test removes credentials.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return moto_server


def documentation() -> str:
    """The README and the pages under docs/: every promise the project writes down."""
    from automation.offline.mock_engine import ROOT

    return "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
