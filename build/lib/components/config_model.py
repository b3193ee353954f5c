"""The project's public interface: every config key of the `kubeflow-artifact-store` namespace.

One pydantic model holds each key's type, default, constraint and meaning. `Pulumi.yaml`'s
typed `config:` section and the README's reference table are checked against it by the tests,
so the three never drift apart.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
KMS_KEY_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$")
IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(root|(role|user)/[\w+=,.@/-]{1,512})$")
OIDC_PROVIDER_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:oidc-provider/([a-z0-9.-]+/id/[0-9A-Fa-f]{8,64})$")
ACCESS_KEY_ID = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{16}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
VPC_ENDPOINT_ID = re.compile(r"^vpce-[0-9a-f]{8,17}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")

DnsLabel = Annotated[str, Field(pattern=DNS1123_LABEL.pattern)]
DNS_LABEL_ALLOWED = "lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit"


def _allowed(text: str) -> dict[str, str]:
    """What an error message says is allowed; kept next to the constraint it describes."""
    return {"allowed": text}


class StoreConfig(BaseModel):
    """Config keys of the `kubeflow-artifact-store` namespace, validated as a whole."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    # -- storage ----------------------------------------------------------------------------
    bucket_name: str = Field(
        "",
        description="Exact bucket name; empty generates one with prefix kf-artifacts-<stack>-.",
        json_schema_extra=_allowed("an S3 bucket name: 3-63 of a-z 0-9 -, no dots, or empty"),
    )
    adopt_bucket: str = Field(
        "",
        description="Bring this existing bucket under management (Pulumi import) and harden it in place; it is never deleted.",
        json_schema_extra=_allowed("the name of an existing bucket in the stack's account and region, or empty"),
    )
    encryption: Literal["sse-s3", "sse-kms"] = Field(
        "sse-s3",
        description="Default encryption: sse-s3 (AES256) or sse-kms (customer-managed key).",
        json_schema_extra=_allowed("sse-s3 or sse-kms"),
    )
    kms_key_arn: str = Field(
        "",
        description="Use this existing KMS key (full key ARN, never an alias) instead of creating one.",
        json_schema_extra=_allowed("a full KMS key ARN arn:aws:kms:<region>:<account>:key/<id>, or empty"),
    )
    previous_kms_key_arns: tuple[str, ...] = Field(
        (),
        description="Keys objects written earlier are still encrypted with: identities keep kms:Decrypt (via S3) on them.",
        json_schema_extra=_allowed("a list of full KMS key ARNs in the bucket's region"),
    )
    kms_key_admin_arns: tuple[str, ...] = Field(
        (),
        description="IAM principals that may administer (not use) a created key.",
        json_schema_extra=_allowed("a list of IAM role, user or root ARNs"),
    )
    kms_key_rotation_days: int = Field(
        365,
        ge=90,
        le=2560,
        description="Automatic rotation period of a created key, in days.",
        json_schema_extra=_allowed("an integer from 90 to 2560"),
    )
    kms_deletion_window_days: int = Field(
        30,
        ge=7,
        le=30,
        description="Waiting period before a deleted key is destroyed, in days.",
        json_schema_extra=_allowed("an integer from 7 to 30"),
    )
    versioning: bool = Field(
        True,
        description="Keep object versions (Security Hub S3.14).",
        json_schema_extra=_allowed("true or false"),
    )
    noncurrent_version_expiration_days: int = Field(
        90,
        ge=1,
        description="Days after which noncurrent object versions expire.",
        json_schema_extra=_allowed("an integer of at least 1"),
    )
    abort_incomplete_upload_days: int = Field(
        7,
        ge=1,
        description="Days after which incomplete multipart uploads are aborted.",
        json_schema_extra=_allowed("an integer of at least 1"),
    )
    access_logging: bool = Field(
        False,
        description="Server access logs to a dedicated, equally hardened log bucket (S3.9).",
        json_schema_extra=_allowed("true or false"),
    )
    event_notifications: bool = Field(
        False,
        description="Send S3 events to EventBridge (CKV2_AWS_62).",
        json_schema_extra=_allowed("true or false"),
    )
    protect: bool = Field(
        False,
        description="protect and retainOnDelete on the buckets and the key.",
        json_schema_extra=_allowed("true or false"),
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tags merged with the stack and managed-by tags.",
        json_schema_extra=_allowed("an object of string tags; keys 1-128 chars, not aws:*, values up to 256"),
    )
    # -- data perimeter and disaster recovery -------------------------------------------------
    trusted_account_ids: tuple[str, ...] = Field(
        (),
        description="Other AWS accounts whose principals may reach the buckets (the stack's own account always may).",
        json_schema_extra=_allowed("a list of 12-digit AWS account IDs"),
    )
    organization_id: str = Field(
        "",
        description="Also admit principals of this AWS Organization (aws:PrincipalOrgID); empty: accounts only.",
        json_schema_extra=_allowed("an organization ID o-xxxxxxxxxx, or empty"),
    )
    allowed_vpc_endpoint_ids: tuple[str, ...] = Field(
        (),
        description="Network perimeter: requests only through these VPC endpoints (exempt principals and AWS services excepted).",
        json_schema_extra=_allowed("a list of vpce-... IDs (needs perimeterExemptPrincipalArns)"),
    )
    replica_allowed_vpc_endpoint_ids: tuple[str, ...] = Field(
        (),
        description="Replica network perimeter: VPC endpoints of the replica region (needed with replicaRegion and allowedVpcEndpointIds).",
        json_schema_extra=_allowed("a list of vpce-... IDs in the replica region"),
    )
    perimeter_exempt_principal_arns: tuple[str, ...] = Field(
        (),
        description="Principals exempt from the network perimeter: the roles that run pulumi up and verify.",
        json_schema_extra=_allowed("a list of IAM role or user ARNs"),
    )
    replica_region: str = Field(
        "",
        description="Replicate every object (and delete markers) to an equally hardened bucket in this region.",
        json_schema_extra=_allowed("an AWS region other than the bucket's, in the same partition, or empty"),
    )
    replication_time_control: bool = Field(
        False,
        description="S3 Replication Time Control (15-minute SLA, extra cost) with its metrics.",
        json_schema_extra=_allowed("true or false"),
    )
    # -- Kubeflow access --------------------------------------------------------------------
    credentials: Literal["irsa", "static"] = Field(
        "irsa",
        description="How Kubeflow authenticates: irsa (IAM roles for service accounts) or static keys.",
        json_schema_extra=_allowed("irsa or static"),
    )
    eks_oidc_provider_arn: str = Field(
        "",
        description="The EKS cluster's IAM OIDC provider ARN; required for irsa.",
        json_schema_extra=_allowed("arn:aws:iam::<account>:oidc-provider/<issuer host>/id/<id>"),
    )
    kubeflow_pipelines_version: Literal["2.5", "2.14", "2.15", "2.16", "2.17"] = Field(
        "2.17",
        description="The Kubeflow Pipelines release installed (major.minor); selects only what differs between releases.",
        json_schema_extra=_allowed('"2.5", "2.14", "2.15", "2.16" or "2.17" (quoted: a string)'),
    )
    kubeflow_namespace: DnsLabel = Field(
        "kubeflow",
        description="Namespace of Kubeflow Pipelines.",
        json_schema_extra=_allowed(DNS_LABEL_ALLOWED),
    )
    pipeline_service_account: DnsLabel = Field(
        "ml-pipeline",
        description="ServiceAccount of the Kubeflow Pipelines API server.",
        json_schema_extra=_allowed(DNS_LABEL_ALLOWED),
    )
    profile_namespaces: tuple[DnsLabel, ...] = Field(
        (),
        description="Kubeflow profile (user) namespaces.",
        json_schema_extra=_allowed("a list of distinct Kubernetes namespace names: " + DNS_LABEL_ALLOWED),
    )
    profile_service_account: DnsLabel = Field(
        "default-editor",
        description="ServiceAccount pipeline pods run as in profile namespaces.",
        json_schema_extra=_allowed(DNS_LABEL_ALLOWED),
    )
    static_access_key_id: SecretStr = Field(
        SecretStr(""),
        description="static mode: access key ID you supply (pulumi config set --secret); empty creates an IAM user.",
        json_schema_extra=_allowed("a secret AKIA... key ID, together with staticSecretAccessKey"),
    )
    static_secret_access_key: SecretStr = Field(
        SecretStr(""),
        description="static mode: secret access key you supply (pulumi config set --secret).",
        json_schema_extra=_allowed("a secret value, together with staticAccessKeyId"),
    )
    static_key_max_age_days: int = Field(
        90,
        ge=1,
        le=730,
        description="static mode: verify fails when the access key the program created is older than this (rotate it).",
        json_schema_extra=_allowed("1 to 730 days"),
    )
    secrets_manager: bool = Field(
        False,
        description="static mode: also keep {accesskey, secretkey} in AWS Secrets Manager.",
        json_schema_extra=_allowed("true or false"),
    )
    iam_permissions_boundary_arn: str = Field(
        "",
        description="Permissions boundary set on every IAM role and user the program creates (for SCPs that require one).",
        json_schema_extra=_allowed("an IAM managed policy ARN arn:aws:iam::<account>:policy/<name>, or empty"),
    )
    iam_path: str = Field(
        "/",
        description="IAM path of every role and user the program creates.",
        json_schema_extra=_allowed("/ or /a/path/ (1-512 chars, starting and ending with /)"),
    )
    manage_service_accounts: bool = Field(
        True,
        description="irsa mode: annotate the existing ServiceAccounts with their role ARN.",
        json_schema_extra=_allowed("true or false"),
    )
    profile_isolation: bool = Field(
        True,
        description="Each profile namespace gets its own prefix private-artifacts/<namespace>/ and a role limited to it (irsa only).",
        json_schema_extra=_allowed("true or false (true needs credentials irsa when profileNamespaces is set)"),
    )
    read_legacy_profile_prefix: bool = Field(
        True,
        description="Profiles keep read access to their former prefix private/<namespace>/ (objects written before private-artifacts/).",
        json_schema_extra=_allowed("true or false (false once the old objects are migrated or no longer needed)"),
    )
    profile_objects: Literal["managed", "external"] = Field(
        "managed",
        description="Who writes the per-profile Kubernetes objects: managed (this program) or external (Kubeflow's profile controller).",
        json_schema_extra=_allowed("managed or external"),
    )
    manage_kubernetes: bool = Field(
        True,
        description="Write the Kubernetes objects Kubeflow reads; false: the AWS side only (e.g. GitOps with `manifests`).",
        json_schema_extra=_allowed("true or false"),
    )
    patch_deployments: bool = Field(
        True,
        description="Patch the ml-pipeline and ml-pipeline-ui Deployments (object-store env, AWS_REGION, a rollout when the role changes).",
        json_schema_extra=_allowed("true or false"),
    )

    @field_validator("bucket_name")
    @classmethod
    def _bucket_name(cls, name: str) -> str:
        if name and (problem := bucket_name_problem(name)):
            raise ValueError(problem)
        return name

    @field_validator("kms_key_arn")
    @classmethod
    def _kms_key_arn(cls, arn: str) -> str:
        if arn and not KMS_KEY_ARN.match(arn):
            raise ValueError("not a full KMS key ARN (aliases are not accepted)")
        return arn

    @field_validator("adopt_bucket")
    @classmethod
    def _adopted(cls, name: str) -> str:
        # An existing bucket may have a name we would not choose (dots): only S3's own rules apply.
        if name and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name):
            raise ValueError("not an S3 bucket name")
        return name

    @field_validator("previous_kms_key_arns")
    @classmethod
    def _previous_keys(cls, arns: tuple[str, ...]) -> tuple[str, ...]:
        for arn in arns:
            if not KMS_KEY_ARN.match(arn):
                raise ValueError(f"{arn!r} is not a full KMS key ARN")
        return arns

    @field_validator("iam_permissions_boundary_arn")
    @classmethod
    def _boundary(cls, arn: str) -> str:
        if arn and not re.fullmatch(r"arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,512}", arn):
            raise ValueError("not an IAM managed policy ARN")
        return arn

    @field_validator("iam_path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not re.fullmatch(r"/([\w+=,.@-]+/)*", path) or len(path) > 512:
            raise ValueError("an IAM path starts and ends with /")
        return path

    @field_validator("kms_key_admin_arns")
    @classmethod
    def _admins(cls, arns: tuple[str, ...]) -> tuple[str, ...]:
        for arn in arns:
            if not IAM_PRINCIPAL_ARN.match(arn):
                raise ValueError(f"{arn!r} is not an IAM role, user or root ARN")
        return arns

    @field_validator("trusted_account_ids")
    @classmethod
    def _accounts(cls, accounts: tuple[str, ...]) -> tuple[str, ...]:
        for account in accounts:
            if not ACCOUNT_ID.match(account):
                raise ValueError(f"{account!r} is not a 12-digit account ID")
        return accounts

    @field_validator("organization_id")
    @classmethod
    def _organization(cls, organization: str) -> str:
        if organization and not ORGANIZATION_ID.match(organization):
            raise ValueError("not an organization ID (o- and 10 to 32 lowercase letters or digits)")
        return organization

    @field_validator("allowed_vpc_endpoint_ids", "replica_allowed_vpc_endpoint_ids")
    @classmethod
    def _endpoints(cls, endpoints: tuple[str, ...]) -> tuple[str, ...]:
        for endpoint in endpoints:
            if not VPC_ENDPOINT_ID.match(endpoint):
                raise ValueError(f"{endpoint!r} is not a VPC endpoint ID")
        return endpoints

    @field_validator("perimeter_exempt_principal_arns")
    @classmethod
    def _exempt(cls, arns: tuple[str, ...]) -> tuple[str, ...]:
        for arn in arns:
            if not IAM_PRINCIPAL_ARN.match(arn) or arn.endswith(":root"):
                raise ValueError(f"{arn!r} is not an IAM role or user ARN")
        return arns

    @field_validator("replica_region")
    @classmethod
    def _region(cls, region: str) -> str:
        if region and not REGION.match(region):
            raise ValueError("not an AWS region name")
        return region

    @field_validator("eks_oidc_provider_arn")
    @classmethod
    def _oidc(cls, arn: str) -> str:
        if arn and not OIDC_PROVIDER_ARN.match(arn):
            raise ValueError("not an IAM OIDC provider ARN")
        return arn

    @field_validator("profile_namespaces")
    @classmethod
    def _distinct(cls, namespaces: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for namespace in namespaces:
            if namespace in seen:
                raise ValueError(f"namespace {namespace!r} is listed twice")
            seen.add(namespace)
        return namespaces

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_values_as_text(cls, tags: object) -> object:
        """The CLI accepts `cost-center: 1234` or `gpu: true` in a stack file; AWS tags are text."""
        if not isinstance(tags, dict):
            return tags
        return {
            k: ("true" if v else "false") if isinstance(v, bool) else str(v) if isinstance(v, int | float) else v for k, v in tags.items()
        }

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        for key, value in tags.items():
            if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} must be 1-128 characters and not start with aws:")
            if len(value) > 256:
                raise ValueError(f"tag {key!r} has a value longer than 256 characters")
        return tags


_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a usable bucket name, or None (S3 general purpose bucket rules)."""
    if not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters"
    if "." in name:
        return "dots are refused: they break TLS certificate matching for virtual-hosted requests"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", name):
        return "only lowercase letters, digits and hyphens, starting and ending with a letter or digit"
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "uses a prefix or suffix that S3 reserves"
    return None
