"""The request matrix's vocabulary: a row (a request and the verdict it must get), the stack's
callers and resources, and the context keys AWS sets on the requests that really happen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import names

from .policy_eval import Decision, Request, decide
from .state import BucketState, Expectations

FOREIGN_ACCOUNT = "999999999999"
S3_STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
KMS_STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
OBJECT = "v2/artifacts/pipeline/run-1/task/output"


class NotJudgedError(Exception):
    """A value the matrix needs is unknown (a preview) or unreadable: the rows cannot be judged."""


@dataclass(frozen=True)
class Row:
    """One request, the policies AWS would weigh for it, and the verdict it must get."""

    id: str
    request: Request
    identity_policies: tuple[Any, ...]
    resource_policy: Any
    expect_allowed: bool

    def judge(self) -> Decision:
        return decide(self.request, self.identity_policies, self.resource_policy)


@dataclass(frozen=True)
class Caller:
    """An identity of the stack: who it is for Kubeflow, and its policies."""

    arn: str
    kind: str  # "runner" | "pipeline" | "ui" | "replication" | "user"
    namespace: str
    prefix: str  # the key prefix it owns ('' = the whole bucket)
    policies: tuple[Any, ...]


@dataclass(frozen=True)
class StackView:
    account: str
    artifacts: BucketState
    logs: BucketState | None
    replica: BucketState | None
    replica_logs: BucketState | None
    keys: dict[str, Any]  # key ARN -> key policy
    expectations: Expectations


def signed_context(caller: str, account: str, expectations: Expectations, endpoints: tuple[str, ...], **extra: str) -> dict[str, str]:
    """The context of a signed HTTPS request from inside the cluster (through its VPC endpoint)."""
    context = {
        "aws:PrincipalArn": caller,
        "aws:PrincipalAccount": account,
        "aws:PrincipalIsAWSService": "false",
        "aws:SecureTransport": "true",
        "s3:TlsVersion": "1.3",
    }
    if expectations.organization_id:
        context["aws:PrincipalOrgID"] = expectations.organization_id
    if endpoints:
        context["aws:SourceVpce"] = endpoints[0]
    context.update(extra)
    return {k: v for k, v in context.items() if v != ""}


def via_s3_context(caller: str, account: str, region: str) -> dict[str, str]:
    """The context of the KMS call S3 makes for a caller (forward access: no VPC endpoint)."""
    return {
        "aws:PrincipalArn": caller,
        "aws:PrincipalAccount": account,
        "aws:PrincipalIsAWSService": "false",
        "aws:ViaAWSService": "true",
        "aws:SecureTransport": "true",
        "kms:CallerAccount": account,
        "kms:ViaService": names.s3_service_principal_host(region),
    }


def object_arn(bucket: BucketState, key: str) -> str:
    return f"{bucket.arn}/{key}"
