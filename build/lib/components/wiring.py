"""Where each namespace's pipelines keep their artifacts, and the documents that say so to Argo
and the KFP 2.x launcher. Plain functions of settings and the bucket name: the component, the
`manifests` command, the rules and the tests all use these, so the layout is defined once.

Layout (upstream's, shared/reference/kubeflow-releases.md):
- the Kubeflow namespace (and every profile without isolation) keeps the bucket-wide keys:
  `artifacts/<workflow>/...` (Argo, KFP 1.x) and `v2/artifacts/...` (KFP 2.x root);
- with isolation, profile namespace N writes only under `private-artifacts/N/` (the prefix KFP's
  own profile controller uses and 2.17's UI requires for untracked artifacts): its Argo key
  format and its KFP 2.x pipeline root both start there, and its role may write nothing else.
  Objects this project wrote under its former `private/N/` stay readable by N
  (`readLegacyProfilePrefix`) until migrated."""

from __future__ import annotations

from typing import Any

import yaml

from . import names
from .settings import Settings

# libyaml's emitter when PyYAML was built with it (the wheels are): the same YAML, faster.
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
ARGO_KEY_FORMAT = (
    "artifacts/{{workflow.name}}/{{workflow.creationTimestamp.Y}}/{{workflow.creationTimestamp.m}}/"
    "{{workflow.creationTimestamp.d}}/{{pod.name}}"
)
V2_ROOT = "v2/artifacts"


def isolated(settings: Settings, namespace: str) -> bool:
    c = settings.config
    return c.profile_isolation and namespace in c.profile_namespaces


def prefix(settings: Settings, namespace: str) -> str:
    """The key prefix of a namespace's artifacts: '' (bucket-wide layout) or 'private-artifacts/<ns>/'."""
    return f"{names.PROFILE_PREFIX_ROOT}/{namespace}/" if isolated(settings, namespace) else ""


def legacy_prefix(settings: Settings, namespace: str) -> str:
    """The former prefix 'private/<ns>/' an isolated profile may still read, or ''."""
    if isolated(settings, namespace) and settings.config.read_legacy_profile_prefix:
        return f"{names.LEGACY_PROFILE_PREFIX_ROOT}/{namespace}/"
    return ""


def pipeline_root(settings: Settings, bucket: str, namespace: str) -> str:
    return f"s3://{bucket}/{prefix(settings, namespace)}{V2_ROOT}"


def argo_repository(settings: Settings, bucket: str, namespace: str) -> dict[str, Any]:
    """One Argo ArtifactRepository (argo-artifact-repository.schema.json). No `encryptionOptions`:
    the bucket's default encryption applies to every upload, and a header naming a key is exactly
    what the bucket policy's DenyWrongKmsKey refuses unless it is the bucket's own key."""
    s3: dict[str, Any] = {
        "bucket": bucket,
        "endpoint": settings.s3_endpoint,
        "region": settings.region,
        "insecure": False,
        "keyFormat": prefix(settings, namespace) + ARGO_KEY_FORMAT,
    }
    if settings.config.credentials == "irsa":
        s3["useSDKCreds"] = True
    else:
        s3["accessKeySecret"] = {"name": names.KUBEFLOW_SECRET_NAME, "key": names.ACCESS_KEY_FIELD}
        s3["secretKeySecret"] = {"name": names.KUBEFLOW_SECRET_NAME, "key": names.SECRET_ACCESS_KEY_FIELD}
    return {"archiveLogs": True, "s3": s3}


def launcher_providers(settings: Settings) -> dict[str, Any]:
    """The KFP >= 2.2 launcher's `providers` (backend/src/v2/config/s3.go field names)."""
    if settings.config.credentials == "irsa":
        credentials: dict[str, Any] = {"fromEnv": True}
    else:
        credentials = {
            "fromEnv": False,
            "secretRef": {
                "secretName": names.KUBEFLOW_SECRET_NAME,
                "accessKeyKey": names.ACCESS_KEY_FIELD,
                "secretKeyKey": names.SECRET_ACCESS_KEY_FIELD,
            },
        }
    return {
        "s3": {
            "default": {
                "endpoint": names.s3_regional_endpoint(settings.region),
                "region": settings.region,
                "disableSSL": False,
                # AWS: virtual-hosted addressing (the launcher defaults to path style when unset).
                "forcePathStyle": False,
                "credentials": credentials,
            }
        }
    }


def launcher_data(settings: Settings, bucket: str, namespace: str) -> dict[str, str]:
    return {
        "defaultPipelineRoot": pipeline_root(settings, bucket, namespace),
        "providers": yaml.dump(launcher_providers(settings), Dumper=DUMPER, sort_keys=False),
    }


def repositories_data(settings: Settings, bucket: str, namespace: str) -> dict[str, str]:
    return {names.ARTIFACT_REPOSITORY_KEY: yaml.dump(argo_repository(settings, bucket, namespace), Dumper=DUMPER, sort_keys=False)}
