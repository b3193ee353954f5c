"""Every reader and writer wired to the bucket: Argo repositories, KFP launcher config, isolation."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from automation.offline.mock_engine import ROOT
from components import names, policies, wiring
from components.settings import ConfigError, load_settings
from tests.conftest import NS, config, run

# Copied from the upstream projects (shared/schemas): no test depends on a sibling folder.
ARGO_SCHEMA = ROOT / "tests" / "data" / "schemas" / "argo-artifact-repository.schema.json"
PROFILES = ["team-a", "team-b"]
# KFP's launcher `providers` fields (kubeflow/pipelines backend/src/v2/config/s3.go, env.go).
KFP_PROVIDER_FIELDS = {
    "s3": {"default", "overrides"},
    "default": {"endpoint", "region", "disableSSL", "forcePathStyle", "maxRetries", "credentials"},
    "credentials": {"fromEnv", "secretRef"},
    "secretRef": {"secretName", "accessKeyKey", "secretKeyKey"},
}


def undeclared_keys(document: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "") -> list[str]:
    """Keys of `document` that the schema does not declare (the schema itself allows extra keys)."""
    if "$ref" in schema:
        schema = root["definitions"][schema["$ref"].split("/")[-1]]
    if not isinstance(document, dict):
        return []
    properties = schema.get("properties", {})
    found = [f"{path}.{key}" for key in document if key not in properties]
    for key, value in document.items():
        if key in properties:
            found += undeclared_keys(value, properties[key], root, f"{path}.{key}")
    return found


def settings_of(**keys: Any):
    return load_settings("dev", config(**keys))


@pytest.mark.parametrize("credentials", ["irsa", "static"])
@pytest.mark.parametrize("namespace", ["kubeflow", "team-a"])
def test_every_artifact_repository_validates_against_argos_schema(credentials: str, namespace: str) -> None:
    schema = json.loads(ARGO_SCHEMA.read_text())
    keys = {"profileNamespaces": PROFILES, "credentials": credentials, "profileIsolation": credentials == "irsa"}
    repository = wiring.argo_repository(settings_of(**keys), "kf-bucket", namespace)
    jsonschema.validate(repository, schema)
    assert undeclared_keys(repository, schema, schema) == []
    s3 = repository["s3"]
    assert s3["insecure"] is False and s3["region"] == "us-east-1" and s3["endpoint"] == "s3.us-east-1.amazonaws.com"
    assert repository["archiveLogs"] is True and "encryptionOptions" not in s3
    assert (s3.get("useSDKCreds") is True) is (credentials == "irsa")
    if credentials == "static":
        assert s3["accessKeySecret"] == {"name": "mlpipeline-minio-artifact", "key": "accesskey"}


def test_rendered_repositories_in_the_program_parse_as_the_function_says() -> None:
    r = run("dev", profileNamespaces=PROFILES)
    for x in r.resources:
        if x.inputs.get("metadata", {}).get("name") == "artifact-repositories":
            namespace = x.inputs["metadata"]["namespace"]
            assert x.inputs["metadata"]["annotations"][names.DEFAULT_REPOSITORY_ANNOTATION] == names.ARTIFACT_REPOSITORY_KEY
            parsed = yaml.safe_load(x.inputs["data"][names.ARTIFACT_REPOSITORY_KEY])
            assert parsed["s3"]["bucket"] == r.exports["bucketName"]
            assert parsed["s3"]["keyFormat"].startswith("" if namespace == "kubeflow" else f"private-artifacts/{namespace}/artifacts/")


def _walk_fields(node: Any, parent: str) -> list[tuple[str, str]]:
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        found.append((parent, key))
        found += _walk_fields(value, key)
    return found


@pytest.mark.parametrize("credentials", ["irsa", "static"])
def test_launcher_providers_parse_and_use_only_kfps_field_names(credentials: str) -> None:
    settings = settings_of(credentials=credentials, region="eu-west-1", eksOidcProviderArn=config()[f"{NS}:eksOidcProviderArn"])
    data = wiring.launcher_data(settings, "kf-bucket", "kubeflow")
    providers = yaml.safe_load(data["providers"])
    for parent, key in _walk_fields(providers, ""):
        if parent:
            assert key in KFP_PROVIDER_FIELDS[parent], (parent, key)
    default = providers["s3"]["default"]
    assert default["endpoint"] == "s3.eu-west-1.amazonaws.com" and default["region"] == "eu-west-1"
    assert default["disableSSL"] is False and default["forcePathStyle"] is False
    assert data["defaultPipelineRoot"] == "s3://kf-bucket/v2/artifacts"


def test_isolation_layout_and_outputs() -> None:
    r = run("dev", profileNamespaces=PROFILES)
    bucket = r.exports["bucketName"]
    assert r.exports["pipelineRoots"] == {
        "kubeflow": f"s3://{bucket}/v2/artifacts",
        "team-a": f"s3://{bucket}/private-artifacts/team-a/v2/artifacts",
        "team-b": f"s3://{bucket}/private-artifacts/team-b/v2/artifacts",
    }
    shared = run("dev", profileNamespaces=PROFILES, profileIsolation=False)
    assert shared.exports["pipelineRoots"]["team-a"] == f"s3://{bucket}/v2/artifacts"


def _policy_of(r, namespace: str, service_account: str) -> dict[str, Any]:
    return json.loads(r.one("aws:iam/rolePolicy:RolePolicy", f"access-{namespace}-{service_account}-artifacts").inputs["policy"])


def test_profile_roles_reach_only_their_prefix_and_the_ui_only_reads() -> None:
    r = run("dev", profileNamespaces=PROFILES, encryption="sse-kms")
    arn = r.exports["bucketArn"]
    for namespace in PROFILES:
        statements = {s["Sid"]: s for s in _policy_of(r, namespace, "default-editor")["Statement"]}
        assert statements["ArtifactObjects"]["Resource"] == [f"{arn}/private-artifacts/{namespace}/*"]
        assert statements["ArtifactListOwnPrefix"]["Condition"] == {
            "StringLike": {"s3:prefix": [f"private-artifacts/{namespace}/", f"private-artifacts/{namespace}/*"]}
        }
        assert statements["ArtifactListOwnPrefix"]["Action"] == ["s3:ListBucket"]
    api = {s["Sid"]: s for s in _policy_of(r, "kubeflow", "ml-pipeline")["Statement"]}
    assert api["ArtifactObjects"]["Resource"] == [f"{arn}/*"] and "s3:PutObject" in api["ArtifactObjects"]["Action"]
    ui = {s["Sid"]: s for s in _policy_of(r, "kubeflow", "ml-pipeline-ui")["Statement"]}
    assert ui["ArtifactObjects"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert ui["ArtifactBucket"]["Action"] == ["s3:ListBucket", "s3:GetBucketLocation"]
    assert ui["ArtifactKeyThroughS3"]["Action"] == ["kms:Decrypt"]


def test_external_profile_objects_are_exported_not_written() -> None:
    # Up to 2.14 the profile controller can be told what to write (KFP_DEFAULT_PIPELINE_ROOT).
    r = run("dev", profileNamespaces=PROFILES, profileObjects="external", kubeflowPipelinesVersion="2.14")
    namespaces = {x.inputs["metadata"]["namespace"] for x in r.resources if x.type.startswith("kubernetes:")}
    assert namespaces == {"kubeflow"}
    exported = r.exports["profileSettings"]["team-a"]
    assert exported["serviceAccountRoleArn"] == r.exports["profileRoleArns"]["team-a"]
    assert exported["kfpLauncher"]["defaultPipelineRoot"].endswith("/private-artifacts/team-a/v2/artifacts")
    assert "accesskey" not in json.dumps(exported)  # never a credential
    assert "profileSettings" not in {k for k, v in run("dev", profileNamespaces=PROFILES).exports.items() if v}


@pytest.mark.parametrize("version", ["2.15", "2.16", "2.17"])
def test_external_profile_objects_are_refused_where_the_controller_hard_codes_seaweedfs(version: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(
            "dev",
            config(
                profileNamespaces=PROFILES,
                profileObjects="external",
                kubeflowPipelinesVersion=version,
                credentials="static",
                profileIsolation=False,
            ),
        )
    message = str(raised.value)
    assert message.startswith(f"{NS}:profileObjects: invalid value 'external'") and f"kubeflowPipelinesVersion {version}" in message
    assert "\n" not in message


def test_irsa_is_refused_on_215_whose_api_server_refuses_empty_keys() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings("dev", config(kubeflowPipelinesVersion="2.15"))
    assert str(raised.value).startswith(f"{NS}:kubeflowPipelinesVersion: invalid value '2.15'") and "#12508" in str(raised.value)
    load_settings("dev", config(kubeflowPipelinesVersion="2.16"))  # fixed in 2.16 (#12512)


def test_manage_kubernetes_false_writes_no_kubernetes_object() -> None:
    r = run("dev", profileNamespaces=PROFILES, manageKubernetes=False)
    assert not [x for x in r.resources if x.type.startswith("kubernetes:")]
    assert r.exports["profileRoleArns"]  # the AWS side is all there


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"credentials": "static", "profileNamespaces": PROFILES},
            f"{NS}:profileIsolation: invalid value true (static credentials are shared by every profile); "
            "allowed: false with credentials static",
        ),
        ({"profileNamespaces": ["team-a", "team-a"]}, f"{NS}:profileNamespaces: invalid value"),
        ({"profileObjects": "extrenal"}, f"{NS}:profileObjects: invalid value 'extrenal'"),
    ],
)
def test_bad_wiring_input_is_one_line_naming_the_key(keys: dict, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings("dev", config(**keys))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_static_without_isolation_is_accepted() -> None:
    settings = load_settings("dev", config(credentials="static", profileNamespaces=PROFILES, profileIsolation=False))
    assert wiring.prefix(settings, "team-a") == ""


def test_generated_policy_is_what_the_access_component_attaches() -> None:
    r = run("dev", profileNamespaces=PROFILES)
    expected = policies.artifact_access_policy(
        r.exports["bucketArn"], None, "us-east-1", "private-artifacts/team-a/", legacy_prefix="private/team-a/"
    )
    assert _policy_of(r, "team-a", "default-editor") == json.loads(expected)
