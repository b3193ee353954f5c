"""`manifests`: the exact Kubernetes objects the program applies, as YAML for Argo CD or Flux.

The program runs under the mock engine with the stack's config, the mocks answering with the
deployed stack's real bucket name and role ARNs (from its outputs), so the objects are the
ones `up` writes. Objects Kubeflow installs are partial (only the fields this program owns),
to be applied server-side: `kubectl apply --server-side --force-conflicts
--field-manager=kubeflow-artifact-store -k DIR`, or Argo CD with the ServerSideApply sync option
each carries. A Secret holds credentials only with static credentials: those Secrets are left
out unless --include-secrets."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from automation.errors import UsageError
from automation.offline.mock_engine import MOCK_ACCOUNT, PROGRAM, ROOT, run_program
from automation.stackfiles import SECRET_PLACEHOLDER, read_stack_config, settings_for
from components import names
from components.access import identities

PULUMI_ANNOTATIONS = (names.PATCH_FORCE_ANNOTATION, names.PATCH_FIELD_MANAGER_ANNOTATION)
ARGOCD_SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
REQUIRED_OUTPUTS = ("bucketName", "bucketArn")


def known_resources(outputs: Mapping[str, Any], settings: Any) -> dict[str, dict[str, Any]]:
    """Mock answers for the resources whose real names and ARNs the objects carry."""
    store = names.STORE_NAME
    bucket = str(outputs["bucketName"])
    known: dict[str, dict[str, Any]] = {f"{store}-artifacts": {"bucket": bucket, "arn": str(outputs["bucketArn"])}}
    if outputs.get("kmsKeyArn"):
        known[f"{store}-key"] = {"arn": str(outputs["kmsKeyArn"])}
    roles = dict(outputs.get("profileRoleArns") or {})
    for identity in identities(settings):
        by_role = {"pipeline": outputs.get("pipelineRoleArn"), "ui": outputs.get("uiRoleArn"), "runner": outputs.get("runnerRoleArn")}
        arn = by_role.get(identity.role) or roles.get(identity.namespace)
        if arn:
            known[f"{store}-access-{identity.key}"] = {"arn": str(arn), "name": str(arn).rsplit("/", 1)[-1]}
    return known


def required_outputs(settings: Any) -> list[str]:
    """Every output an object carries: the names, the key, and each role an annotation names.
    Missing one is exit 2 naming it; a mock value is never written in its place."""
    needed = list(REQUIRED_OUTPUTS)
    c = settings.config
    if settings.kms_enabled:
        needed.append("kmsKeyArn")
    if c.credentials == "irsa" and c.manage_service_accounts:
        for identity in identities(settings):
            if identity.namespace != c.kubeflow_namespace and c.profile_objects != "managed":
                continue
            key = {"pipeline": "pipelineRoleArn", "ui": "uiRoleArn", "runner": "runnerRoleArn"}.get(identity.role)
            needed.append(key or f"profileRoleArns.{identity.namespace}")
    return needed


def _output(outputs: Mapping[str, Any], key: str) -> Any:
    head, _, rest = key.partition(".")
    value = outputs.get(head)
    return (value or {}).get(rest) if rest else value


def _object(inputs: dict[str, Any], patch: bool) -> dict[str, Any]:
    obj = json.loads(json.dumps(inputs))
    metadata = obj.setdefault("metadata", {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k not in PULUMI_ANNOTATIONS}
    if patch:  # partial: only the fields this program owns, for a server-side apply
        annotations[ARGOCD_SYNC_OPTIONS] = "ServerSideApply=true"
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    ordered = {"apiVersion": obj.pop("apiVersion"), "kind": obj.pop("kind"), "metadata": obj.pop("metadata")}
    return {**ordered, **obj}


def write_manifests(
    env: str,
    out: Path,
    outputs: Mapping[str, Any],
    force: bool = False,
    include_secrets: bool = False,
    secret_config: Callable[[str], Mapping[str, str]] | None = None,
    warn: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    root: Path = ROOT,
) -> list[Path]:
    """Validates everything before writing anything; returns the files written."""
    settings = settings_for(env, root)
    missing = [key for key in required_outputs(settings) if not _output(outputs, key)]
    if missing:
        raise UsageError(
            f"--outputs: no {', '.join(missing)} (the objects carry the deployed names); allowed: `pulumi stack output --json` of {env}"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise UsageError(f"--out: {out} exists and is not an empty directory; allowed: a new or empty directory, or --force to replace it")
    config, secret_keys = read_stack_config(env, root)
    config[f"{names.PROJECT}:manageKubernetes"] = True  # the stack may leave Kubernetes to GitOps: render it anyway
    static = settings.config.credentials == "static"
    if static and include_secrets:
        if not settings.static_keys_supplied:
            raise UsageError(
                "--include-secrets: the stack's access key is created by Pulumi and never leaves its state; "
                "allowed: supplied keys (staticAccessKeyId/staticSecretAccessKey) or credentials irsa"
            )
        decrypted = dict((secret_config or (lambda _: {}))(env))
        for key in secret_keys:
            if config.get(key) == SECRET_PLACEHOLDER:
                config[key] = decrypted[key]
    run = run_program(
        env,
        config,
        secret_keys,
        program=root / PROGRAM.name,
        account=settings.account_ids[0] if settings.account_ids else MOCK_ACCOUNT,
        known=known_resources(outputs, settings),
    )
    documents: dict[str, dict[str, Any]] = {}
    for r in run.resources:
        if not r.type.startswith("kubernetes:"):
            continue
        obj = _object(r.inputs, r.type.endswith("Patch"))
        if obj["kind"] == "Secret" and obj["metadata"]["name"] == names.UI_SIGNING_SECRET:
            # Its key is generated by `up` and lives in the stack's state only: never a mock value in git.
            warn(
                f"manifests: left out Secret {obj['metadata']['namespace']}/{names.UI_SIGNING_SECRET} (a generated key); create it "
                f"once: kubectl -n {obj['metadata']['namespace']} create secret generic {names.UI_SIGNING_SECRET} "
                f'--from-literal={names.UI_SIGNING_SECRET_KEY}="$(openssl rand -hex 24)"'
            )
            continue
        if obj["kind"] == "Secret" and static and not include_secrets:
            warn(
                f"manifests: left out Secret {obj['metadata']['namespace']}/{obj['metadata']['name']} (credentials); "
                "--include-secrets writes it"
            )
            continue
        documents[f"{obj['kind'].lower()}-{obj['metadata']['namespace']}-{obj['metadata']['name']}.yaml"] = obj
    if static and include_secrets:
        warn(f"manifests: Secrets with credentials written in plaintext (base64) to {out}; keep them out of git")
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.yaml"):
        stale.unlink()
    written = []
    for filename, obj in sorted(documents.items()):
        (out / filename).write_text(yaml.safe_dump(obj, sort_keys=False))
        written.append(out / filename)
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": sorted(documents)}
    (out / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    return [*written, out / "kustomization.yaml"]


def read_outputs_file(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UsageError(
            f"--outputs: {path} unreadable ({str(error).splitlines()[0]}); allowed: `pulumi stack output --json` saved to a file"
        ) from None
    if not isinstance(document, dict):
        raise UsageError(f"--outputs: {path} is not a JSON object; allowed: `pulumi stack output --json` saved to a file")
    return document
