"""What `up` changes in an installed Kubeflow: patches only, forced under one field manager, retained.

The objects below exist before the program runs: Kubeflow's manifests install the ones in the
Kubeflow namespace, its profile controller the Secret in profile namespaces. pulumi-kubernetes
(>= 4.29) refuses to create an object that exists (await.go: "The resource already exists");
Patch resources apply server-side and, on delete, relinquish their fields (ssa.Relinquish). No
cluster here: those two behaviours are argued from the provider's source, not run."""

from __future__ import annotations

import base64

import pytest

from automation.offline.mock_engine import MockRun
from components import names, wiring
from components.kube import role_fingerprint
from tests.conftest import BUCKET_HARDENING, run

PROFILES = ["team-a", "team-b"]
# (kind, namespace, name) of every object Kubeflow's installation owns that the program touches.
KUBEFLOW_INSTALLED = {
    ("Secret", "kubeflow", "mlpipeline-minio-artifact"),
    ("Secret", "team-a", "mlpipeline-minio-artifact"),
    ("Secret", "team-b", "mlpipeline-minio-artifact"),
    ("ConfigMap", "kubeflow", "pipeline-install-config"),
    ("ConfigMap", "kubeflow", "kfp-launcher"),  # KFP 2.x manifests
    ("ConfigMap", "team-a", "kfp-launcher"),  # the profile controller (upstream always, awslabs with a root set)
    ("ConfigMap", "team-b", "kfp-launcher"),
    ("ConfigMap", "team-a", "artifact-repositories"),  # KFP >= 2.15's profile controller
    ("ConfigMap", "team-b", "artifact-repositories"),
    ("ServiceAccount", "kubeflow", "ml-pipeline"),
    ("ServiceAccount", "kubeflow", "ml-pipeline-ui"),
    ("ServiceAccount", "team-a", "default-editor"),
    ("ServiceAccount", "team-b", "default-editor"),
    ("Deployment", "kubeflow", "ml-pipeline"),
    ("Deployment", "kubeflow", "ml-pipeline-ui"),
}
# Exists only because of this program: created, and deleted with the stack (Argo then falls back to
# workflow-controller-configmap's repository; nothing references this object).
PROGRAM_OWNED = {("ConfigMap", "kubeflow", "artifact-repositories"), ("Secret", "kubeflow", "kubeflow-artifact-store-ui-signing")}


def kube_objects(r: MockRun) -> dict[tuple[str, str, str], object]:
    found = {}
    for x in r.resources:
        if x.type.startswith("kubernetes:"):
            kind = x.type.rsplit(":", 1)[1].removesuffix("Patch")
            key = (kind, x.inputs["metadata"]["namespace"], x.inputs["metadata"]["name"])
            assert key not in found, f"two resources write {key}"
            found[key] = x
    return found


def test_every_kubeflow_installed_object_is_patched_never_created() -> None:
    r = run("dev", profileNamespaces=PROFILES)
    objects = kube_objects(r)
    assert set(objects) == KUBEFLOW_INSTALLED | PROGRAM_OWNED
    for key, x in objects.items():
        assert x.type.endswith("Patch") is (key in KUBEFLOW_INSTALLED), key
    assert not objects[("ConfigMap", "kubeflow", "artifact-repositories")].retain_on_delete


def test_each_patch_forces_its_fields_under_the_projects_field_manager_and_is_retained() -> None:
    for key, x in kube_objects(run("dev", profileNamespaces=PROFILES)).items():
        if key in PROGRAM_OWNED:
            continue
        annotations = x.inputs["metadata"]["annotations"]
        assert annotations["pulumi.com/patchForce"] == "true" and annotations["pulumi.com/patchFieldManager"] == "kubeflow-artifact-store"
        assert x.retain_on_delete, f"{x.name}: deleting it would remove keys Kubeflow reads"
        assert not x.protect


