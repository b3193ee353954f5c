"""Settings: the stack's config read once, validated as a whole, and frozen.

Pure Python (no Pulumi engine needed), so the offline `check`, the policy pack and the
tests use exactly the validation the program uses.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from . import names, releases
from .config_declarations import project_config_declarations, project_key_names
from .config_model import ACCESS_KEY_ID, ACCOUNT_ID, OIDC_PROVIDER_ARN, StoreConfig

# Keys whose values must never be echoed in an error or log.
SECRET_KEYS = frozenset({"staticAccessKeyId", "staticSecretAccessKey"})
# Keys whose values Pulumi hands over as JSON text (arrays and objects), derived from the model.
_STRUCTURED = {key for key, declared in project_config_declarations().items() if declared["type"] in ("array", "object")}
ALLOWED_ACCOUNTS_KEY = "aws:allowedAccountIds"
# Set by the driver's --allow-unknown-region (and inherited by the program the CLI runs).
ALLOW_UNKNOWN_REGION = "KUBEFLOW_ARTIFACT_STORE_ALLOW_UNKNOWN_REGION"
ASSUME_ROLES_KEY = "aws:assumeRoles"
KUBE_CONTEXT_KEY = "kubernetes:context"
ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")


class ConfigError(ValueError):
    """Invalid stack configuration. str() is one line: key, bad value (never a secret's), what is allowed."""


@dataclass(frozen=True)
class Settings:
    """Everything the component needs: the stack, its region and the validated project config."""

    stack: str
    region: str
    config: StoreConfig
    # Project keys whose value is a Pulumi secret (encrypted in the stack file).
    secret_keys: frozenset[str] = frozenset()
    # The environment's binding (provider config, not project keys): the AWS accounts the aws
    # provider may deploy into (`aws:allowedAccountIds`), the roles it assumes (`aws:assumeRoles`)
    # and the kubeconfig context the kubernetes provider uses (`kubernetes:context`).
    account_ids: tuple[str, ...] = ()
    assume_role_arns: tuple[str, ...] = ()
    kube_context: str = ""
    # Component args that arrived as Outputs of other resources (components.inputs), by arg name:
    # validated when they resolve; `tags` and `key_admins` hand them on.
    deferred: Mapping[str, Any] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        return names.partition_of(self.region)

    @property
    def s3_endpoint(self) -> str:
        return names.s3_regional_endpoint(self.region)

    @property
    def kms_enabled(self) -> bool:
        return self.config.encryption == "sse-kms"

    @property
    def creates_kms_key(self) -> bool:
        return self.kms_enabled and not self.config.kms_key_arn

    @property
    def static_keys_supplied(self) -> bool:
        return bool(self.config.static_access_key_id.get_secret_value())

    @property
    def oidc_issuer(self) -> str:
        return oidc_issuer_of(self.config.eks_oidc_provider_arn)

    @property
    def namespaces(self) -> tuple[str, ...]:
        return (self.config.kubeflow_namespace, *self.config.profile_namespaces)

    @property
    def iam_identity_args(self) -> dict[str, str]:
        """Path and permissions boundary for every IAM role and user the program creates."""
        c = self.config
        return {"path": c.iam_path, **({"permissions_boundary": c.iam_permissions_boundary_arn} if c.iam_permissions_boundary_arn else {})}

    @property
    def tags(self) -> Any:
        """The stack's tags (an Output when the component's `tags` came from another resource)."""
        key, value = names.MANAGED_BY_TAG
        ours = {names.STACK_TAG: self.stack, key: value, names.OWNER_TAG: names.owner_tag_value(self.stack)}
        if "tags" in self.deferred:
            return self.deferred["tags"].apply(lambda tags: {**tags, **ours})
        return {**self.config.tags, **ours}

    @property
    def key_admins(self) -> Any:
        """Administrators of a created key (an Output when they came from other resources)."""
        return self.deferred.get("kms_key_admin_arns", self.config.kms_key_admin_arns)


def oidc_issuer_of(provider_arn: str) -> str:
    """The issuer host path, e.g. oidc.eks.us-east-1.amazonaws.com/id/ABC (from the provider ARN)."""
    match = OIDC_PROVIDER_ARN.match(provider_arn)
    return match.group(2) if match else ""


def _one_line(key: str, value: Any, allowed: str, why: str = "") -> ConfigError:
    reason = f" ({why})" if why else ""
    if value == "" or value is None:
        return ConfigError(f"{names.PROJECT}:{key}: missing{reason}; allowed: {allowed}")
    shown = "[secret]" if key in SECRET_KEYS else json.dumps(value) if not isinstance(value, str) else repr(value)
    return ConfigError(f"{names.PROJECT}:{key}: invalid value {shown}{reason}; allowed: {allowed}")


def _allowed_for(key: str) -> str:
    for name, declared in StoreConfig.model_fields.items():
        if (declared.alias or name) == key:
            return (declared.json_schema_extra or {}).get("allowed", "")  # type: ignore[union-attr]
    return ""


def _parse(key: str, raw: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text; stack files may hold YAML values."""
    if key in _STRUCTURED and isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise _one_line(
                key, raw, _allowed_for(key), "a list is written as a YAML list (- item) or JSON ([...]), not a string"
            ) from None
    return raw


# pydantic's own words say what the `allowed:` text of the key already says, in its vocabulary:
# those are left out; a constraint of ours (a field_validator's ValueError) keeps its reason.
_VALIDATOR_WORDS = ("literal_error", "string_pattern_mismatch", "string_type", "int_parsing", "bool_parsing", "list_type", "dict_type")


def _validation_error(error: ValidationError, values: Mapping[str, Any]) -> ConfigError:
    first = error.errors()[0]
    loc = first["loc"]
    key = str(loc[0]) if loc else "config"
    bad = values.get(key, first.get("input"))
    if len(loc) > 1 and isinstance(loc[1], int) and isinstance(bad, list | tuple) and loc[1] < len(bad):
        bad = bad[loc[1]]  # the one item of a list that is wrong
    why = "" if first["type"] in _VALIDATOR_WORDS else first["msg"].removeprefix("Value error, ")
    if bad in ("", None):
        return ConfigError(f"{names.PROJECT}:{key}: missing; allowed: {_allowed_for(key)}")
    return _one_line(key, bad, _allowed_for(key), why)


def load_settings(
    stack: str,
    raw_config: Mapping[str, Any],
    secret_keys: frozenset[str] | set[str] = frozenset(),
    region: str = "",
) -> Settings:
    """Validate a stack's config. `raw_config` maps full keys (`kubeflow-artifact-store:encryption`,
    `aws:region`) to values; `secret_keys` names those that are Pulumi secrets.
    Raises ConfigError with a one-line message on the first problem found."""
    prefix = f"{names.PROJECT}:"
    valid = project_key_names()
    values: dict[str, Any] = {}
    secrets = frozenset(k.removeprefix(prefix) for k in secret_keys if k.startswith(prefix))
    for full_key, raw in raw_config.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key.removeprefix(prefix)
        if key not in valid:
            hint = difflib.get_close_matches(key, valid, n=1)
            did_you_mean = f"did you mean {hint[0]}?" if hint else "no key is close"
            raise ConfigError(f"{full_key}: unknown config key ({did_you_mean}); allowed: the keys Pulumi.yaml declares under config:")
        values[key] = _parse(key, raw)

    for key in SECRET_KEYS & values.keys():
        if values[key] not in ("", None) and key not in secrets:
            raise ConfigError(
                f"{prefix}{key}: plain value refused (not shown); allowed: a secret, set with `pulumi config set --secret {key} ...`"
            )
    try:
        config = StoreConfig.model_validate(values)
    except ValidationError as error:
        raise _validation_error(error, values) from None

    region = region or str(raw_config.get("aws:region", ""))
    if not region:
        raise ConfigError("aws:region: not set; allowed: an AWS region, e.g. `pulumi config set aws:region eu-west-1`")
    if not names.known_region(region) and not os.environ.get(ALLOW_UNKNOWN_REGION):
        raise ConfigError(
            f"aws:region: {region!r} is no AWS region this project knows; allowed: a region of the aws, aws-cn or aws-us-gov "
            "partition (a region newer than this release: --allow-unknown-region)"
        )
    settings = Settings(
        stack=stack,
        region=region,
        config=config,
        secret_keys=secrets,
        account_ids=_account_ids(raw_config.get(ALLOWED_ACCOUNTS_KEY)),
        assume_role_arns=_assume_role_arns(raw_config.get(ASSUME_ROLES_KEY)),
        kube_context=str(raw_config.get(KUBE_CONTEXT_KEY) or ""),
    )
    _check_combinations(settings)
    _check_accounts(settings)
    return settings


def _structured(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _account_ids(raw: Any) -> tuple[str, ...]:
    if raw in (None, "", []):
        return ()
    value = _structured(raw)
    allowed = "a list of 12-digit AWS account IDs"
    if not isinstance(value, list):
        raise ConfigError(f"{ALLOWED_ACCOUNTS_KEY}: invalid value {json.dumps(value)}; allowed: {allowed}")
    for item in value:
        if not ACCOUNT_ID.match(str(item)):
            raise ConfigError(f"{ALLOWED_ACCOUNTS_KEY}: invalid value {json.dumps(item)} (not 12 digits); allowed: {allowed}")
    return tuple(str(item) for item in value)


def _assume_role_arns(raw: Any) -> tuple[str, ...]:
    """pulumi-aws 7's `assumeRoles`: a list of {roleArn, sessionName, ...}."""
    if raw in (None, "", []):
        return ()
    value = _structured(raw)
    allowed = "a list of {roleArn: arn:aws:iam::<account>:role/<name>, ...}"
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{ASSUME_ROLES_KEY}: invalid value {json.dumps(value)}; allowed: {allowed}")
    arns = []
    for item in value:
        arn = item.get("roleArn") if isinstance(item, dict) else None
        if not isinstance(arn, str) or not ROLE_ARN.match(arn):
            raise ConfigError(f"{ASSUME_ROLES_KEY}: invalid value {json.dumps(item)} (no roleArn of an IAM role); allowed: {allowed}")
        arns.append(arn)
    return tuple(arns)


def account_of(arn: str) -> str:
    return arn.split(":")[4] if arn.count(":") >= 5 else ""


def _check_accounts(settings: Settings) -> None:
    """Everything the stack names lives in the environment's account(s): IRSA trusts only an OIDC
    provider of the role's own account, and a key or role elsewhere is a cross-account grant."""
    if not settings.account_ids:
        return
    allowed = f"an ARN in {ALLOWED_ACCOUNTS_KEY} {', '.join(settings.account_ids)}"
    c = settings.config
    named = [("eksOidcProviderArn", c.eks_oidc_provider_arn), ("kmsKeyArn", c.kms_key_arn)]
    named += [("kmsKeyAdminArns", arn) for arn in c.kms_key_admin_arns]
    for key, arn in named:
        if arn and account_of(arn) not in settings.account_ids:
            raise _one_line(key, arn, allowed, f"account {account_of(arn)} is not this environment's")
    for arn in settings.assume_role_arns:
        if account_of(arn) not in settings.account_ids:
            raise ConfigError(
                f"{ASSUME_ROLES_KEY}: invalid value {arn!r} (account {account_of(arn)} is not this environment's); allowed: {allowed}"
            )


def _check_combinations(settings: Settings) -> None:
    """Rules that involve more than one key; each error names the key that must change."""
    c = settings.config
    if c.adopt_bucket and c.bucket_name and c.bucket_name != c.adopt_bucket:
        raise _one_line("bucketName", c.bucket_name, f"empty or {c.adopt_bucket!r} with adoptBucket", "two different buckets named")
    for arn in c.previous_kms_key_arns:
        if f":kms:{settings.region}:" not in arn:
            raise _one_line(
                "previousKmsKeyArns", list(c.previous_kms_key_arns), f"keys in the bucket's region {settings.region}", f"{arn} is not"
            )
    if c.kms_key_arn and not settings.kms_enabled:
        raise _one_line("kmsKeyArn", c.kms_key_arn, "only with encryption sse-kms", "encryption is sse-s3")
    if c.kms_key_arn and c.kms_key_admin_arns:
        raise _one_line("kmsKeyAdminArns", list(c.kms_key_admin_arns), "empty when kmsKeyArn is set", "the key is not created here")
    if c.kms_key_arn and f":kms:{settings.region}:" not in c.kms_key_arn:
        raise _one_line("kmsKeyArn", c.kms_key_arn, f"a key in the bucket's region {settings.region}")
    if c.kms_key_arn and names.partition_of(settings.region) != c.kms_key_arn.split(":")[1]:
        raise _one_line("kmsKeyArn", c.kms_key_arn, f"a key in partition {settings.partition}")
    if c.credentials == "irsa" and not c.eks_oidc_provider_arn:
        raise _one_line("eksOidcProviderArn", "", "the EKS OIDC provider ARN (required with credentials irsa)")
    if c.eks_oidc_provider_arn and c.eks_oidc_provider_arn.split(":")[1] != settings.partition:
        raise _one_line("eksOidcProviderArn", c.eks_oidc_provider_arn, f"a provider in partition {settings.partition}")
    key_id = c.static_access_key_id.get_secret_value()
    secret = c.static_secret_access_key.get_secret_value()
    if bool(key_id) != bool(secret):
        missing = "staticSecretAccessKey" if key_id else "staticAccessKeyId"
        raise ConfigError(f"{names.PROJECT}:{missing}: missing; allowed: staticAccessKeyId and staticSecretAccessKey both set or neither")
    if key_id and c.credentials != "static":
        raise ConfigError(
            f"{names.PROJECT}:staticAccessKeyId: set (not shown) but credentials is irsa; allowed: only with credentials static"
        )
    # A secret value unreadable offline (`check` without the passphrase) is a placeholder; skip its format.
    if key_id and not key_id.startswith("[secret") and not ACCESS_KEY_ID.match(key_id):
        raise ConfigError(f"{names.PROJECT}:staticAccessKeyId: invalid value [secret]; allowed: an AKIA... or ASIA... key ID")
    if c.secrets_manager and c.credentials != "static":
        raise _one_line("secretsManager", True, "true only with credentials static", "irsa mode has no keys to store")
    if c.allowed_vpc_endpoint_ids and not c.perimeter_exempt_principal_arns:
        raise _one_line(
            "perimeterExemptPrincipalArns",
            [],
            "the role ARNs that run pulumi up and verify (required with allowedVpcEndpointIds)",
            "without them the network perimeter locks out its deployers",
        )
    if c.replica_region and c.allowed_vpc_endpoint_ids and not c.replica_allowed_vpc_endpoint_ids:
        raise _one_line(
            "replicaAllowedVpcEndpointIds",
            [],
            f"VPC endpoint IDs in {c.replica_region} (required with replicaRegion and allowedVpcEndpointIds)",
            "the source's endpoints do not exist in the replica region",
        )
    if c.replica_allowed_vpc_endpoint_ids and not (c.replica_region and c.allowed_vpc_endpoint_ids):
        raise _one_line(
            "replicaAllowedVpcEndpointIds",
            list(c.replica_allowed_vpc_endpoint_ids),
            "only with replicaRegion and allowedVpcEndpointIds",
        )
    if c.replica_region:
        if c.replica_region == settings.region:
            raise _one_line("replicaRegion", c.replica_region, "a region other than the bucket's", f"the bucket is in {settings.region}")
        if names.partition_of(c.replica_region) != settings.partition:
            raise _one_line("replicaRegion", c.replica_region, f"a region in partition {settings.partition}", "another partition")
        if not c.versioning:
            raise _one_line("replicaRegion", c.replica_region, "only with versioning true", "replication needs versioning on both buckets")
    if c.profile_isolation and c.credentials == "static" and c.profile_namespaces:
        raise _one_line(
            "profileIsolation",
            True,
            "false with credentials static (one key pair cannot be split per profile), or credentials irsa",
            "static credentials are shared by every profile",
        )
    kfp = releases.release(c.kubeflow_pipelines_version)
    if kfp.profile_controller_writes_seaweedfs and c.profile_objects == "external" and c.profile_namespaces:
        raise _one_line(
            "profileObjects",
            "external",
            f"managed with kubeflowPipelinesVersion {kfp.version}",
            f"KFP {kfp.version}'s profile controller hard-codes SeaweedFS pipeline roots and credentials and cannot be pointed at S3",
        )
    if kfp.api_server_refuses_empty_keys and c.credentials == "irsa":
        raise _one_line(
            "kubeflowPipelinesVersion",
            kfp.version,
            "2.16 or later with credentials irsa, or credentials static",
            "KFP 2.15.0's API server refuses empty object-store keys (kubeflow/pipelines#12508)",
        )
    if c.kubeflow_namespace in c.profile_namespaces:
        raise _one_line(
            "profileNamespaces", list(c.profile_namespaces), f"namespaces other than kubeflowNamespace {c.kubeflow_namespace!r}"
        )
