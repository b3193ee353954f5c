"""The env vars this project sets on Kubeflow's `ml-pipeline` (API server) and `ml-pipeline-ui`
Deployments: plain data, used by the component (as Patch resources), `manifests`, the rules and
the tests (merged with kubectl onto what each release installs).

Each variable uses the form every supported release gives it (components/releases.py): literal
`value` where an install writes a literal, `valueFrom` where it reads a ConfigMap or Secret, so a
merge keyed on `name` never leaves both fields (which the API server rejects)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import names
from .settings import Settings

HTTPS_PORT = "443"


@dataclass(frozen=True)
class Env:
    """One env var: a literal `value`, or `ref` = (kind, object name, key), kind being
    configMapKeyRef or secretKeyRef."""

    name: str
    value: Any = None  # str, or a pulumi Output[str] (the bucket name)
    ref: tuple[str, str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The Kubernetes EnvVar (camelCase), with plain values."""
        if self.ref is None:
            return {"name": self.name, "value": self.value}
        kind, name, key = self.ref
        return {"name": self.name, "valueFrom": {kind: {"name": name, "key": key}}}


def _config(key: str) -> tuple[str, str, str]:
    return ("configMapKeyRef", names.KUBEFLOW_CONFIGMAP_NAME, key)


def _secret(key: str) -> tuple[str, str, str]:
    return ("secretKeyRef", names.KUBEFLOW_SECRET_NAME, key)


def api_server_env(settings: Settings) -> list[Env]:
    """The API server's object store: the bucket (from pipeline-install-config, as installed), the
    regional S3 host over TLS on 443, the bucket's region (2.15+ signs with it; 2.5-2.14's
    minio-go reads it), and the keys from the Secret (empty under IRSA: the pod's role)."""
    return [
        Env("OBJECTSTORECONFIG_BUCKETNAME", ref=_config("bucketName")),
        Env("OBJECTSTORECONFIG_HOST", names.s3_regional_endpoint(settings.region)),
        Env("OBJECTSTORECONFIG_PORT", HTTPS_PORT),
        Env("OBJECTSTORECONFIG_SECURE", "true"),
        Env("OBJECTSTORECONFIG_REGION", settings.region),
        Env("OBJECTSTORECONFIG_ACCESSKEY", ref=_secret(names.ACCESS_KEY_FIELD)),
        Env("OBJECTSTORECONFIG_SECRETACCESSKEY", ref=_secret(names.SECRET_ACCESS_KEY_FIELD)),
    ]


def ui_env(settings: Settings, bucket: Any, argo_key_format: str) -> list[Env]:
    """The UI reads artifacts from S3 in the bucket's region (frontend/server/configs.ts: AWS_*),
    archived logs from this bucket (ARGO_ARCHIVE_*; the defaults are MinIO and `mlpipeline`), each
    namespace's key format from its `artifact-repositories` ConfigMap (the lookup), and with IRSA
    signs TensorBoard proxy requests with a generated key instead of the empty MinIO secret."""
    env = [
        Env("AWS_REGION", settings.region),
        Env("AWS_S3_ENDPOINT", names.s3_regional_endpoint(settings.region)),
        Env("AWS_SSL", "true"),
        Env("ARGO_ARCHIVE_ARTIFACTORY", "s3"),
        Env("ARGO_ARCHIVE_BUCKETNAME", bucket),
        Env("ARGO_KEYFORMAT", argo_key_format),
        Env("ARGO_ARTIFACT_REPOSITORIES_LOOKUP", "true"),
    ]
    if settings.config.credentials == "irsa":
        env.append(Env("TENSORBOARD_PROXY_SIGNING_SECRET", ref=("secretKeyRef", names.UI_SIGNING_SECRET, names.UI_SIGNING_SECRET_KEY)))
    else:
        env += [
            Env("AWS_ACCESS_KEY_ID", ref=_secret(names.ACCESS_KEY_FIELD)),
            Env("AWS_SECRET_ACCESS_KEY", ref=_secret(names.SECRET_ACCESS_KEY_FIELD)),
        ]
    return env


def install_config_data(settings: Settings, bucket: Any) -> dict[str, Any]:
    """pipeline-install-config keys: the bucket, host and region the API server and UI resolve, and
    the namespace prefix 2.17's UI requires of untracked artifacts (upstream's default, stated)."""
    return {
        "bucketName": bucket,
        "minioServiceHost": names.s3_regional_endpoint(settings.region),
        "minioServiceRegion": settings.region,
        names.ARTIFACT_NAMESPACE_KEY_PREFIX: names.PROFILE_PREFIX_ROOT,
    }
