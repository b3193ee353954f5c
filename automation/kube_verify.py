"""`verify`'s Kubernetes half: read what the program wrote in every namespace it wrote to.

Uses the official client and the kubeconfig (KUBECONFIG or ~/.kube/config, the stack's
`kubernetes:context`). Every API error becomes one line naming the object and the status;
Secret values are never read into a report (only which keys exist)."""

from __future__ import annotations

from dataclasses import dataclass, field

from components import names
from components.settings import Settings

from .preflight import kube_contexts

REQUIRED_SECRET_KEYS = (names.ACCESS_KEY_FIELD, names.SECRET_ACCESS_KEY_FIELD)


@dataclass
class KubeReport:
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _api_error(error: Exception) -> str:
    status = getattr(error, "status", None)
    reason = getattr(error, "reason", None) or type(error).__name__
    return f"{status} {reason}".strip() if status else str(error).splitlines()[0]


def check_kubernetes(settings: Settings) -> KubeReport:
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

    try:
        api_client = config.new_client_from_config(context=settings.kube_context or None)
    except (ConfigException, OSError, ValueError) as error:
        report.problems.append(f"kubernetes: kubeconfig unusable ({str(error).splitlines()[0]})")
        return report
    core = client.CoreV1Api(api_client)
    for namespace in settings.namespaces:
        where = f"Secret {namespace}/{names.KUBEFLOW_SECRET_NAME}"
        try:
            secret = core.read_namespaced_secret(names.KUBEFLOW_SECRET_NAME, namespace, _request_timeout=10)
        except client.ApiException as error:
            report.problems.append(f"kubernetes: {where}: {_api_error(error)}")
            continue
        except Exception as error:  # connection refused, TLS, timeouts: one line, never a traceback
            cause = getattr(error, "reason", None) or error
            report.problems.append(f"kubernetes: {where}: unreachable ({type(cause).__name__})")
            break
        keys = set((secret.data or {}).keys())
        missing = [key for key in (*REQUIRED_SECRET_KEYS, "bucketName") if key not in keys]
        if missing:
            report.problems.append(f"kubernetes: {where} lacks keys {', '.join(missing)}")
        else:
            report.notes.append(f"kubernetes: {where} has its keys")
    return report
