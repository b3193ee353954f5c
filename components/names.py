"""Every name the project or Kubeflow relies on, defined once and imported where needed."""

from __future__ import annotations

import hashlib
import re

PROJECT = "kubeflow-artifact-store"
# The name of the stack program's KubeflowArtifactStore: every child's name starts with it.
STORE_NAME = "kubeflow"
COMPONENT_TYPE = "kubeflow:storage:KubeflowArtifactStore"
# As a Pulumi component package (`pulumi package add`), the analyzer's `<package>:index:<class>`.
PACKAGE_COMPONENT_TYPE = f"{PROJECT}:index:KubeflowArtifactStore"

# Names a running Kubeflow Pipelines reads (shared/reference/kubeflow-on-aws.md): never rename.
KUBEFLOW_SECRET_NAME = "mlpipeline-minio-artifact"
KUBEFLOW_CONFIGMAP_NAME = "pipeline-install-config"
SECRET_ACCESS_KEY_FIELD = "secretkey"
ACCESS_KEY_FIELD = "accesskey"
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
PIPELINE_DEPLOYMENT = "ml-pipeline"
PIPELINE_CONTAINER = "ml-pipeline-api-server"
UI_DEPLOYMENT = "ml-pipeline-ui"
UI_CONTAINER = "ml-pipeline-ui"
UI_SERVICE_ACCOUNT = "ml-pipeline-ui"
# KFP 2.x launcher config, read in the run's namespace (backend/src/v2/config/env.go).
LAUNCHER_CONFIGMAP = "kfp-launcher"
# Argo's per-namespace artifact repositories (workflow/artifactrepositories/artifactrepositories.go).
ARTIFACT_REPOSITORIES_CONFIGMAP = "artifact-repositories"
# The data key the UI reads with ARGO_ARTIFACT_REPOSITORIES_LOOKUP (frontend/server/workflow-helper.ts
# reads only this key); the annotation makes it Argo's default too.
ARTIFACT_REPOSITORY_KEY = "artifact-repositories"
DEFAULT_REPOSITORY_ANNOTATION = "workflows.argoproj.io/default-artifact-repository"
# Upstream's per-namespace layout (KFP 2.15+ profile controller; 2.17's UI serves untracked
# artifacts only under <ARTIFACT_NAMESPACE_KEY_PREFIX>/<namespace>/, frontend/server/helpers/mlmd-validator.ts).
PROFILE_PREFIX_ROOT = "private-artifacts"
# This project's layout before it followed upstream's: kept readable until migrated (README).
LEGACY_PROFILE_PREFIX_ROOT = "private"
ARTIFACT_NAMESPACE_KEY_PREFIX = "ARTIFACT_NAMESPACE_KEY_PREFIX"  # pipeline-install-config key (KFP 2.17 UI)
# Standalone installs run pipelines in the Kubeflow namespace as this ServiceAccount
# (DEFAULTPIPELINERUNNERSERVICEACCOUNT, default pipeline-runner).
PIPELINE_RUNNER_SERVICE_ACCOUNT = "pipeline-runner"
# The Secret holding the UI's TensorBoard proxy signing key (KFP 2.17 defaults it to the empty
# MINIO_SECRET_KEY under IRSA).
UI_SIGNING_SECRET = "kubeflow-artifact-store-ui-signing"
UI_SIGNING_SECRET_KEY = "tensorboardProxySigningSecret"

# Server-side apply: one field manager for every patch of ours (one patch per object, so no
# two patches of ours share a manager on one object), forcing ownership of the fields it sets.
FIELD_MANAGER = PROJECT
PATCH_FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager"
PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce"
# Pod-template annotation whose change rolls a Deployment when its ServiceAccount's role changes.
ROLE_ROLLOUT_ANNOTATION = "kubeflow-artifact-store/irsa-role-arn"
IRSA_AUDIENCE = "sts.amazonaws.com"
# The upload headers a bucket policy sees (S3 condition keys): the policies and the rules use these.
HEADER_ALGORITHM = "s3:x-amz-server-side-encryption"
HEADER_KMS_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"
HEADER_CUSTOMER_ALGORITHM = "s3:x-amz-server-side-encryption-customer-algorithm"