def test_api_server_env_reads_exactly_the_keys_the_program_writes() -> None:
    r = run("dev")
    objects = kube_objects(r)
    configmap_keys = set(objects[("ConfigMap", "kubeflow", "pipeline-install-config")].inputs["data"])
    secret_keys = set(objects[("Secret", "kubeflow", "mlpipeline-minio-artifact")].inputs["data"])
    deployment = objects[("Deployment", "kubeflow", "ml-pipeline")].inputs
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "ml-pipeline-api-server"
    env = {e["name"]: e for e in container["env"]}
    assert set(env) == {
        f"OBJECTSTORECONFIG_{k}" for k in ("BUCKETNAME", "HOST", "REGION", "ACCESSKEY", "SECRETACCESSKEY", "SECURE", "PORT")
    }
    for item in env.values():
        ref = item.get("valueFrom", {})
        if "configMapKeyRef" in ref:
            assert ref["configMapKeyRef"] == {"name": "pipeline-install-config", "key": ref["configMapKeyRef"]["key"]}
            assert ref["configMapKeyRef"]["key"] in configmap_keys
        elif "secretKeyRef" in ref:
            assert ref["secretKeyRef"]["name"] == "mlpipeline-minio-artifact" and ref["secretKeyRef"]["key"] in secret_keys
        else:  # literal, as every release installs these (components/releases.py)
            assert (
                item["value"]
                == {"SECURE": "true", "PORT": "443", "HOST": "s3.us-east-1.amazonaws.com", "REGION": "us-east-1"}[item["name"][18:]]
            )
    (ui,) = objects[("Deployment", "kubeflow", "ml-pipeline-ui")].inputs["spec"]["template"]["spec"]["containers"]
    bucket = configmap_keys and objects[("ConfigMap", "kubeflow", "pipeline-install-config")].inputs["data"]["bucketName"]
    assert ui["name"] == "ml-pipeline-ui"
    assert {e["name"]: e.get("value", e.get("valueFrom")) for e in ui["env"]} == {
        "AWS_REGION": "us-east-1",
        "AWS_S3_ENDPOINT": "s3.us-east-1.amazonaws.com",
        "AWS_SSL": "true",
        "ARGO_ARCHIVE_ARTIFACTORY": "s3",
        "ARGO_ARCHIVE_BUCKETNAME": bucket,
        "ARGO_KEYFORMAT": wiring.ARGO_KEY_FORMAT,
        "ARGO_ARTIFACT_REPOSITORIES_LOOKUP": "true",
        "TENSORBOARD_PROXY_SIGNING_SECRET": {
            "secretKeyRef": {"name": "kubeflow-artifact-store-ui-signing", "key": "tensorboardProxySigningSecret"}
        },
    }


def test_secret_data_is_base64_and_secret() -> None:
    secret = kube_objects(run("dev"))[("Secret", "kubeflow", "mlpipeline-minio-artifact")]
    data = {k: base64.b64decode(v).decode() for k, v in secret.inputs["data"].items()}
    assert data["accesskey"] == "" and data["minioServiceHost"] == "s3.us-east-1.amazonaws.com"
    assert "data" in secret.secret_inputs


def test_a_changed_role_rolls_the_api_server() -> None:
    def rollout(r: MockRun) -> str:
        template = kube_objects(r)[("Deployment", "kubeflow", "ml-pipeline")].inputs["spec"]["template"]
        return template["metadata"]["annotations"][names.ROLE_ROLLOUT_ANNOTATION]

    first = run("dev")
    assert rollout(first) == role_fingerprint(first.exports["pipelineRoleArn"])
    other = run("dev", pipelineServiceAccount="ml-pipeline-s3")  # another role ARN
    assert rollout(other) != rollout(first) and rollout(run("dev")) == rollout(first)
    static = kube_objects(run("dev", credentials="static"))[("Deployment", "kubeflow", "ml-pipeline")]
    assert "metadata" not in static.inputs["spec"]["template"]  # no IRSA role, nothing to roll for


def test_deployments_are_left_alone_when_switched_off() -> None:
    objects = kube_objects(run("dev", patchDeployments=False))
    assert not [key for key in objects if key[0] == "Deployment"]


@pytest.mark.parametrize("protect", [True, False])
def test_with_protect_every_hardening_resource_is_retained(protect: bool) -> None:
    r = run("prod", protect=protect, encryption="sse-kms", accessLogging=True, eventNotifications=True)
    components = {x.urn for x in r.resources if x.type in ("kubeflow:storage:HardenedBucket", "kubeflow:storage:ArtifactKey")}
    hardening = [x for x in r.resources if x.parent in components]
    hardening += [
        x for x in r.resources if x.type in ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketNotification:BucketNotification")
    ]
    kinds = {x.type.split(":")[-1] for x in hardening}
    assert {"Bucket", *BUCKET_HARDENING, "BucketLogging", "BucketNotification", "Key", "Alias"} == kinds
    expected = {x.name: protect or x.type == "aws:kms/key:Key" for x in hardening}  # keys: always retained
    assert {x.name: x.retain_on_delete for x in hardening} == expected
