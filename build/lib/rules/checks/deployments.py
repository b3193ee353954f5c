"""Checks on the ml-pipeline and ml-pipeline-ui Deployments: the program's patches (check, the
pack) or the live objects after the merge (verify), judged against the release they run on."""

from __future__ import annotations

from typing import Any

from components import names, releases

from ..state import Expectations, WiringState


def _env(deployment: Any) -> dict[str, dict[str, Any]]:
    return {str(e.get("name")): e for e in (deployment or {}).get("env") or [] if isinstance(e, dict)}


def _form(entry: dict[str, Any]) -> str:
    return releases.VALUE_FROM if entry.get("valueFrom") else releases.VALUE


def _wrong_form(where: str, env: dict[str, dict[str, Any]], installed: dict[str, str], version: str) -> str | None:
    for name, entry in env.items():
        if entry.get("valueFrom") and entry.get("value") not in (None, ""):
            return f"{where}: {name} has both value and valueFrom: the API server rejects the Deployment"
        form = installed.get(name)
        if form and form != _form(entry):
            return f"{where}: {name} is set as {_form(entry)} but KFP {version} installs it as {form}: the merge would keep both"
    return None


def _expect(where: str, env: dict[str, dict[str, Any]], wanted: dict[str, Any]) -> str | None:
    for name, value in wanted.items():
        entry = env.get(name)
        if entry is None or entry.get("valueFrom") or entry.get("value") != value:
            shown = "unset" if entry is None else repr(entry.get("value", entry.get("valueFrom")))
            return f"{where}: {name} is {shown}, not {value!r}"
    return None


def check_deployments(w: WiringState, expectations: Expectations) -> str | None:
    """The API server and the UI reach this bucket over TLS, in its region, through the regional
    host, each variable in the form the release installs it (so no merge leaves both), and
    (live) the release running is the one configured."""
    release = releases.release(expectations.kfp_version)
    region = str(w.region or "")
    host = names.s3_regional_endpoint(region) if region else ""
    deployments = w.deployments if isinstance(w.deployments, dict) else {}
    api = deployments.get(names.PIPELINE_DEPLOYMENT)
    ui = deployments.get(names.UI_DEPLOYMENT)
    for name, deployment in ((names.PIPELINE_DEPLOYMENT, api), (names.UI_DEPLOYMENT, ui)):
        image = (deployment or {}).get("image")
        running = releases.version_of_image(str(image)) if image else None
        if running and running != release.version:
            return f"{name} runs KFP {running} ({image}), but kubeflowPipelinesVersion is {release.version}"
    if api is not None:
        where = names.PIPELINE_DEPLOYMENT
        env = _env(api)
        problem = _wrong_form(where, env, release.api_server_env, release.version)
        wanted = {"OBJECTSTORECONFIG_HOST": host, "OBJECTSTORECONFIG_SECURE": "true", "OBJECTSTORECONFIG_REGION": region}
        problem = problem or _expect(where, env, wanted)
        if problem:
            return problem
    if ui is not None:
        where = names.UI_DEPLOYMENT
        env = _env(ui)
        wanted = {"AWS_REGION": region, "AWS_S3_ENDPOINT": host, "ARGO_ARCHIVE_ARTIFACTORY": "s3", "ARGO_ARCHIVE_BUCKETNAME": w.bucket}
        problem = _wrong_form(where, env, release.ui_env, release.version) or _expect(where, env, wanted)
        if problem:
            return problem
    return None
