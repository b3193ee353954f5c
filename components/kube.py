"""KubeflowKubernetesConfig: the Kubernetes objects Kubeflow Pipelines reads its S3 settings from.

Uses the default pulumi-kubernetes provider (the standard `kubernetes:` config / kubeconfig).
Objects Kubeflow installs (ServiceAccounts, pipeline-install-config) are changed with
server-side-apply patches, so Pulumi owns only the fields it sets, never the objects."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from . import names
from .access import KubeflowAccess, identities
from .settings import Settings

KUBE_COMPONENT_TYPE = "kubeflow:storage:KubeflowKubernetesConfig"


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
        child = pulumi.ResourceOptions(parent=self)
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
        for namespace in settings.namespaces:
            k8s.core.v1.Secret(
                f"{name}-secret-{namespace}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=names.KUBEFLOW_SECRET_NAME,
                    namespace=namespace,
                    labels={"app.kubernetes.io/managed-by": "pulumi"},
                ),
                type="Opaque",
                string_data=secret_data,
                opts=child,
            )
        k8s.core.v1.ConfigMapPatch(
            f"{name}-install-config",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=names.KUBEFLOW_CONFIGMAP_NAME, namespace=settings.config.kubeflow_namespace),
            data=s3_settings,
            opts=child,
        )
        if settings.config.credentials == "irsa" and settings.config.manage_service_accounts:
            role_arns = [access.pipeline_role_arn, *access.profile_role_arns.values()]
            for identity, role_arn in zip(identities(settings), role_arns, strict=True):
                k8s.core.v1.ServiceAccountPatch(
                    f"{name}-sa-{identity.key}",
                    metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                        name=identity.service_account,
                        namespace=identity.namespace,
                        annotations={names.IRSA_ROLE_ANNOTATION: role_arn},
                    ),
                    opts=child,
                )
        self.register_outputs({"secretName": self.secret_name})
