"""KubeflowArtifactStore: the hardened artifact bucket, its key, logging, Kubeflow access and settings."""

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from . import names, policies, wiring
from .access import KubeflowAccess
from .args import KubeflowArtifactStoreArgs
from .bucket import HardenedBucket, bucket_args
from .inputs import StoreInputs, resolve
from .kms import ArtifactKey, key_args
from .kube import KubeflowKubernetesConfig
from .replication import ArtifactReplica, ArtifactReplicaArgs
from .settings import ConfigError, Settings

LOG_RETENTION_DAYS = 365


def _same_region(expected: str, actual: str | None) -> str:
    if actual and actual != expected:
        raise ConfigError(
            f"{names.PROJECT}:region: invalid value {expected!r} (the AWS provider deploys into {actual}); "
            f"allowed: the provider's region {actual!r} (pass region, or set aws:region)"
        )
    return expected


def type_token() -> str:
    """This program's (and a Python consumer's) token; hosted as a Pulumi package for other
    languages, the token the provider's schema names (`<package>:index:<class>`). Stacks built
    with the program keep their URNs."""
    from pulumi.provider.experimental import host

    return names.PACKAGE_COMPONENT_TYPE if host.is_hosting else names.COMPONENT_TYPE


class KubeflowArtifactStore(pulumi.ComponentResource):
    """Everything Kubeflow Pipelines needs to keep its artifacts in S3, secure by default.

    Children: ArtifactKey (sse-kms without kmsKeyArn), HardenedBucket `artifacts`,
    HardenedBucket `access-logs` + BucketLogging (accessLogging), BucketNotification
    (eventNotifications), KubeflowAccess (IAM) and KubeflowKubernetesConfig (Secrets, patches)."""

    bucket_name: pulumi.Output[str]
    """The artifact bucket's name: hand it to Kubeflow."""
    bucket_arn: pulumi.Output[str]
    """The artifact bucket's ARN."""
    region: pulumi.Output[str]
    """The bucket's region."""
    s3_endpoint: pulumi.Output[str]
    """The S3 host Kubeflow should talk to (the partition's)."""
    kms_key_arn: pulumi.Output[str | None]
    """The key of SSE-KMS (created or given); absent with SSE-S3."""
    log_bucket_name: pulumi.Output[str | None]
    """The access-log bucket's name, with access logging."""
    pipeline_role_arn: pulumi.Output[str | None]
    """The IRSA role of the Kubeflow Pipelines API server."""
    ui_role_arn: pulumi.Output[str | None]
    """The read-only IRSA role of the Kubeflow Pipelines UI."""
    runner_role_arn: pulumi.Output[str | None]
    """The IRSA role of pipeline runs on a standalone install (kubeflow/pipeline-runner)."""
    profile_role_arns: pulumi.Output[Mapping[str, str]]
    """Each profile namespace's IRSA role ARN."""
    pipeline_roots: pulumi.Output[Mapping[str, str]]
    """Each namespace's KFP 2.x pipeline root."""
    replica_bucket_name: pulumi.Output[str | None]
    """The replica bucket's name, with replicaRegion."""
    replica_kms_key_arn: pulumi.Output[str | None]
    """The replica's key, with replicaRegion and SSE-KMS."""

    def __init__(self, name: str, args: KubeflowArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        inputs = args if isinstance(args, StoreInputs) else resolve(pulumi.get_stack(), args)
        settings = inputs.settings
        super().__init__(type_token(), name, None, opts)
        c = settings.config
        self._settings = settings
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        # S3 replicates as the replication role (created with the replica, below): the network
        # perimeter of both buckets exempts it by ARN, which is known only once the role exists.
        replication_role_arn: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        resolve_replication_role = None
        if c.replica_region:
            replication_role_arn, resolve_replication_role = pulumi.deferred_output()

        def perimeter_for(endpoints: tuple[str, ...]) -> pulumi.Output[policies.Perimeter]:
            """The data perimeter: this account (plus trustedAccountIds / the organization) and,
            when configured, only through `endpoints` (VPC endpoints of the bucket's own region)."""
            exempt = replication_role_arn if endpoints else pulumi.Output.from_input(None)
            return pulumi.Output.all(account_id, exempt).apply(
                lambda v: policies.Perimeter(
                    account_ids=(v[0], *c.trusted_account_ids),
                    organization_id=c.organization_id,
                    vpc_endpoint_ids=endpoints,
                    exempt_principal_arns=c.perimeter_exempt_principal_arns,
                    replication_role_arn=v[1] or "",
                )
            )

        perimeter = perimeter_for(c.allowed_vpc_endpoint_ids)

        def policy_within(boundary: pulumi.Output[policies.Perimeter]):  # noqa: ANN202 (a policy builder)
            def build(arn: pulumi.Output[str], key: pulumi.Output[str] | None) -> pulumi.Output[str]:
                return pulumi.Output.all(arn, key, boundary).apply(lambda v: policies.artifact_bucket_policy(v[0], v[1], v[2]))

            return build

        artifact_policy = policy_within(perimeter)

        self.kms_key_arn = None
        if settings.creates_kms_key:
            key = ArtifactKey(
                f"{name}-key",
                key_args(
                    settings,
                    names.kms_alias(settings.stack),
                    account_id,
                    settings.region,
                    # Static credentials kept in Secrets Manager are encrypted with this key too.
                    via_services=(names.service_host("secretsmanager", settings.region),) if c.secrets_manager else (),
                ),
                opts=child,
            )
            self.kms_key_arn = key.arn
        elif c.kms_key_arn:
            self.kms_key_arn = inputs.value("kms_key_arn")  # an Output when it came from another resource

        key_arn = self.kms_key_arn
        artifacts = HardenedBucket(
            f"{name}-artifacts",
            bucket_args(
                settings,
                lambda arn: artifact_policy(arn, key_arn),
                name=c.adopt_bucket or c.bucket_name,
                adopt=bool(c.adopt_bucket),
                name_prefix=names.bucket_prefix(settings.stack),
                kms_key_arn=key_arn,
                versioning=c.versioning,
            ),
            opts=child,
        )
        self.bucket_name = artifacts.bucket.bucket
        self.bucket_arn = artifacts.bucket.arn

        self.log_bucket_name = None
        if c.access_logging:
            self.log_bucket_name = self._access_logs(name, settings, artifacts, account_id, perimeter)
        self.replica: ArtifactReplica | None = None
        if c.replica_region:
            self.replica = ArtifactReplica(
                f"{name}-replica",
                settings,
                ArtifactReplicaArgs(
                    source=artifacts,
                    source_key_arn=key_arn,
                    account_id=account_id,
                    policy=policy_within(perimeter_for(c.replica_allowed_vpc_endpoint_ids)),
                    log_policy=lambda log_arn, replica_arn: pulumi.Output.all(
                        log_arn, replica_arn, account_id, perimeter_for(c.replica_allowed_vpc_endpoint_ids)
                    ).apply(lambda v: policies.log_bucket_policy(v[0], v[1], v[2], v[3])),
                ),
                opts=child,
            )
            if resolve_replication_role is not None:
                resolve_replication_role(self.replica.role_arn)
        if c.event_notifications:
            aws.s3.BucketNotification(
                f"{name}-events",
                bucket=artifacts.bucket.id,
                eventbridge=True,
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=c.protect),
            )

        self.access = KubeflowAccess(f"{name}-access", inputs, self.bucket_arn, key_arn, opts=child)
        self.kubernetes = (
            KubeflowKubernetesConfig(f"{name}-kubernetes", settings, self.bucket_name, key_arn, self.access, opts=child)
            if c.manage_kubernetes
            else None
        )
        # The AWS provider this component runs with (the consumer's, or the stack's default) must
        # deploy into the region the names and policy documents were built for: checked, not assumed.
        self.region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region.apply(
            lambda actual: _same_region(settings.region, actual)
        )
        self.s3_endpoint = pulumi.Output.from_input(settings.s3_endpoint)
        self.pipeline_role_arn = pulumi.Output.from_input(self.access.pipeline_role_arn)
        self.ui_role_arn = pulumi.Output.from_input(self.access.ui_role_arn)
        self.runner_role_arn = pulumi.Output.from_input(self.access.runner_role_arn)
        self.profile_role_arns = pulumi.Output.from_input(self.access.profile_role_arns)
        self.pipeline_roots = self.bucket_name.apply(
            lambda bucket: {ns: wiring.pipeline_root(settings, bucket, ns) for ns in settings.namespaces}
        )
        self.replica_bucket_name = pulumi.Output.from_input(self.replica.bucket_name if self.replica else None)
        self.replica_kms_key_arn = pulumi.Output.from_input(self.replica.kms_key_arn if self.replica else None)
        self.register_outputs(self.exports())

    def _access_logs(
        self,
        name: str,
        settings: Settings,
        artifacts: HardenedBucket,
        account_id: pulumi.Output[str],
        perimeter: pulumi.Output[policies.Perimeter],
    ) -> pulumi.Output[str]:
        """A log bucket as hardened as the artifact bucket, except SSE-S3: S3 cannot deliver logs
        into an SSE-KMS bucket."""
        logs = HardenedBucket(
            f"{name}-access-logs",
            bucket_args(
                settings,
                lambda arn: pulumi.Output.all(arn, artifacts.bucket.arn, account_id, perimeter).apply(
                    lambda v: policies.log_bucket_policy(v[0], v[1], v[2], v[3])
                ),
                name_prefix=names.log_bucket_prefix(settings.stack),
                expiration_days=LOG_RETENTION_DAYS,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketLogging(
            f"{name}-logging",
            bucket=artifacts.bucket.id,
            target_bucket=logs.bucket.id,
            target_prefix=names.ACCESS_LOG_PREFIX,
            # Delivery is granted by the log bucket's policy; it must exist first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs.policy], retain_on_delete=settings.config.protect),
        )
        return logs.bucket.bucket

    def _profile_settings(self) -> pulumi.Output[dict[str, Any]] | None:
        """profileObjects external: exactly what Kubeflow's profile controller must write per profile."""
        s = self._settings
        if s.config.profile_objects != "external" or not s.config.profile_namespaces:
            return None
        roles = self.access.profile_role_arns

        def settings_for(bucket: str, arns: dict[str, str]) -> dict[str, Any]:
            return {
                ns: {
                    "serviceAccountRoleArn": arns.get(ns),
                    "kfpLauncher": wiring.launcher_data(s, bucket, ns),
                    "artifactRepositories": wiring.repositories_data(s, bucket, ns),
                    "secretKeys": {"bucketName": bucket, "minioServiceHost": s.s3_endpoint, "minioServiceRegion": s.region},
                }
                for ns in s.config.profile_namespaces
            }

        return pulumi.Output.all(self.bucket_name, pulumi.Output.from_input(roles)).apply(lambda v: settings_for(v[0], v[1] or {}))

    def exports(self) -> dict[str, Any]:
        """Stack outputs, camelCase as documented in the README."""
        return {
            "bucketName": self.bucket_name,
            "bucketArn": self.bucket_arn,
            "region": self.region,
            "s3Endpoint": self.s3_endpoint,
            "kmsKeyArn": self.kms_key_arn,
            "logBucketName": self.log_bucket_name,
            "secretName": names.KUBEFLOW_SECRET_NAME,
            "kubeflowNamespace": self._settings.config.kubeflow_namespace,
            "pipelineRoleArn": self.access.pipeline_role_arn,
            "uiRoleArn": self.access.ui_role_arn,
            "runnerRoleArn": self.access.runner_role_arn,
            "pipelineRoots": self.pipeline_roots,
            "profileSettings": self._profile_settings(),
            "profileRoleArns": self.access.profile_role_arns,
            "credentialsSecretArn": self.access.credentials_secret_arn,
            "replicaBucketName": self.replica.bucket_name if self.replica else None,
            "replicaBucketArn": self.replica.bucket_arn if self.replica else None,
            "replicaKmsKeyArn": self.replica.kms_key_arn if self.replica else None,
        }
