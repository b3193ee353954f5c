"""The Kubeflow Pipelines releases this project supports, and the little that differs between them.

Facts from kubeflow/pipelines at each release tag (shared/reference/kubeflow-releases.md; the
env lists are in tests/data/kfp-releases.yaml, which a test holds this module to). Everything
that can be written in one form that works on every release is written that way (kube.py);
only what truly differs is looked up here."""

from __future__ import annotations

from dataclasses import dataclass

# Platform manifests -> the KFP they install: v1.10.x -> 2.5.0, v1.11.0 -> 2.15.0, 26.03 -> 2.16.x.
SUPPORTED = ("2.5", "2.14", "2.15", "2.16", "2.17")
NEWEST = SUPPORTED[-1]
PLATFORM_MANIFESTS = {"2.5": "v1.10", "2.15": "v1.11", "2.16": "26.03"}

VALUE, VALUE_FROM = "value", "valueFrom"

# The form each release's Deployment gives the env vars this project also sets (absent: the
# release does not set it, so either form merges cleanly). A patch must use the same form: a merge
# keyed on `name` keeps both `value` and `valueFrom` otherwise, and the API server rejects it.
_API_SERVER_ALWAYS = {
    "OBJECTSTORECONFIG_SECURE": VALUE,
    "OBJECTSTORECONFIG_BUCKETNAME": VALUE_FROM,
    "OBJECTSTORECONFIG_ACCESSKEY": VALUE_FROM,
    "OBJECTSTORECONFIG_SECRETACCESSKEY": VALUE_FROM,
}
_API_SERVER_215 = {**_API_SERVER_ALWAYS, "OBJECTSTORECONFIG_HOST": VALUE, "OBJECTSTORECONFIG_PORT": VALUE}
_UI_ALWAYS = {"MINIO_ACCESS_KEY": VALUE_FROM, "MINIO_SECRET_KEY": VALUE_FROM, "ARGO_ARCHIVE_LOGS": VALUE}


@dataclass(frozen=True)
class Release:
    version: str
    api_server_env: dict[str, str]
    ui_env: dict[str, str]
    # 2.15+: the profile controller (sync.py) hard-codes SeaweedFS roots and mints SeaweedFS keys
    # when its own Secret is absent; it no longer reads KFP_DEFAULT_PIPELINE_ROOT.
    profile_controller_writes_seaweedfs: bool
    # 2.15.0 refuses empty object-store keys (kubeflow/pipelines#12508, fixed in 2.16.0 by #12512).
    api_server_refuses_empty_keys: bool
    # 2.17: untracked artifacts are served only under <ARTIFACT_NAMESPACE_KEY_PREFIX>/<namespace>/.
    ui_checks_namespace_prefix: bool
    # Before 2.17 the launcher's `fromEnv` credentials ignore endpoint and region (#13551).
    launcher_honours_region: bool


RELEASES: dict[str, Release] = {
    "2.5": Release("2.5", _API_SERVER_ALWAYS, _UI_ALWAYS, False, False, False, False),
    "2.14": Release("2.14", _API_SERVER_ALWAYS, _UI_ALWAYS, False, False, False, False),
    "2.15": Release("2.15", _API_SERVER_215, {**_UI_ALWAYS, "ARTIFACTS_SERVICE_PROXY_ENABLED": VALUE_FROM}, True, True, False, False),
    "2.16": Release("2.16", _API_SERVER_215, {**_UI_ALWAYS, "ARTIFACTS_SERVICE_PROXY_ENABLED": VALUE_FROM}, True, False, False, False),
    "2.17": Release(
        "2.17",
        _API_SERVER_215,
        {
            **_UI_ALWAYS,
            "ARTIFACTS_SERVICE_PROXY_ENABLED": VALUE_FROM,
            "ARTIFACT_NAMESPACE_OWNERSHIP_MODE": VALUE_FROM,
            "ARTIFACT_NAMESPACE_KEY_PREFIX": VALUE_FROM,
        },
        True,
        False,
        True,
        True,
    ),
}


def release(version: str) -> Release:
    return RELEASES[version]


def version_of_image(image: str) -> str | None:
    """`ghcr.io/kubeflow/kfp-api-server:2.16.1` -> "2.16"; None for a tag that is no release."""
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
    parts = tag.lstrip("v").split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]) else None
