"""`verify`'s Kubernetes half: read what the stack wants in every namespace it wires, and judge it.

Uses the official client and the kubeconfig (KUBECONFIG or ~/.kube/config, the stack's
`kubernetes:context`). Reads the ConfigMaps Argo and the KFP launcher use (judged by the same
KF-K8S rules as `check`), the Secret's keys (never its values) and the ServiceAccounts' role
annotations, and names every field of ours that another field manager also owns
(`metadata.managedFields`): the sign that kustomize or a controller re-applied it. Every API
error is one line naming the object and the status."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from components import deployments, names, wiring
from components.access import identities
from components.settings import Settings
from rules import Finding, evaluate
from rules.controls import CONTROLS
from rules.from_resources import wiring_from_objects
from rules.state import Expectations, Snapshot

REQUIRED_SECRET_KEYS = (names.ACCESS_KEY_FIELD, names.SECRET_ACCESS_KEY_FIELD, "bucketName")
WIRING_CONTROLS = tuple(c for c in CONTROLS if c.scope == "wiring")


@dataclass
class KubeReport:
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _api_error(error: Exception) -> str:
    status = getattr(error, "status", None)
    reason = getattr(error, "reason", None) or type(error).__name__
    return f"{status} {reason}".strip() if status else str(error).splitlines()[0]


class UnreachableError(Exception):
    """The API server did not answer: stop reading, the one line is already reported."""


def other_managers(obj: Any, fields: set[str]) -> list[str]:
    """Field managers other than ours that own one of `fields` ('data.bucketName', ...)."""
    found = set()
    for entry in obj.metadata.managed_fields or []:
        if entry.manager == names.FIELD_MANAGER:
            continue
        owned = _paths(entry.fields_v1 or {})
        if owned & fields:
            found.add(entry.manager)
    return sorted(found)


def _paths(fields_v1: dict[str, Any], prefix: str = "") -> set[str]:
    """managedFields' fieldsV1 ("f:data": {"f:bucketName": {}}) as dotted paths."""
    found = set()
    for key, value in fields_v1.items():
        if not key.startswith("f:"):
            continue
        path = f"{prefix}{key[2:]}"
        found.add(path)
        if isinstance(value, dict):
            found |= _paths(value, path + ".")
    return found


def kube_contexts() -> set[str] | None:
    """Context names of the kubeconfig (KUBECONFIG's files or ~/.kube/config); None without one."""
    paths = [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p] or [Path.home() / ".kube" / "config"]
    found: set[str] | None = None
    for path in paths:
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        found = (found or set()) | {str(c.get("name")) for c in document.get("contexts") or [] if isinstance(c, dict)}
    return found


def check_kubernetes(settings: Settings, bucket: str, expectations: Expectations) -> KubeReport:
    report = KubeReport()
    contexts = kube_contexts()
    if contexts is None:
        report.notes.append("kubernetes: skipped (no kubeconfig); Kubernetes objects not checked")
        return report
    if settings.kube_context and settings.kube_context not in contexts:
        report.problems.append(f"kubernetes: context {settings.kube_context!r} (kubernetes:context) is not in the kubeconfig")
        return report
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    # The client reads KUBECONFIG once, at import: name the file(s) every time instead.
    config_file = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    try:
        api_client = config.new_client_from_config(config_file=config_file, context=settings.kube_context or None)
    except (ConfigException, OSError, ValueError) as error:
        report.problems.append(f"kubernetes: kubeconfig unusable ({str(error).splitlines()[0]})")
        return report
    core = client.CoreV1Api(api_client)
    apps = client.AppsV1Api(api_client)

    def read(kind: str, namespace: str, name: str, call: Callable[..., Any]) -> Any:
        where = f"{kind} {namespace}/{name}"
        try:
            return call(name, namespace, _request_timeout=10)
        except client.ApiException as error:
            report.problems.append(f"kubernetes: {where}: {_api_error(error)}")
        except Exception as error:  # connection refused, TLS, timeouts: one line, never a traceback
            cause = getattr(error, "reason", None) or error
            report.problems.append(f"kubernetes: {where}: unreachable ({type(cause).__name__})")
            raise UnreachableError from None
        return None

    with contextlib.suppress(UnreachableError):
        _read_all(settings, bucket, expectations, report, (core, apps, api_client), read)
    return report


