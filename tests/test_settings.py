"""Settings: every invalid configuration gives one line naming key, value and what is allowed."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest
from pydantic import ValidationError

from components.settings import ConfigError, load_settings
from tests.conftest import NS, OIDC, config

KMS_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

INVALID = [
    ({"encrytpion": "sse-kms"}, f"{NS}:encrytpion: unknown config key (did you mean encryption?); allowed: the keys Pulumi.yaml declares"),
    ({"encryption": "sse-c"}, f"{NS}:encryption: invalid value 'sse-c'"),
    ({"bucketName": "Kubeflow_Artifacts"}, f"{NS}:bucketName: invalid value 'Kubeflow_Artifacts' (only lowercase letters"),
    ({"bucketName": "ab"}, f"{NS}:bucketName: invalid value 'ab' (must be 3 to 63 characters)"),
    ({"bucketName": "my.dotted.bucket"}, f"{NS}:bucketName: invalid value 'my.dotted.bucket' (dots are refused"),
    ({"bucketName": "xn--artifacts"}, "uses a prefix or suffix that S3 reserves"),
    (
        {"kmsKeyRotationDays": 30},
        f"{NS}:kmsKeyRotationDays: invalid value 30 (Input should be greater than or equal to 90); allowed: an integer from 90 to 2560",
    ),
    ({"kmsKeyRotationDays": 3000}, "allowed: an integer from 90 to 2560"),
    ({"kmsDeletionWindowDays": 3}, f"{NS}:kmsDeletionWindowDays: invalid value 3"),
    ({"noncurrentVersionExpirationDays": 0}, f"{NS}:noncurrentVersionExpirationDays: invalid value 0"),
    ({"abortIncompleteUploadDays": -1}, f"{NS}:abortIncompleteUploadDays: invalid value -1"),
    ({"versioning": "maybe"}, f"{NS}:versioning: invalid value 'maybe'"),
    ({"kmsKeyArn": "alias/my-key", "encryption": "sse-kms"}, "(not a full KMS key ARN (aliases are not accepted))"),
    ({"kmsKeyArn": KMS_ARN}, f"{NS}:kmsKeyArn: invalid value '{KMS_ARN}' (encryption is sse-s3); allowed: only with encryption sse-kms"),
    ({"kmsKeyArn": KMS_ARN.replace("us-east-1", "eu-west-1"), "encryption": "sse-kms"}, "allowed: a key in the bucket's region us-east-1"),
    ({"kmsKeyArn": KMS_ARN, "encryption": "sse-kms", "kmsKeyAdminArns": ["arn:aws:iam::123456789012:role/admin"]}, "kmsKeyAdminArns"),
    ({"kmsKeyAdminArns": ["admin"]}, "'admin' is not an IAM role, user or root ARN"),
    (
        {"kmsKeyAdminArns": "[not json"},
        f"{NS}:kmsKeyAdminArns: invalid value '[not json' (a list is written as a YAML list (- item) or JSON ([...]), not a string)",
    ),
    ({"tags": {"aws:owner": "x"}}, "must be 1-128 characters and not start with aws:"),
    (
        {"eksOidcProviderArn": ""},
        f"{NS}:eksOidcProviderArn: missing; allowed: the EKS OIDC provider ARN (required with credentials irsa)",
    ),
    ({"eksOidcProviderArn": "arn:aws:iam::123:oidc-provider/x"}, "(not an IAM OIDC provider ARN)"),
    ({"kubeflowNamespace": "Kubeflow"}, f"{NS}:kubeflowNamespace: invalid value 'Kubeflow'"),
    ({"profileNamespaces": ["team-a", "team-a"]}, "namespace 'team-a' is listed twice"),
    (
        {"profileNamespaces": ["team_a"]},
        "invalid value 'team_a'; allowed: a list of distinct Kubernetes namespace names: lowercase letters, digits and '-'",
    ),
    ({"profileNamespaces": ["kubeflow"]}, "allowed: namespaces other than kubeflowNamespace 'kubeflow'"),
    ({"pipelineServiceAccount": "-bad"}, f"{NS}:pipelineServiceAccount: invalid value '-bad'"),
    ({"credentials": "keys"}, f"{NS}:credentials: invalid value 'keys'"),
    ({"secretsManager": True}, "allowed: true only with credentials static"),
]


@pytest.mark.parametrize(("keys", "message"), INVALID, ids=[next(iter(k)) + str(i) for i, (k, _) in enumerate(INVALID)])
def test_invalid_configuration_is_one_clear_line(keys: dict, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings("dev", config(**keys))
    text = str(raised.value)
    assert message in text
    assert "\n" not in text
    assert "allowed" in text or "valid keys" in text


def test_missing_region_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"^aws:region: not set; allowed: an AWS region"):
        load_settings("dev", {f"{NS}:eksOidcProviderArn": OIDC})


SECRET_VALUE = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    ("keys", "secrets", "message"),
    [
        (
            {"credentials": "static", "staticAccessKeyId": "AKIAIOSFODNN7EXAMPLE", "staticSecretAccessKey": SECRET_VALUE},
            {f"{NS}:staticAccessKeyId"},
            "staticSecretAccessKey: plain value refused (not shown)",
        ),
        (
            {"credentials": "static", "staticSecretAccessKey": SECRET_VALUE},
            {f"{NS}:staticSecretAccessKey"},
            "staticAccessKeyId: missing; allowed: staticAccessKeyId and staticSecretAccessKey both set or neither",
        ),
        (
            {"staticAccessKeyId": "AKIAIOSFODNN7EXAMPLE", "staticSecretAccessKey": SECRET_VALUE},
            {f"{NS}:staticAccessKeyId", f"{NS}:staticSecretAccessKey"},
            "set (not shown) but credentials is irsa",
        ),
        (
            {"credentials": "static", "staticAccessKeyId": "not-a-key-id", "staticSecretAccessKey": SECRET_VALUE},
            {f"{NS}:staticAccessKeyId", f"{NS}:staticSecretAccessKey"},
            "staticAccessKeyId: invalid value [secret]",
        ),
    ],
)
def test_static_key_errors_never_show_the_secret(keys: dict, secrets: set, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings("dev", config(**keys), frozenset(secrets))
    assert message in str(raised.value)
    assert SECRET_VALUE not in str(raised.value)
    assert "not-a-key-id" not in str(raised.value)


def test_defaults_and_derived_values() -> None:
    settings = load_settings("Prod_EU", config())
    c = settings.config
    assert (c.encryption, c.versioning, c.kms_key_rotation_days, c.kms_deletion_window_days) == ("sse-s3", True, 365, 30)
    assert (c.credentials, c.kubeflow_namespace, c.pipeline_service_account, c.profile_service_account) == (
        "irsa",
        "kubeflow",
        "ml-pipeline",
        "default-editor",
    )
    assert settings.oidc_issuer == "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789"
    assert settings.tags == {
        "pulumi-stack": "Prod_EU",
        "managed-by": "pulumi/kubeflow-artifact-store",
        "kubeflow-artifact-store:stack": "kubeflow-artifact-store/Prod_EU",  # what the deploy role is held to
    }


def test_settings_are_immutable() -> None:
    settings = load_settings("dev", config())
    with pytest.raises(ValidationError):
        settings.config.encryption = "sse-kms"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        settings.region = "eu-west-1"  # type: ignore[misc]


def test_numeric_and_boolean_tag_values_become_text_as_the_cli_writes_them() -> None:
    settings = load_settings("dev", config(tags={"cost-center": 1234, "gpu": True, "ratio": 0.5, "team": "ml"}))
    assert settings.config.tags == {"cost-center": "1234", "gpu": "true", "ratio": "0.5", "team": "ml"}
    with pytest.raises(ConfigError, match="tags"):
        load_settings("dev", config(tags={"nested": {"a": 1}}))
