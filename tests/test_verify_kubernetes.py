"""verify's Kubernetes half against tests/kube_api_stub.py (recorded API responses; no cluster here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.kube_verify import check_kubernetes
from components.settings import load_settings
from tests.conftest import NS, config
from tests.kube_api_stub import kube_api, secret, status

SECRET = "mlpipeline-minio-artifact"


def path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/secrets/{SECRET}"


@pytest.fixture
def settings():
    return load_settings("dev", {**config(profileNamespaces=["team-a", "team-b", "team-c"]), "kubernetes:context": "stub-ctx"})


def test_every_namespace_is_read_and_each_error_is_one_line(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    routes = {
        path("kubeflow"): (200, secret("kubeflow", SECRET, ["accesskey", "secretkey", "bucketName"])),
        path("team-a"): (200, secret("team-a", SECRET, ["accesskey"])),
        path("team-b"): (403, status(403, "Forbidden", f'secrets "{SECRET}" is forbidden: User "ci" cannot get resource')),
    }  # team-c: the API server's 404
    with kube_api(routes, kubeconfig, "stub-ctx") as seen:
        report = check_kubernetes(settings)
    assert seen == [path(ns) for ns in ("kubeflow", "team-a", "team-b", "team-c")]
    assert report.notes == [f"kubernetes: Secret kubeflow/{SECRET} has its keys"]
    assert report.problems == [
        f"kubernetes: Secret team-a/{SECRET} lacks keys secretkey, bucketName",
        f"kubernetes: Secret team-b/{SECRET}: 403 Forbidden",
        f"kubernetes: Secret team-c/{SECRET}: 404 Not Found",
    ]
    assert all("\n" not in line for line in report.problems)


def test_unknown_context_and_unreachable_server_are_one_line(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    with kube_api({}, kubeconfig, "another-ctx"):
        report = check_kubernetes(settings)
    assert report.problems == ["kubernetes: context 'stub-ctx' (kubernetes:context) is not in the kubeconfig"]
    with kube_api({}, kubeconfig, "stub-ctx"):
        pass  # the server is gone: connection refused
    report = check_kubernetes(settings)
    assert report.problems == [f"kubernetes: Secret kubeflow/{SECRET}: unreachable (NewConnectionError)"]


def test_no_kubeconfig_is_a_note_not_a_failure(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    report = check_kubernetes(settings)
    assert report.problems == [] and "skipped (no kubeconfig)" in report.notes[0]
    assert NS  # the settings came from the project namespace
