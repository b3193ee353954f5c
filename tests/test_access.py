"""Kubeflow access: IRSA trust, least privilege, static keys as secrets, Kubernetes objects."""

from __future__ import annotations

import json

import pytest

from automation.offline.mock_engine import MockRun
from tests.conftest import ISSUER, NS, OIDC, run

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SECRET = "kubernetes:core/v1:SecretPatch"


def decoded(secret_patch) -> dict[str, str]:
    """A SecretPatch's data, base64-decoded."""
    import base64

    return {key: base64.b64decode(value).decode() for key, value in secret_patch.inputs["data"].items()}


SA_PATCH = "kubernetes:core/v1:ServiceAccountPatch"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
STATIC_SECRETS = frozenset({f"{NS}:staticAccessKeyId", f"{NS}:staticSecretAccessKey"})
PROFILES = ["team-a", "team-b"]


def _allows(run_: MockRun) -> list[dict]:
    documents = [json.loads(x.inputs["policy"]) for x in run_.resources if x.type in (ROLE_POLICY, "aws:iam/userPolicy:UserPolicy")]
    return [s for d in documents for s in d["Statement"] if s["Effect"] == "Allow"]


@pytest.mark.parametrize(
    ("namespace", "account"), [("kubeflow", "ml-pipeline"), ("team-a", "default-editor"), ("team-b", "default-editor")]
)
def test_irsa_trust_policy_exact(namespace: str, account: str) -> None:
    r = run("dev", profileNamespaces=PROFILES)
    role = r.one(ROLE, f"{namespace}-{account}")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Federated": OIDC},
            "Action": ["sts:AssumeRoleWithWebIdentity"],
            "Condition": {
                "StringEquals": {f"{ISSUER}:sub": f"system:serviceaccount:{namespace}:{account}", f"{ISSUER}:aud": "sts.amazonaws.com"}
            },
        }
    ]


@pytest.mark.parametrize(
    "keys",
    [
        {},
        {"encryption": "sse-kms"},
        {"credentials": "static", "profileIsolation": False},
        {"credentials": "static", "encryption": "sse-kms", "profileIsolation": False},
    ],
)
def test_least_privilege_no_wildcard_action_or_resource(keys: dict) -> None:
    r = run("dev", profileNamespaces=PROFILES, **keys)
    allows = _allows(r)
    assert allows
    for statement in allows:
        for action in statement["Action"]:
            assert action != "*" and not action.endswith(":*"), statement
        assert "*" not in statement["Resource"], statement
    bucket_arn = r.exports["bucketArn"]
    resources = {r_ for s in allows for r_ in s["Resource"]}
    isolated = keys.get("credentials") != "static"
    prefixes = {f"{bucket_arn}/{root}/{ns}/*" for ns in PROFILES for root in ("private-artifacts", "private")} if isolated else set()
    assert resources <= {bucket_arn, f"{bucket_arn}/*", r.exports.get("kmsKeyArn"), *prefixes}


