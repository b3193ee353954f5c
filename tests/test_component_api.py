"""The component as a building block: typed args, Outputs as inputs, no URN change for existing stacks."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from automation.offline.check import run_check
from components.args import KubeflowArtifactStoreArgs
from components.args_codegen import render
from components.config_model import StoreConfig
from kubeflow_artifact_store import KubeflowArtifactStore
from tests.conftest import OIDC

URNS = Path(__file__).parent / "data" / "stack-urns.json"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_existing_stacks_keep_every_urn(env: str) -> None:
    """tests/data/stack-urns.json: the URNs the three stacks had before the component took typed
    args (recorded from that commit); the stack program must still register every one of them
    (none renamed or re-parented: no replacement), and add only what this version adds: the UI
    signing key (KFP 2.17), and with a replica and access logging, the replica's log bucket and events."""
    before = json.loads(URNS.read_text())[env]
    now = {r.urn for r in run_check(env).run.resources}
    assert set(before) <= now
    added = {urn.rsplit("::", 1)[-1] for urn in now - set(before)}
    expected = {"kubeflow-kubernetes-ui-signing", "kubeflow-kubernetes-ui-signing-key"}
    if env == "prod":
        expected |= {"kubeflow-replica-logging", "kubeflow-replica-events", "kubeflow-replica-access-logs"}
        expected |= {f"kubeflow-replica-access-logs-{part}" for part in BUCKET_PARTS}
    assert added == expected


BUCKET_PARTS = ("lifecycle", "ownership", "policy", "public-access", "encryption", "versioning")


def test_args_have_one_documented_field_per_config_key_and_stay_generated() -> None:
    fields = KubeflowArtifactStoreArgs.__annotations__
    assert set(StoreConfig.model_fields) | {"region"} == set(fields)
    source = (Path(__file__).parent.parent / "components" / "args.py").read_text()
    assert source == render()  # python -m components.args_codegen
    for name, field in StoreConfig.model_fields.items():
        assert field.description.split(";")[0][:40] in " ".join(source.split()), name


class ConsumerMocks(pulumi.runtime.Mocks):
    """An EKS cluster's OIDC provider, as a consumer program would create it, plus what the store needs."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        from automation.offline.mock_engine import StoreMocks

        if args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            url = args.inputs["url"].removeprefix("https://")
            return f"{args.name}-id", {**args.inputs, "arn": f"arn:aws:iam::123456789012:oidc-provider/{url}"}
        return StoreMocks("us-east-1").new_resource(args)

    def call(self, args: pulumi.runtime.MockCallArgs):
        from automation.offline.mock_engine import StoreMocks

        return StoreMocks("us-east-1").call(args)


def consumer_stack() -> None:
    """A consumer's stack: its own project, no config of ours (earlier runs in this process set some)."""
    pulumi.runtime.set_all_config({}, [])
    pulumi.runtime.set_mocks(ConsumerMocks(), project="platform", stack="dev", preview=False)


@pulumi.runtime.test
def test_a_consumer_passes_its_clusters_oidc_provider_as_an_output():
    consumer_stack()
    provider = aws.iam.OpenIdConnectProvider(
        "eks", url="https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789", client_id_lists=["sts.amazonaws.com"]
    )
    store = KubeflowArtifactStore(
        "artifacts", {"region": "us-east-1", "eks_oidc_provider_arn": provider.arn, "profile_namespaces": ["team-a"]}
    )

    def check(arns: list) -> None:
        pipeline, profiles = arns
        assert pipeline.startswith("arn:aws:iam::123456789012:role/kf-kubeflow-ml-pipeline-")
        assert set(profiles) == {"team-a"}

    return pulumi.Output.all(store.pipeline_role_arn, store.profile_role_arns).apply(check)


def test_an_invalid_arn_arriving_as_an_output_fails_with_the_one_line_message() -> None:
    """The rest is validated at once with a stand-in; the Output, when it resolves."""
    from pulumi.runtime.stack import _sync_await

    from components.inputs import resolve

    consumer_stack()
    bad = pulumi.Output.from_input("arn:aws:iam::123456789012:role/not-a-provider")
    inputs = resolve("dev", {"region": "us-east-1", "eks_oidc_provider_arn": bad})
    assert inputs.deferred("eks_oidc_provider_arn") and inputs.settings.config.encryption == "sse-s3"
    with pytest.raises(pulumi.RunError) as raised:  # one line, no traceback; the key as the caller wrote it
        _sync_await(inputs.value("eks_oidc_provider_arn").future())
    message = str(raised.value)
    assert message.startswith("eks_oidc_provider_arn: invalid value 'arn:aws:iam::123456789012:role/not-a-provider'")
    assert "\n" not in message and "allowed:" in message


def test_plain_values_are_validated_up_front() -> None:
    from components.settings import ConfigError

    consumer_stack()
    with pytest.raises(ConfigError, match="^encryption: invalid value 'sse-c'"):
        KubeflowArtifactStore("artifacts", {"region": "us-east-1", "eks_oidc_provider_arn": OIDC, "encryption": "sse-c"})
    with pytest.raises(ConfigError, match="^profile_namespaces: an Output is not accepted here \\(it decides which resources exist\\)"):
        KubeflowArtifactStore(
            "artifacts", {"region": "us-east-1", "eks_oidc_provider_arn": OIDC, "profile_namespaces": pulumi.Output.from_input(["a"])}
        )


def test_tags_and_key_admins_may_come_from_other_resources(tmp_path: Path) -> None:
    """Outputs for tags and key administrators: merged and placed in the key policy once resolved."""
    from automation.offline.mock_engine import ROOT, run_program

    program = tmp_path / "program.py"
    program.write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        "import pulumi\nfrom kubeflow_artifact_store import KubeflowArtifactStore\n"
        "team = pulumi.Output.from_input({'team': 'ml', 'cost-center': 1234})\n"
        "admins = pulumi.Output.from_input(['arn:aws:iam::123456789012:role/platform-admin'])\n"
        f"KubeflowArtifactStore('kf', {{'region': 'us-east-1', 'eks_oidc_provider_arn': {OIDC!r}, 'encryption': 'sse-kms',"
        " 'tags': team, 'kms_key_admin_arns': admins})\n"
    )
    run = run_program("dev", {"aws:region": "us-east-1"}, program=program)
    bucket = run.one("aws:s3/bucket:Bucket", "artifacts")
    assert bucket.inputs["tags"] == {
        "team": "ml",
        "cost-center": "1234",
        "pulumi-stack": "dev",
        "managed-by": "pulumi/kubeflow-artifact-store",
        "kubeflow-artifact-store:stack": "kubeflow-artifact-store/dev",
    }
    policy = json.loads(run.one("aws:kms/key:Key").inputs["policy"])
    admins = next(s for s in policy["Statement"] if s["Sid"] == "AllowKeyAdministration")
    assert admins["Principal"] == {"AWS": ["arn:aws:iam::123456789012:role/platform-admin"]}


def test_an_invalid_admin_arriving_as_an_output_fails_with_the_one_line_message() -> None:
    from pulumi.runtime.stack import _sync_await

    from components.inputs import resolve

    consumer_stack()
    inputs = resolve(
        "dev",
        {
            "region": "us-east-1",
            "eks_oidc_provider_arn": OIDC,
            "encryption": "sse-kms",
            "kms_key_admin_arns": pulumi.Output.from_input(["admin"]),
        },
    )
    with pytest.raises(pulumi.RunError, match='^kms_key_admin_arns: invalid value \\["admin"\\]'):
        _sync_await(inputs.value("kms_key_admin_arns").future())