MANAGED_BY_TAG = ("managed-by", "pulumi/kubeflow-artifact-store")
STACK_TAG = "pulumi-stack"
# Marks what one stack owns, so a deploy role can be held to it (aws:RequestTag / aws:ResourceTag).
OWNER_TAG = "kubeflow-artifact-store:stack"


def owner_tag_value(stack: str) -> str:
    return f"{PROJECT}/{stack}"


# The AWS provider caps bucket_prefix at 37 characters (it appends a 26-character suffix).
BUCKET_PREFIX_MAX = 37
ACCESS_LOG_PREFIX = "s3-access-logs/"


# IAM caps name_prefix at 38 characters (it appends a 26-character suffix to a 64-character name).
IAM_NAME_PREFIX_MAX = 38


def iam_name_prefix(text: str) -> str:
    """'kf-<text>-', or when that is too long, a cut with a short hash of the full text: two long
    namespaces that differ only at the end still get distinct, readable prefixes."""
    full = f"kf-{text}-"
    if len(full) <= IAM_NAME_PREFIX_MAX:
        return full
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    head = f"kf-{text}"[: IAM_NAME_PREFIX_MAX - len(digest) - 2].rstrip("-")
    return f"{head}-{digest}-"


def stack_slug(stack: str) -> str:
    """A stack name reduced to what S3 and KMS names accept (lowercase, digits, hyphens)."""
    return re.sub(r"[^a-z0-9-]+", "-", stack.lower()).strip("-") or "stack"


def _bucket_prefix(kind: str, stack: str) -> str:
    """`<kind>-<stack>-`, cut to what the provider's bucket_prefix accepts."""
    prefix = f"{kind}-{stack_slug(stack)}"
    return prefix[: BUCKET_PREFIX_MAX - 1].rstrip("-") + "-"


def bucket_prefix(stack: str) -> str:
    return _bucket_prefix("kf-artifacts", stack)


def replica_bucket_prefix(stack: str) -> str:
    return _bucket_prefix("kf-artifact-replica", stack)


def replica_kms_alias(stack: str) -> str:
    return f"alias/kubeflow-artifacts-replica-{stack_slug(stack)}"


def log_bucket_prefix(stack: str) -> str:
    return _bucket_prefix("kf-artifact-logs", stack)


def replica_log_bucket_prefix(stack: str) -> str:
    return _bucket_prefix("kf-replica-logs", stack)


def credentials_kms_alias(stack: str) -> str:
    return f"alias/kubeflow-artifact-credentials-{stack_slug(stack)}"


def static_user_name(stack: str) -> str:
    """The IAM user static mode creates (kf-*: the deploy role may manage users only there)."""
    return f"kf-artifacts-{stack_slug(stack)}"[:64]


def kms_alias(stack: str) -> str:
    return f"alias/kubeflow-artifacts-{stack_slug(stack)}"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def s3_regional_endpoint(region: str) -> str:
    """The regional S3 host, for every reader and writer: the API server of KFP 2.15+ addresses
    path-style with AWS SDK v2, and a path-style request to the global s3.amazonaws.com for a
    bucket in another region is a redirect it does not follow (kubeflow-releases.md)."""
    return f"s3.{region}.amazonaws.com.cn" if partition_of(region) == "aws-cn" else f"s3.{region}.amazonaws.com"


def service_host(service: str, region: str) -> str:
    """A regional service endpoint host, as kms:ViaService names it."""
    suffix = ".amazonaws.com.cn" if partition_of(region) == "aws-cn" else ".amazonaws.com"
    return f"{service}.{region}{suffix}"


def s3_service_principal_host(region: str) -> str:
    """The value of kms:ViaService for S3 in this region."""
    return service_host("s3", region)


# The regions of the partitions this project deploys to (AWS General Reference, "Regional
# endpoints"); a newer one passes with --allow-unknown-region.
KNOWN_REGIONS = frozenset(
    [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-south-1",
        "eu-south-2",
        "eu-north-1",
        "il-central-1",
        "me-south-1",
        "me-central-1",
        "mx-central-1",
        "sa-east-1",
        "cn-north-1",
        "cn-northwest-1",
        "us-gov-east-1",
        "us-gov-west-1",
    ]
)


def known_region(region: str) -> bool:
    return region in KNOWN_REGIONS
