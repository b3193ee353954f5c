"""KubeflowKubernetesConfig: the S3 settings Kubeflow Pipelines reads, written into the objects
Kubeflow's own manifests install.

Every object here exists before this program runs (Kubeflow's manifests, or its profile
controller in profile namespaces), so each is changed with a server-side-apply Patch resource,
never created or deleted: the patch owns exactly the fields it sets, forces them away from
kubectl/kustomize (`pulumi.com/patchForce`) under the field manager `kubeflow-artifact-store`,
and is retained on delete, because deleting a Patch relinquishes its fields (pulumi-kubernetes
await.Deletion -> ssa.Relinquish) and a key that Kubeflow reads through configMapKeyRef or
secretKeyRef, once gone, stops its pods from starting; a stale value does not."""

from __future__ import annotations

import base64
import hashlib

import pulumi
import pulumi_kubernetes as k8s

from . import names
from .access import KubeflowAccess, identities
from .settings import Settings

KUBE_COMPONENT_TYPE = "kubeflow:storage:KubeflowKubernetesConfig"
OBJECT_STORE_KEYS = {"OBJECTSTORECONFIG_BUCKETNAME": "bucketName", "OBJECTSTORECONFIG_HOST": "minioServiceHost"}
OBJECT_STORE_KEYS["OBJECTSTORECONFIG_REGION"] = "minioServiceRegion"


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
        self._settings = settings
        # Retained on delete: `destroy` leaves the last values in place (see the module docstring).
        patch = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        c = settings.config
        s3_settings: dict[str, pulumi.Input[str]] = {
            "bucketName": bucket_name,
            "minioServiceHost": settings.s3_endpoint,
            "minioServiceRegion": settings.region,
        }
        secret_data: dict[str, pulumi.Input[str]] = {
            names.ACCESS_KEY_FIELD: access.access_key_id,
            names.SECRET_ACCESS_KEY_FIELD: access.secret_access_key,
            **s3_settings,
        }
        if kms_key_arn is not None:
            secret_data["kmsKeyArn"] = kms_key_arn
        # `data`, base64, rather than stringData: the API server stores stringData as data, so field
        # ownership is only stable on data keys. Credential values stay Pulumi secrets.
        encoded = {key: pulumi.Output.secret(_b64(value)) for key, value in secret_data.items()}
        for namespace in settings.namespaces:
            k8s.core.v1.SecretPatch(
                f"{name}-secret-{namespace}",
                metadata=patch_metadata(names.KUBEFLOW_SECRET_NAME, namespace),
                type="Opaque",
                data=encoded,
                opts=patch,
            )
        k8s.core.v1.ConfigMapPatch(
            f"{name}-install-config",
            metadata=patch_metadata(names.KUBEFLOW_CONFIGMAP_NAME, c.kubeflow_namespace),
            data=s3_settings,
            opts=patch,
        )
        irsa = c.credentials == "irsa"
        if irsa and c.manage_service_accounts:
            role_arns = [access.pipeline_role_arn, *access.profile_role_arns.values()]
            for identity, role_arn in zip(identities(settings), role_arns, strict=True):
                k8s.core.v1.ServiceAccountPatch(
                    f"{name}-sa-{identity.key}",
                    metadata=patch_metadata(identity.service_account, identity.namespace, {names.IRSA_ROLE_ANNOTATION: role_arn}),
                    opts=patch,
                )
        if c.patch_deployments:
            self._deployments(name, patch, access.pipeline_role_arn if irsa and c.manage_service_accounts else None)
        self.register_outputs({"secretName": self.secret_name})

    def _deployments(self, name: str, patch: pulumi.ResourceOptions, pipeline_role_arn: pulumi.Output[str] | None) -> None:
        """The API server reads OBJECTSTORECONFIG_* (same shape as the awslabs overlay: values from
        pipeline-install-config and the Secret, so kustomize and this patch agree on the form); the
        UI needs the bucket's region. A pod-template annotation derived from the role ARN rolls the
        API server when its IRSA role changes: new annotations on a ServiceAccount reach only new pods."""
        s = self._settings
        namespace = s.config.kubeflow_namespace

        def from_config(key: str) -> k8s.core.v1.EnvVarSourcePatchArgs:
            return k8s.core.v1.EnvVarSourcePatchArgs(
                config_map_key_ref=k8s.core.v1.ConfigMapKeySelectorPatchArgs(name=names.KUBEFLOW_CONFIGMAP_NAME, key=key)
            )

        def from_secret(key: str) -> k8s.core.v1.EnvVarSourcePatchArgs:
            return k8s.core.v1.EnvVarSourcePatchArgs(
                secret_key_ref=k8s.core.v1.SecretKeySelectorPatchArgs(name=names.KUBEFLOW_SECRET_NAME, key=key)
            )

        env = [k8s.core.v1.EnvVarPatchArgs(name=var, value_from=from_config(key)) for var, key in OBJECT_STORE_KEYS.items()]
        env += [
            k8s.core.v1.EnvVarPatchArgs(name="OBJECTSTORECONFIG_ACCESSKEY", value_from=from_secret(names.ACCESS_KEY_FIELD)),
            k8s.core.v1.EnvVarPatchArgs(name="OBJECTSTORECONFIG_SECRETACCESSKEY", value_from=from_secret(names.SECRET_ACCESS_KEY_FIELD)),
            k8s.core.v1.EnvVarPatchArgs(name="OBJECTSTORECONFIG_SECURE", value="true"),
            k8s.core.v1.EnvVarPatchArgs(name="OBJECTSTORECONFIG_PORT", value="443"),
        ]
        template_annotations = (
            {names.ROLE_ROLLOUT_ANNOTATION: pipeline_role_arn.apply(role_fingerprint)} if pipeline_role_arn is not None else None
        )
        k8s.apps.v1.DeploymentPatch(
            f"{name}-deployment-{names.PIPELINE_DEPLOYMENT}",
            metadata=patch_metadata(names.PIPELINE_DEPLOYMENT, namespace),
            spec=k8s.apps.v1.DeploymentSpecPatchArgs(
                template=k8s.core.v1.PodTemplateSpecPatchArgs(
                    metadata=k8s.meta.v1.ObjectMetaPatchArgs(annotations=template_annotations) if template_annotations else None,
                    spec=k8s.core.v1.PodSpecPatchArgs(containers=[k8s.core.v1.ContainerPatchArgs(name=names.PIPELINE_CONTAINER, env=env)]),
                )
            ),
            opts=patch,
        )
        k8s.apps.v1.DeploymentPatch(
            f"{name}-deployment-{names.UI_DEPLOYMENT}",
            metadata=patch_metadata(names.UI_DEPLOYMENT, namespace),
            spec=k8s.apps.v1.DeploymentSpecPatchArgs(
                template=k8s.core.v1.PodTemplateSpecPatchArgs(
                    spec=k8s.core.v1.PodSpecPatchArgs(
                        containers=[
                            k8s.core.v1.ContainerPatchArgs(
                                name=names.UI_CONTAINER, env=[k8s.core.v1.EnvVarPatchArgs(name="AWS_REGION", value=s.region)]
                            )
                        ]
                    )
                )
            ),
            opts=patch,
        )
