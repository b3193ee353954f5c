"""Each rule with passing and failing state; each CrossGuard policy's validate."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from pulumi_policy import PolicyResource, StackValidationArgs

from automation.offline.mock_engine import run_program
from components import policies
from rules import (
    CONTROLS,
    FAIL,
    NOT_REPORTED,
    PASS,
    WAIVED,
    BucketState,
    Expectations,
    IdentityState,
    KeyState,
    Snapshot,
    WiringState,
    control,
    evaluate,
)
from rules.crossguard import stack_policies
from rules.evaluate import evaluate_control
from tests.conftest import config

BUCKET_ARN = "arn:aws:s3:::kf"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PERIMETER = policies.Perimeter(
    account_ids=("123456789012",), vpc_endpoint_ids=("vpce-0a1b2c3d4e5f",), exempt_principal_arns=("arn:aws:iam::123456789012:role/deploy",)
)


def good_bucket() -> BucketState:
    return BucketState(
        name="kf",
        public_access_block=dict.fromkeys(("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True),
        ownership="BucketOwnerEnforced",
        sse_algorithm="aws:kms",
        kms_key_id=KEY_ARN,
        bucket_key_enabled=True,
        blocked_encryption_types=["SSE-C"],
        policy=json.loads(policies.artifact_bucket_policy(BUCKET_ARN, KEY_ARN, PERIMETER)),
        versioning="Enabled",
        lifecycle_rules=[{"status": "Enabled", "abort_days": 7, "noncurrent_days": 90, "expiration_days": None}],
        logging_target="logs",
        eventbridge=True,
        replication={
            "status": "Enabled",
            "destination": "arn:aws:s3:::kf-replica",
            "replica_kms_key_id": KEY_ARN.replace("us-east-1", "eu-central-1"),
            "delete_markers": "Enabled",
            "sse_kms_objects": "Enabled",
        },
    )


def good_log_bucket() -> BucketState:
    b = good_bucket()
    b.name, b.role, b.sse_algorithm, b.kms_key_id = "logs", "access-logs", "AES256", None
    b.policy = json.loads(policies.log_bucket_policy("arn:aws:s3:::logs", BUCKET_ARN, "123456789012", PERIMETER))
    return b


def good_key() -> KeyState:
    return KeyState(
        name="key",
        rotation_enabled=True,
        rotation_days=365,
        policy=json.loads(policies.key_policy("123456789012", "aws", "us-east-1", ["arn:aws:iam::123456789012:role/a"])),
    )


def good_identity() -> IdentityState:
    return IdentityState(
        "role",
        policies=[json.loads(policies.artifact_access_policy(BUCKET_ARN, KEY_ARN, "us-east-1"))],
        trust_policy=json.loads(policies.irsa_trust_policy("arn:x", "oidc/id/1", "kubeflow", "ml-pipeline")),
    )


def profile_identity() -> IdentityState:
    """team-a's role with isolation: the program's own documents."""
    return IdentityState(
        "team-a",
        policies=[
            json.loads(
                policies.artifact_access_policy(
                    BUCKET_ARN, KEY_ARN, "us-east-1", "private-artifacts/team-a/", legacy_prefix="private/team-a/"
                )
            )
        ],
        trust_policy=json.loads(policies.irsa_trust_policy("arn:x", "oidc/id/1", "team-a", "default-editor")),
    )


def good_wiring() -> WiringState:
    """kubeflow and team-a (isolated) as the program writes them, parsed as the adapter parses them."""
    from components import wiring
    from components.settings import load_settings

    settings = load_settings("dev", config(profileNamespaces=["team-a"]))
    state = WiringState(bucket="kf", region="us-east-1")
    for ns in ("kubeflow", "team-a"):
        state.repositories[ns] = wiring.argo_repository(settings, "kf", ns)
        launcher = wiring.launcher_data(settings, "kf", ns)
        state.launchers[ns] = {**launcher, "providers": yaml.safe_load(launcher["providers"])}
    from components import deployments

    state.deployments = {
        "ml-pipeline": {"env": [e.as_dict() for e in deployments.api_server_env(settings)]},
        "ml-pipeline-ui": {"env": [e.as_dict() for e in deployments.ui_env(settings, "kf", wiring.ARGO_KEY_FORMAT)]},
    }
    return state


ALL = Expectations(
    require_network_perimeter=True,
    require_replication=True,
    require_kms=True,
    require_logging=True,
    require_notifications=True,
    require_versioning=True,
    isolated_namespaces=("team-a",),
    wired_namespaces=("kubeflow", "team-a"),
    read_legacy_prefix=True,
)


def _policy_without(sid: str) -> dict:
    document = json.loads(policies.artifact_bucket_policy(BUCKET_ARN, KEY_ARN, PERIMETER))
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != sid]
    return document


def _admin_can_decrypt() -> dict:
    """The Deny on administrators removed: the root statement then delegates their kms:* to IAM."""
    document = good_key().policy
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != policies.SID_KEY_DENY_ADMIN_USE]
    return document


def _header_deny_without_presence_guard() -> dict:
    """The old, wrong form: StringNotEqualsIfExists alone denies every upload that sends no header."""
    document = json.loads(policies.artifact_bucket_policy(BUCKET_ARN, KEY_ARN))
    for s in document["Statement"]:
        if s["Sid"] == policies.SID_DENY_WRONG_KEY:
            s["Condition"] = {"StringNotEqualsIfExists": s["Condition"]["StringNotEquals"]}
    return document


def _host_from_the_install_config(w: WiringState) -> None:
    """The issue-20 defect: OBJECTSTORECONFIG_HOST from a ConfigMap where 2.15+ install a literal."""
    env = w.deployments["ml-pipeline"]["env"]
    host = next(e for e in env if e["name"] == "OBJECTSTORECONFIG_HOST")
    host.pop("value")
    host["valueFrom"] = {"configMapKeyRef": {"name": "pipeline-install-config", "key": "minioServiceHost"}}


def good_stack() -> Snapshot:
    from automation.offline.check import resources_of
    from rules.from_resources import snapshot_from_resources
    from tests.conftest import run

    return snapshot_from_resources(resources_of(run("dev", encryption="sse-kms", accessLogging=True, profileNamespaces=["team-a"])))


def _unguard_header_denies(snapshot: Snapshot) -> None:
    """The issue-19 defect: the header Denies without their `Null: false` presence guard."""
    for bucket in snapshot.buckets:
        for statement in (bucket.policy or {}).get("Statement", []):
            condition = statement.get("Condition") or {}
            if "StringNotEquals" in condition and "Null" in condition:
                statement["Condition"] = {"StringNotEqualsIfExists": condition["StringNotEquals"]}


BREAKS = {
    "KF-S3-01": ("bucket", lambda b: b.public_access_block.update(restrictPublicBuckets=False)),
    "KF-S3-02": (
        "bucket",
        lambda b: b.policy["Statement"].append({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "x"}),
    ),
    "KF-S3-03": ("bucket", lambda b: setattr(b, "ownership", "ObjectWriter")),
    "KF-S3-04": ("bucket", lambda b: setattr(b, "sse_algorithm", None)),
    "KF-S3-05": ("bucket", lambda b: setattr(b, "policy", _policy_without(policies.SID_DENY_INSECURE_TRANSPORT))),
    "KF-S3-06": ("bucket", lambda b: setattr(b, "policy", _policy_without(policies.SID_DENY_OLD_TLS))),
    "KF-S3-07": ("bucket", lambda b: setattr(b, "versioning", "Suspended")),
    "KF-S3-08": ("bucket", lambda b: setattr(b, "lifecycle_rules", None)),
    "KF-S3-09": ("bucket", lambda b: setattr(b, "sse_algorithm", "AES256")),
    "KF-REQ-01": ("stack", _unguard_header_denies),
    "KF-K8S-03": ("wiring", _host_from_the_install_config),
    "KF-S3-10": ("bucket", lambda b: setattr(b, "policy", _header_deny_without_presence_guard())),
    "KF-S3-11": ("bucket", lambda b: setattr(b, "logging_target", None)),
    "KF-S3-12": ("bucket", lambda b: setattr(b, "eventbridge", False)),
    "KF-S3-13": ("log", lambda b: setattr(b, "sse_algorithm", "aws:kms")),
    "KF-S3-14": ("bucket", lambda b: setattr(b, "policy", _policy_without(policies.SID_DENY_OUTSIDE_IDENTITIES))),
    "KF-S3-15": ("bucket", lambda b: setattr(b, "policy", _policy_without(policies.SID_DENY_OUTSIDE_NETWORK))),
    "KF-S3-16": ("bucket", lambda b: b.replication.update(delete_markers="Disabled")),
    "KF-KMS-01": ("key", lambda k: setattr(k, "key_state", "PendingDeletion")),
    "KF-KMS-02": ("key", lambda k: setattr(k, "rotation_enabled", False)),
    "KF-KMS-03": (
        "key",
        lambda k: k.policy["Statement"].append({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}),
    ),
    "KF-KMS-04": ("key", lambda k: setattr(k, "policy", _admin_can_decrypt())),
    "KF-KMS-05": (
        "key",
        lambda k: k.policy.update(Statement=[s for s in k.policy["Statement"] if s["Sid"] != policies.SID_KEY_DENY_OUTSIDE_SERVICES]),
    ),
    "KF-IAM-01": ("identity", lambda i: i.policies[0]["Statement"].append({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})),
    "KF-IAM-02": ("identity", lambda i: i.trust_policy["Statement"][0]["Condition"]["StringEquals"].pop("oidc/id/1:sub")),
    "KF-IAM-03": ("profile", lambda i: i.policies[0]["Statement"][2].update(Resource=[f"{BUCKET_ARN}/*"])),
    "KF-K8S-01": ("wiring", lambda w: w.repositories["team-a"]["s3"].update(insecure=True)),
    "KF-K8S-02": ("wiring", lambda w: w.launchers["team-a"].update(defaultPipelineRoot="s3://kf/v2/artifacts")),
}
SUBJECTS = {
    "stack": good_stack,
    "bucket": good_bucket,
    "log": good_log_bucket,
    "key": good_key,
    "identity": good_identity,
    "profile": profile_identity,
    "wiring": good_wiring,
}


def test_every_control_has_a_breaking_case() -> None:
    assert set(BREAKS) == {c.id for c in CONTROLS}


@pytest.mark.parametrize("control_id", sorted(BREAKS))
def test_rule_passes_then_fails(control_id: str) -> None:
    kind, breaker = BREAKS[control_id]
    subject = SUBJECTS[kind]()
    assert evaluate_control(control(control_id), subject, ALL).verdict == PASS
    broken = copy.deepcopy(subject)
    breaker(broken)
    finding = evaluate_control(control(control_id), broken, ALL)
    assert finding.verdict == FAIL and finding.detail


def test_optional_control_is_waived_when_not_expected_and_not_reported_is_never_a_pass() -> None:
    b = good_bucket()
    b.logging_target = None
    assert evaluate_control(control("KF-S3-11"), b, Expectations()).verdict == WAIVED
    b.ownership = NOT_REPORTED
    assert evaluate_control(control("KF-S3-03"), b, ALL).verdict == "not reported by endpoint"


def _policy_args(env_config: dict, expectations: Expectations):
    r = run_program("dev", env_config)
    by_urn: dict[str, PolicyResource] = {}
    for x in r.resources:
        by_urn[x.urn] = PolicyResource(x.type, x.inputs, x.urn, x.name, None, None, by_urn.get(x.parent), [], {})
    return StackValidationArgs(list(by_urn.values()), config=expectations.as_config())


@pytest.mark.parametrize("policy", stack_policies(), ids=lambda p: p.name)
def test_each_crossguard_policy_validates(policy) -> None:
    violations: list[str] = []
    policy.validate(
        _policy_args(
            config(
                encryption="sse-kms",
                accessLogging=True,
                eventNotifications=True,
                profileNamespaces=["team-a"],
                replicaRegion="eu-central-1",
                allowedVpcEndpointIds=["vpce-0a1b2c3d4e5f"],
                replicaAllowedVpcEndpointIds=["vpce-0f9e8d7c6b5a"],
                perimeterExemptPrincipalArns=["arn:aws:iam::123456789012:role/deploy"],
            ),
            ALL,
        ),
        lambda message, urn=None: violations.append(message),
    )
    assert violations == []


def test_crossguard_reports_expected_kms_missing() -> None:
    violations: list[str] = []
    kms_policy = next(p for p in stack_policies() if p.name == "kf-s3-09")
    kms_policy.validate(_policy_args(config(), Expectations(require_kms=True)), lambda message, urn=None: violations.append(message))
    assert violations and "not SSE-KMS" in violations[0] and "S3.17" in violations[0]
    violations.clear()
    kms_policy.validate(_policy_args(config(), Expectations()), lambda message, urn=None: violations.append(message))
    assert violations == []


def test_offline_scorecard_and_policy_pack_agree() -> None:
    """The same control ids with the same verdicts: check's findings vs the pack's violations."""
    from rules.crossguard import resources_of
    from rules.from_resources import snapshot_from_resources

    args = _policy_args(config(), Expectations(require_kms=True, require_logging=True))
    failing_offline = {
        f.control.lower()
        for f in evaluate(snapshot_from_resources(resources_of(args)), Expectations.from_config(dict(args.get_config())))
        if f.verdict == FAIL
    }
    failing_pack = set()
    for policy in stack_policies():
        policy.validate(args, lambda message, urn=None, name=policy.name: failing_pack.add(name))
    assert failing_offline == failing_pack == {"kf-s3-09", "kf-s3-11"}


def _preview_args(env_config: dict, expectations: Expectations):
    """The stack as CrossGuard sees it at a first preview: the engine's unknown sentinel where a value
    depends on an output not yet computed (bucket and key ARNs inside policy documents, the key ARN of
    the encryption default), each resource's props behind pulumi-policy's unknown-checking proxy."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    r = run_program("dev", env_config)
    by_urn: dict[str, PolicyResource] = {}
    for x in r.resources:
        props = json.loads(json.dumps(x.inputs))
        if x.type in ("aws:s3/bucketPolicy:BucketPolicy", "aws:iam/rolePolicy:RolePolicy"):
            props["policy"] = UNKNOWN_STRING_VALUE
        if x.type == "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
            default = props["rules"][0]["applyServerSideEncryptionByDefault"]
            if "kmsMasterKeyId" in default:
                default["kmsMasterKeyId"] = UNKNOWN_STRING_VALUE
        proxied = unknown_checking_proxy(props)
        by_urn[x.urn] = PolicyResource(x.type, proxied, x.urn, x.name, None, None, by_urn.get(x.parent), [], {})
    return StackValidationArgs(list(by_urn.values()), config=expectations.as_config())