def _deployments(settings: Settings, apps: Any, api_client: Any, read: Any) -> dict[str, Any]:
    """The live API server and UI Deployments (after every merge): first container's env, image."""
    found = {}
    for name in (names.PIPELINE_DEPLOYMENT, names.UI_DEPLOYMENT):
        live = read("Deployment", settings.config.kubeflow_namespace, name, apps.read_namespaced_deployment)
        if live is not None:
            container = api_client.sanitize_for_serialization(live)["spec"]["template"]["spec"]["containers"][0]
            found[name] = {"env": container.get("env") or [], "image": container.get("image")}
    return found


def _read_all(settings: Settings, bucket: str, expectations: Expectations, report: KubeReport, apis: tuple[Any, ...], read: Any) -> None:
    core, apps, api_client = apis
    c = settings.config
    # Every namespace, also with profileObjects: external: what the profile controller wrote is
    # compared with what the stack wants (exported as profileSettings), so a silent fight shows.
    namespaces = list(settings.namespaces)
    configmaps: list[tuple[dict[str, Any], Any]] = []
    install_config = deployments.install_config_data(settings, bucket)
    for namespace in namespaces:
        objects = [(names.LAUNCHER_CONFIGMAP, wiring.launcher_data(settings, bucket, namespace))]
        objects.append((names.ARTIFACT_REPOSITORIES_CONFIGMAP, wiring.repositories_data(settings, bucket, namespace)))
        if namespace == c.kubeflow_namespace:
            objects.append((names.KUBEFLOW_CONFIGMAP_NAME, install_config))
        for name, data in objects:
            live = read("ConfigMap", namespace, name, core.read_namespaced_config_map)
            if live is None:
                continue
            configmaps.append(({"name": name, "namespace": namespace, "annotations": live.metadata.annotations or {}}, live.data or {}))
            differing = sorted(key for key, value in data.items() if (live.data or {}).get(key) != value)
            if differing:
                report.problems.append(f"kubernetes: ConfigMap {namespace}/{name}: {', '.join(differing)} differ from what the stack wants")
            _note_managers(report, f"ConfigMap {namespace}/{name}", live, {f"data.{key}" for key in data})
        secret = read("Secret", namespace, names.KUBEFLOW_SECRET_NAME, core.read_namespaced_secret)
        if secret is not None:
            missing = [key for key in REQUIRED_SECRET_KEYS if key not in (secret.data or {})]
            where = f"Secret {namespace}/{names.KUBEFLOW_SECRET_NAME}"
            if missing:
                report.problems.append(f"kubernetes: {where} lacks keys {', '.join(missing)}")
            else:
                report.notes.append(f"kubernetes: {where} has its keys")
            _note_managers(report, where, secret, {f"data.{key}" for key in REQUIRED_SECRET_KEYS})
    if c.credentials == "irsa" and c.manage_service_accounts:
        for identity in identities(settings):
            if identity.namespace not in namespaces:
                continue
            account = read("ServiceAccount", identity.namespace, identity.service_account, core.read_namespaced_service_account)
            if account is not None and not (account.metadata.annotations or {}).get(names.IRSA_ROLE_ANNOTATION):
                where = f"ServiceAccount {identity.namespace}/{identity.service_account}"
                report.problems.append(f"kubernetes: {where} has no {names.IRSA_ROLE_ANNOTATION}")
    state = wiring_from_objects(configmaps)
    if state is not None:
        state.deployments = _deployments(settings, apps, api_client, read)
        everywhere = replace(expectations, wired_namespaces=tuple(namespaces))
        report.findings = evaluate(Snapshot(wiring=[state]), everywhere, WIRING_CONTROLS)


def _note_managers(report: KubeReport, where: str, obj: Any, fields: set[str]) -> None:
    others = other_managers(obj, fields)
    if others:
        report.notes.append(f"kubernetes: {where}: fields of this stack also owned by {', '.join(others)} (re-applied elsewhere?)")
