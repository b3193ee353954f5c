"""KubeflowKubernetesConfig: the S3 settings every Kubeflow Pipelines reader and writer uses.

Objects Kubeflow installs (its manifests in the Kubeflow namespace; its profile controller in
profile namespaces) are changed with server-side-apply Patch resources, never created or
deleted: each patch owns exactly the fields it sets, forces them away from kubectl/kustomize
(`pulumi.com/patchForce`) under the field manager `kubeflow-artifact-store`, and is retained on
delete, because deleting a Patch relinquishes its fields (pulumi-kubernetes await.Deletion ->
ssa.Relinquish) and a key Kubeflow reads through configMapKeyRef or secretKeyRef, once gone,
stops its pods from starting; a stale value does not. The one object that exists only because
of this program, Argo's `artifact-repositories` in the Kubeflow namespace, is created.
A server-side apply creates the object when it is absent, so a patch also works where the
profile controller has not written its copy yet."""

from __future__ import annotations

import base64
import hashlib

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from . import deployments, names, wiring
from .access import Identity, KubeflowAccess, identities
from .deployments import Env
from .settings import Settings

KUBE_COMPONENT_TYPE = "kubeflow:storage:KubeflowKubernetesConfig"
SIGNING_SECRET_LENGTH = 48


def patch_metadata(name: str, namespace: str, annotations: dict[str, pulumi.Input[str]] | None = None) -> k8s.meta.v1.ObjectMetaPatchArgs:
    return k8s.meta.v1.ObjectMetaPatchArgs(
        name=name,
        namespace=namespace,
        annotations={
            names.PATCH_FORCE_ANNOTATION: "true",
            names.PATCH_FIELD_MANAGER_ANNOTATION: names.FIELD_MANAGER,
            **(annotations or {}),
        },
    )