def test_unknowns_at_preview_are_not_judged_never_passed_or_skipped() -> None:
    from pulumi_policy.proxy import UnknownValueError

    from rules.crossguard import NOT_JUDGED_POLICY

    args = _preview_args(config(encryption="sse-kms"), Expectations(require_kms=True))
    with pytest.raises(UnknownValueError):  # what the pack did before: dict() of the proxy raised, and the policy was skipped
        [dict(r.props) for r in args.resources]
    reported: dict[str, list[str]] = {}
    for policy in stack_policies():
        policy.validate(args, lambda message, urn=None, name=policy.name: reported.setdefault(name, []).append(message))
    not_judged = reported.pop(NOT_JUDGED_POLICY)
    assert reported == {}  # nothing fails on a value it cannot see
    judged_later = {line.split()[0] for line in not_judged}
    assert {"KF-S3-02", "KF-S3-05", "KF-S3-06", "KF-S3-09", "KF-S3-10", "KF-IAM-01"} <= judged_later
    assert "KF-S3-01" not in judged_later  # known at preview: judged
    pack = {p.name: p for p in stack_policies()}
    assert pack[NOT_JUDGED_POLICY].enforcement_level.value == "advisory"


def test_the_packs_unknown_sentinels_are_pulumi_policys() -> None:
    import pulumi_policy.proxy as proxy

    from rules.from_resources import UNKNOWN_SENTINELS

    assert {value for name, value in vars(proxy).items() if name.startswith("UNKNOWN_") and name.endswith("_VALUE")} == UNKNOWN_SENTINELS


def test_every_failure_ends_with_its_fix() -> None:
    from rules.controls import FIXES

    assert set(FIXES) == {c.id for c in CONTROLS}
    b = good_bucket()
    b.sse_algorithm = "AES256"
    finding = evaluate_control(control("KF-S3-09"), b, ALL)
    assert finding.verdict == FAIL
    assert finding.detail.endswith(
        "; fix: encryption: sse-kms (required by the `kms` baseline in environments.yaml, or the stack's own setting)"
    )
