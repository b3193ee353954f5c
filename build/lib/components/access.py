"""KubeflowAccess: the AWS identities Kubeflow uses to reach the bucket (IRSA roles or static keys)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from . import names, policies, wiring
from .inputs import StoreInputs
from .settings import Settings, oidc_issuer_of

ACCESS_COMPONENT_TYPE = "kubeflow:storage:KubeflowAccess"
SECRET_RECOVERY_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Identity:
    """A Kubernetes ServiceAccount that reaches the bucket, and how far it may reach."""

    namespace: str
    service_account: str
    prefix: str = ""  # '' = the whole bucket; 'private-artifacts/<ns>/' = only that prefix
    read_only: bool = False
    role: str = "profile"  # "pipeline" (API server), "ui", "runner" (standalone runs) or "profile"
    legacy_prefix: str = ""  # 'private/<ns>/': read-only, objects written before the current layout

    @property
    def key(self) -> str:
        return f"{self.namespace}-{self.service_account}"


def identities(settings: Settings) -> list[Identity]:
    """IRSA identities: the API server (bucket-wide read/write), the UI (bucket-wide read); where
    runs happen, their ServiceAccount: `pipeline-runner` in the Kubeflow namespace on a standalone
    install (no profiles), `default-editor` in each profile namespace (its own prefix with isolation).
    A run identity without a role would fall back to the node's role."""
    c = settings.config
    runners = (
        [
            Identity(ns, c.profile_service_account, prefix=wiring.prefix(settings, ns), legacy_prefix=wiring.legacy_prefix(settings, ns))
            for ns in c.profile_namespaces
        ]
        if c.profile_namespaces
        else [Identity(c.kubeflow_namespace, names.PIPELINE_RUNNER_SERVICE_ACCOUNT, role="runner")]
    )
    return [
        Identity(c.kubeflow_namespace, c.pipeline_service_account, role="pipeline"),
        Identity(c.kubeflow_namespace, names.UI_SERVICE_ACCOUNT, read_only=True, role="ui"),
        *runners,
    ]