def test_kms_rights_only_with_sse_kms_and_only_via_s3() -> None:
    assert not [s for s in _allows(run("dev")) if any(a.startswith("kms:") for a in s["Action"])]
    kms = [s for s in _allows(run("dev", encryption="sse-kms")) if any(a.startswith("kms:") for a in s["Action"])]
    assert {a for s in kms for a in s["Action"]} == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert all(s["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}} for s in kms)


def test_one_role_per_identity_and_outputs() -> None:
    r = run("dev", profileNamespaces=PROFILES)
    assert len(r.of_type(ROLE)) == 4 and len(r.of_type(ROLE_POLICY)) == 4  # API server, UI, two profiles
    assert r.exports["uiRoleArn"].startswith("arn:aws:iam::123456789012:role/kf-kubeflow-ml-pipeline-ui-")
    assert r.exports["pipelineRoleArn"].startswith("arn:aws:iam::123456789012:role/kf-kubeflow-ml-pipeline-")
    assert set(r.exports["profileRoleArns"]) == set(PROFILES)
    assert r.exports["secretName"] == "mlpipeline-minio-artifact" and r.exports["kubeflowNamespace"] == "kubeflow"
    assert not r.of_type("aws:iam/user:User") and not r.of_type("aws:iam/accessKey:AccessKey")


def test_service_accounts_annotated_by_patch() -> None:
    r = run("dev", profileNamespaces=PROFILES)
    patches = {
        (x.inputs["metadata"]["namespace"], x.inputs["metadata"]["name"]): x.inputs["metadata"]["annotations"] for x in r.of_type(SA_PATCH)
    }
    assert patches[("kubeflow", "ml-pipeline")]["eks.amazonaws.com/role-arn"] == r.exports["pipelineRoleArn"]
    for namespace in PROFILES:
        assert patches[(namespace, "default-editor")]["eks.amazonaws.com/role-arn"] == r.exports["profileRoleArns"][namespace]
    assert not run("dev", manageServiceAccounts=False).of_type(SA_PATCH)
    assert not r.of_type("kubernetes:core/v1:ServiceAccount")  # never takes ownership


def test_configmap_patch_contents() -> None:
    r = run("dev", region="eu-central-1", eksOidcProviderArn=OIDC.replace("us-east-1", "eu-central-1"))
    patch = r.one("kubernetes:core/v1:ConfigMapPatch", "install-config")
    assert {k: patch.inputs["metadata"][k] for k in ("name", "namespace")} == {"name": "pipeline-install-config", "namespace": "kubeflow"}
    assert patch.inputs["data"] == {
        "bucketName": r.exports["bucketName"],
        "minioServiceHost": "s3.eu-central-1.amazonaws.com",  # regional: KFP 2.15+ addresses path-style
        "minioServiceRegion": "eu-central-1",
        "ARTIFACT_NAMESPACE_KEY_PREFIX": "private-artifacts",  # KFP 2.17's UI: upstream's prefix, stated
    }


@pytest.mark.parametrize("kms", [False, True])
def test_secret_in_every_namespace_irsa_empty_keys(kms: bool) -> None:
    r = run("dev", profileNamespaces=PROFILES, **({"encryption": "sse-kms"} if kms else {}))
    secrets = r.of_type(SECRET)
    assert sorted(x.inputs["metadata"]["namespace"] for x in secrets) == ["kubeflow", *PROFILES]
    for secret in secrets:
        assert secret.inputs["metadata"]["name"] == "mlpipeline-minio-artifact" and secret.inputs["type"] == "Opaque"
        data = decoded(secret)
        assert data["accesskey"] == "" and data["secretkey"] == ""
        assert data["bucketName"] == r.exports["bucketName"] and data["minioServiceRegion"] == "us-east-1"
        assert ("kmsKeyArn" in data) is kms
        assert "data" in secret.secret_inputs


def test_static_keys_supplied_are_secrets_everywhere() -> None:
    r = run("dev", STATIC_SECRETS, credentials="static", staticAccessKeyId=KEY_ID, staticSecretAccessKey=SECRET_KEY, secretsManager=True)
    assert not r.of_type(ROLE) and not r.of_type("aws:iam/user:User")
    for secret in r.of_type(SECRET):
        assert decoded(secret)["secretkey"] == SECRET_KEY
        assert "data" in secret.secret_inputs
    version = r.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert json.loads(version.inputs["secretString"]) == {"accesskey": KEY_ID, "secretkey": SECRET_KEY}
    assert "secretString" in version.secret_inputs
    sm = r.one("aws:secretsmanager/secret:Secret")
    assert sm.inputs["recoveryWindowInDays"] == 30 and sm.inputs["namePrefix"] == "s3-secret-"
    assert r.exports["credentialsSecretArn"].startswith("arn:aws:secretsmanager:")
    _assert_no_plain_secret(r, (KEY_ID, SECRET_KEY))


def test_static_mode_creates_user_and_key_as_secrets() -> None:
    r = run("staging", credentials="static", encryption="sse-kms", secretsManager=True)
    assert r.one("aws:iam/user:User") and r.one("aws:iam/accessKey:AccessKey")
    generated = "mock/SECRET+access+key+value+0000000000"
    assert all(decoded(x)["secretkey"] == generated and "data" in x.secret_inputs for x in r.of_type(SECRET))
    assert r.one("aws:secretsmanager/secret:Secret").inputs["kmsKeyId"] == r.exports["kmsKeyArn"]
    _assert_no_plain_secret(r, (generated, "AKIAMOCKMOCKMOCKMOCK"))


def _assert_no_plain_secret(r: MockRun, values: tuple[str, ...]) -> None:
    """No credential, plain or base64 (a Secret's data), in any non-secret input or any export."""
    import base64

    values = (*values, *(base64.b64encode(v.encode()).decode() for v in values))
    for x in r.resources:
        for key, value in x.inputs.items():
            if key not in x.secret_inputs:
                assert not any(v in json.dumps(value) for v in values), (x.name, key)
    assert not any(v in json.dumps(r.exports) for v in values)