def _b64(value: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(value).apply(lambda text: base64.b64encode(text.encode()).decode())


def role_fingerprint(role_arn: str) -> str:
    """Short and stable: changes exactly when the role ARN does."""
    return hashlib.sha256(role_arn.encode()).hexdigest()[:16]


class KubeflowKubernetesConfig(pulumi.ComponentResource):
    secret_name: str = names.KUBEFLOW_SECRET_NAME

    def __init__(
        self,
        name: str,
        settings: Settings,
        bucket_name: pulumi.Output[str],
        kms_key_arn: pulumi.Output[str] | None,
        access: KubeflowAccess,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(KUBE_COMPONENT_TYPE, name, None, opts)
        self._name = name
        self._settings = settings
        self._bucket = bucket_name
        # Retained on delete: `destroy` leaves the last values in place (see the module docstring).
        self._patch = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        c = settings.config
        install_config = deployments.install_config_data(settings, bucket_name)
        secret_data: dict[str, pulumi.Input[str]] = {
            names.ACCESS_KEY_FIELD: access.access_key_id,
            names.SECRET_ACCESS_KEY_FIELD: access.secret_access_key,
            **{k: install_config[k] for k in ("bucketName", "minioServiceHost", "minioServiceRegion")},
        }
        if kms_key_arn is not None:
            secret_data["kmsKeyArn"] = kms_key_arn
        # `data`, base64, rather than stringData: the API server stores stringData as data, so field
        # ownership is only stable on data keys. Credential values stay Pulumi secrets.
        self._secret_data = {key: pulumi.Output.secret(_b64(value)) for key, value in secret_data.items()}
        k8s.core.v1.ConfigMapPatch(
            f"{name}-install-config",
            metadata=patch_metadata(names.KUBEFLOW_CONFIGMAP_NAME, c.kubeflow_namespace),
            data=install_config,
            opts=self._patch,
        )
        # Argo's per-namespace default repository: resolved before workflow-controller-configmap,
        # which this program never edits (its `config` key must be its only key, and installs differ
        # in which form they use: a patch in the other form would stop the controller).
        k8s.core.v1.ConfigMap(
            f"{name}-artifact-repositories-{c.kubeflow_namespace}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.ARTIFACT_REPOSITORIES_CONFIGMAP,
                namespace=c.kubeflow_namespace,
                annotations={names.DEFAULT_REPOSITORY_ANNOTATION: names.ARTIFACT_REPOSITORY_KEY},
                labels={"app.kubernetes.io/managed-by": names.FIELD_MANAGER},
            ),
            data=self._repositories(c.kubeflow_namespace),
            opts=pulumi.ResourceOptions(parent=self),
        )
        namespaces = [c.kubeflow_namespace] + (list(c.profile_namespaces) if c.profile_objects == "managed" else [])
        for namespace in namespaces:
            self._namespace_objects(namespace, namespace != c.kubeflow_namespace)
        irsa = c.credentials == "irsa"
        if irsa and c.manage_service_accounts:
            for identity in identities(settings):
                if identity.namespace == c.kubeflow_namespace or c.profile_objects == "managed":
                    self._annotate(identity, access.role_arns[identity.key])
        if c.patch_deployments:
            roles_managed = irsa and c.manage_service_accounts
            self._deployments(access.pipeline_role_arn if roles_managed else None, access.ui_role_arn if roles_managed else None)
        self.register_outputs({"secretName": self.secret_name})

    def _repositories(self, namespace: str) -> pulumi.Output[dict[str, str]]:
        return self._bucket.apply(lambda bucket: wiring.repositories_data(self._settings, bucket, namespace))

    def _namespace_objects(self, namespace: str, profile: bool) -> None:
        name = self._name
        k8s.core.v1.SecretPatch(
            f"{name}-secret-{namespace}",
            metadata=patch_metadata(names.KUBEFLOW_SECRET_NAME, namespace),
            type="Opaque",
            data=self._secret_data,
            opts=self._patch,
        )
        k8s.core.v1.ConfigMapPatch(
            f"{name}-launcher-{namespace}",
            metadata=patch_metadata(names.LAUNCHER_CONFIGMAP, namespace),
            data=self._bucket.apply(lambda bucket: wiring.launcher_data(self._settings, bucket, namespace)),
            opts=self._patch,
        )
        if profile:  # KFP >= 2.15's profile controller writes this object too: patch it
            k8s.core.v1.ConfigMapPatch(
                f"{name}-artifact-repositories-{namespace}",
                metadata=patch_metadata(
                    names.ARTIFACT_REPOSITORIES_CONFIGMAP,
                    namespace,
                    {names.DEFAULT_REPOSITORY_ANNOTATION: names.ARTIFACT_REPOSITORY_KEY},
                ),
                data=self._repositories(namespace),
                opts=self._patch,
            )

    def _annotate(self, identity: Identity, role_arn: pulumi.Output[str]) -> None:
        k8s.core.v1.ServiceAccountPatch(
            f"{self._name}-sa-{identity.key}",
            metadata=patch_metadata(identity.service_account, identity.namespace, {names.IRSA_ROLE_ANNOTATION: role_arn}),
            opts=self._patch,
        )

    def _deployments(self, pipeline_role_arn: pulumi.Output[str] | None, ui_role_arn: pulumi.Output[str] | None) -> None:
        """The API server's and the UI's S3 settings (components/deployments.py: each variable in
        the form every supported release installs it). A pod-template annotation derived from the
        role ARN rolls each Deployment when its IRSA role changes: new ServiceAccount annotations
        reach only new pods."""
        s = self._settings
        if s.config.credentials == "irsa":
            self._signing_secret()
        self._deployment(names.PIPELINE_DEPLOYMENT, names.PIPELINE_CONTAINER, deployments.api_server_env(s), pipeline_role_arn)
        key_format = wiring.prefix(s, s.config.kubeflow_namespace) + wiring.ARGO_KEY_FORMAT
        self._deployment(names.UI_DEPLOYMENT, names.UI_CONTAINER, deployments.ui_env(s, self._bucket, key_format), ui_role_arn)

    def _signing_secret(self) -> None:
        """A random key for the UI's TensorBoard proxy (2.17 defaults it to the MinIO secret,
        empty under IRSA). Generated once and kept in state as a secret, never an output."""
        key = random.RandomPassword(
            f"{self._name}-ui-signing-key", length=SIGNING_SECRET_LENGTH, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        k8s.core.v1.Secret(
            f"{self._name}-ui-signing",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.UI_SIGNING_SECRET,
                namespace=self._settings.config.kubeflow_namespace,
                labels={"app.kubernetes.io/managed-by": names.FIELD_MANAGER},
            ),
            type="Opaque",
            data={names.UI_SIGNING_SECRET_KEY: pulumi.Output.secret(_b64(key.result))},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _deployment(self, deployment: str, container: str, env: list[Env], role_arn: pulumi.Output[str] | None) -> None:
        rollout = (
            k8s.meta.v1.ObjectMetaPatchArgs(annotations={names.ROLE_ROLLOUT_ANNOTATION: role_arn.apply(role_fingerprint)})
            if role_arn is not None
            else None
        )
        k8s.apps.v1.DeploymentPatch(
            f"{self._name}-deployment-{deployment}",
            metadata=patch_metadata(deployment, self._settings.config.kubeflow_namespace),
            spec=k8s.apps.v1.DeploymentSpecPatchArgs(
                template=k8s.core.v1.PodTemplateSpecPatchArgs(
                    metadata=rollout,
                    spec=k8s.core.v1.PodSpecPatchArgs(
                        containers=[k8s.core.v1.ContainerPatchArgs(name=container, env=[_env_var(e) for e in env])]
                    ),
                )
            ),
            opts=self._patch,
        )


def _env_var(env: Env) -> k8s.core.v1.EnvVarPatchArgs:
    if env.ref is None:
        return k8s.core.v1.EnvVarPatchArgs(name=env.name, value=env.value)
    kind, name, key = env.ref
    if kind == "configMapKeyRef":
        source = k8s.core.v1.EnvVarSourcePatchArgs(config_map_key_ref=k8s.core.v1.ConfigMapKeySelectorPatchArgs(name=name, key=key))
    else:
        source = k8s.core.v1.EnvVarSourcePatchArgs(secret_key_ref=k8s.core.v1.SecretKeySelectorPatchArgs(name=name, key=key))
    return k8s.core.v1.EnvVarPatchArgs(name=env.name, value_from=source)