class KubeflowAccess(pulumi.ComponentResource):
    """IRSA (default): one role per ServiceAccount, trusted only by that ServiceAccount's token.
    Static: keys you supply, or a dedicated IAM user with a Pulumi-created key (a Pulumi secret).
    Every identity gets the same least-privilege policy on this bucket and key only."""

    pipeline_role_arn: pulumi.Output[str] | None = None
    ui_role_arn: pulumi.Output[str] | None = None
    runner_role_arn: pulumi.Output[str] | None = None
    profile_role_arns: dict[str, pulumi.Output[str]]
    # IRSA: role ARN per Identity.key
    role_arns: dict[str, pulumi.Output[str]]
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]
    credentials_secret_arn: pulumi.Output[str] | None = None

    def __init__(
        self,
        name: str,
        inputs: StoreInputs,
        bucket_arn: pulumi.Output[str],
        kms_key_arn: pulumi.Output[str] | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(ACCESS_COMPONENT_TYPE, name, None, opts)
        settings = inputs.settings
        self._name = name
        self._settings = settings
        self._inputs = inputs
        self._key_arn = kms_key_arn if kms_key_arn is not None else pulumi.Output.from_input(None)
        self._bucket_arn = bucket_arn
        self._access_policy = self._policy_for(Identity("", ""))
        self.profile_role_arns = {}
        self.role_arns = {}
        # IRSA: Kubeflow expects the keys present but empty, so pods fall through to their role.
        self.access_key_id = pulumi.Output.secret("")
        self.secret_access_key = pulumi.Output.secret("")
        if settings.config.credentials == "irsa":
            self._irsa_roles()
        else:
            self._static_credentials(kms_key_arn)
        self.register_outputs(
            {
                "pipelineRoleArn": self.pipeline_role_arn,
                "uiRoleArn": self.ui_role_arn,
                "runnerRoleArn": self.runner_role_arn,
                "profileRoleArns": self.profile_role_arns,
                "credentialsSecretArn": self.credentials_secret_arn,
            }
        )

    def _credentials_key(self) -> pulumi.Output[str]:
        """With SSE-S3 there is no stack key: a small dedicated key for the credentials secret,
        usable only through Secrets Manager, rotated and retained like the bucket's."""
        from .kms import ArtifactKey, key_args

        s = self._settings
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        key = ArtifactKey(
            f"{self._name}-credentials-key",
            key_args(
                s, names.credentials_kms_alias(s.stack), account, s.region, via_services=(names.service_host("secretsmanager", s.region),)
            ),
            opts=self._child(),
        )
        return key.arn

    def _child(self, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)  # type: ignore[arg-type]

    def _policy_for(self, identity: Identity) -> pulumi.Output[str]:
        region = self._settings.region
        return pulumi.Output.all(self._bucket_arn, self._key_arn).apply(
            lambda arns: policies.artifact_access_policy(
                arns[0],
                arns[1],
                region,
                identity.prefix,
                identity.read_only,
                self._settings.config.previous_kms_key_arns,
                identity.legacy_prefix,
            )
        )

    def _irsa_roles(self) -> None:
        s = self._settings
        for identity in identities(s):
            role = aws.iam.Role(
                f"{self._name}-{identity.key}",
                name_prefix=names.iam_name_prefix(identity.key),
                description=f"Kubeflow artifacts: {identity.namespace}/{identity.service_account} (IRSA)",
                assume_role_policy=self._inputs.value("eks_oidc_provider_arn").apply(
                    lambda arn, identity=identity: policies.irsa_trust_policy(
                        arn, oidc_issuer_of(arn), identity.namespace, identity.service_account
                    )
                ),
                max_session_duration=3600,
                tags=s.tags,
                **s.iam_identity_args,
                # Kept when the naming scheme changes (the prefix matters only at creation).
                opts=self._child(ignore_changes=["namePrefix"]),
            )
            aws.iam.RolePolicy(
                f"{self._name}-{identity.key}-artifacts",
                role=role.id,
                policy=self._policy_for(identity),
                opts=self._child(),
            )
            self.role_arns[identity.key] = role.arn
            if identity.role == "pipeline":
                self.pipeline_role_arn = role.arn
            elif identity.role == "ui":
                self.ui_role_arn = role.arn
            elif identity.role == "runner":
                self.runner_role_arn = role.arn
            else:
                self.profile_role_arns[identity.namespace] = role.arn

    def _static_credentials(self, kms_key_arn: pulumi.Output[str] | None) -> None:
        s = self._settings
        if s.static_keys_supplied:
            self.access_key_id = pulumi.Output.secret(self._inputs.value("static_access_key_id"))
            self.secret_access_key = pulumi.Output.secret(self._inputs.value("static_secret_access_key"))
        else:
            # Named kf-* like every identity of the stack: the deploy role may manage users only there.
            # A user created before keeps its name (ignore_changes): no replacement, no new key.
            user = aws.iam.User(
                f"{self._name}-user",
                name=names.static_user_name(s.stack),
                tags=s.tags,
                **s.iam_identity_args,
                opts=self._child(ignore_changes=["name"]),
            )
            aws.iam.UserPolicy(f"{self._name}-user-artifacts", user=user.name, policy=self._access_policy, opts=self._child())
            key = aws.iam.AccessKey(f"{self._name}-user-key", user=user.name, opts=self._child())
            self.access_key_id = pulumi.Output.secret(key.id)
            self.secret_access_key = pulumi.Output.secret(key.secret)
        if s.config.secrets_manager:
            secret_key = kms_key_arn if kms_key_arn is not None else self._credentials_key()
            secret = aws.secretsmanager.Secret(
                f"{self._name}-s3-secret",
                name_prefix="s3-secret-",
                description="Kubeflow Pipelines S3 credentials (secrets-store CSI driver)",
                kms_key_id=secret_key,  # a customer-managed key, never the AWS-managed one
                recovery_window_in_days=SECRET_RECOVERY_WINDOW_DAYS,
                tags=s.tags,
                opts=self._child(),
            )
            aws.secretsmanager.SecretVersion(
                f"{self._name}-s3-secret-value",
                secret_id=secret.id,
                secret_string=pulumi.Output.secret(
                    pulumi.Output.all(self.access_key_id, self.secret_access_key).apply(
                        lambda keys: json.dumps({"accesskey": keys[0], "secretkey": keys[1]})
                    )
                ),
                opts=self._child(),
            )
            self.credentials_secret_arn = secret.arn
