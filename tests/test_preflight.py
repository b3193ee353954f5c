"""Account and cluster binding: settings, the STS check on the moto server, the pulumi-aws floor."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from automation.driver.preflight import Preflight, caller_account, kube_contexts
from automation.offline.mock_engine import ROOT
from components.settings import ConfigError, load_settings
from tests.conftest import NS, config

OTHER_OIDC = "arn:aws:iam::999999999999:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789"
BOUND = {"aws:allowedAccountIds": '["123456789012"]'}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"aws:allowedAccountIds": '["1234"]'}, 'aws:allowedAccountIds: invalid value "1234" (not 12 digits)'),
        ({"aws:allowedAccountIds": '"123456789012"'}, 'aws:allowedAccountIds: invalid value "123456789012"; allowed: a list of 12-digit'),
        ({**BOUND, f"{NS}:eksOidcProviderArn": OTHER_OIDC}, "eksOidcProviderArn: invalid value 'arn:aws:iam::999999999999:oidc"),
        (
            {**BOUND, f"{NS}:encryption": "sse-kms", f"{NS}:kmsKeyAdminArns": '["arn:aws:iam::999999999999:role/admin"]'},
            "kmsKeyAdminArns: invalid value 'arn:aws:iam::999999999999:role/admin' (account 999999999999 is not this environment's)",
        ),
        (
            {
                **BOUND,
                f"{NS}:encryption": "sse-kms",
                f"{NS}:kmsKeyArn": "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            },
            "kmsKeyArn: invalid value 'arn:aws:kms:us-east-1:999999999999:key/",
        ),
        ({**BOUND, "aws:assumeRoles": '[{"roleArn": "arn:aws:iam::999999999999:role/deploy"}]'}, "aws:assumeRoles: invalid value"),
        ({**BOUND, "aws:assumeRoles": '[{"sessionName": "x"}]'}, "(no roleArn of an IAM role)"),
    ],
)
def test_binding_errors_are_one_line_naming_the_key(extra: dict, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings("dev", {**config(), **extra})
    assert message in str(raised.value) and "\n" not in str(raised.value) and "allowed:" in str(raised.value)


def test_binding_is_read_from_provider_config() -> None:
    settings = load_settings(
        "dev",
        {**config(), **BOUND, "aws:assumeRoles": '[{"roleArn": "arn:aws:iam::123456789012:role/deploy"}]', "kubernetes:context": "eks-dev"},
    )
    assert settings.account_ids == ("123456789012",)
    assert settings.assume_role_arns == ("arn:aws:iam::123456789012:role/deploy",)
    assert settings.kube_context == "eks-dev"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_stack_file_binds_account_and_cluster(env: str) -> None:
    document = yaml.safe_load((ROOT / f"Pulumi.{env}.yaml").read_text())["config"]
    assert document["aws:allowedAccountIds"] and document["kubernetes:context"]


def test_sts_on_the_moto_server_names_the_account(aws_env: str) -> None:
    assert caller_account("dev") == "123456789012"  # moto's default account, over HTTP on loopback


def test_preflight_with_real_sts_refuses_another_account(aws_env: str) -> None:
    """dev is bound to 111122223333; the moto credentials are account 123456789012."""
    from automation.errors import UsageError

    preflight = Preflight(rules=lambda env: [], contexts=lambda: {"kubeflow-dev"}, warn=lambda _: None)
    with pytest.raises(UsageError, match="account 123456789012 is not dev's \\(111122223333, aws:allowedAccountIds\\); nothing was run"):
        preflight("dev")


def test_no_kubeconfig_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    assert kube_contexts() is None
    (tmp_path / "cfg").write_text(yaml.safe_dump({"contexts": [{"name": "kubeflow-dev", "context": {}}]}))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "cfg"))
    assert kube_contexts() == {"kubeflow-dev"}


def test_installed_pulumi_aws_can_block_sse_c() -> None:
    """requirements.txt's floor (pulumi-aws 7.13.0) is the first release with blocked_encryption_types."""
    import pulumi_aws as aws

    assert "blocked_encryption_types" in inspect.signature(aws.s3.BucketServerSideEncryptionConfigurationRuleArgs).parameters
    assert "pulumi-aws>=7.13," in (ROOT / "requirements.txt").read_text()


def test_policy_pack_runs_in_the_projects_environment() -> None:
    """Pulumi resolves a pack's `virtualenv` against the pack's folder (pulumi/pulumi sdk/python/toolchain)."""
    pack = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    venv = (ROOT / "policy" / pack["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == (ROOT / ".venv").resolve()
    assert "policy/venv/" in (ROOT / ".gitignore").read_text()
