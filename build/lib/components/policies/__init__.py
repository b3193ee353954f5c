"""Every IAM, bucket and key policy document the project creates, built with awacs.

Plain functions of plain strings (ARNs, account, region) returning JSON text, so each
statement is defined once, is unit-testable without an engine, and its Sid is what the
security rules look for. `bucket` (bucket policies and the data perimeter), `key` (the KMS
key policy), `identity` (roles' permissions and trust)."""

from .bucket import (
    SID_ALLOW_LOG_DELIVERY,
    SID_DENY_INSECURE_TRANSPORT,
    SID_DENY_KMS_WITHOUT_KEY,
    SID_DENY_OLD_TLS,
    SID_DENY_OUTSIDE_IDENTITIES,
    SID_DENY_OUTSIDE_NETWORK,
    SID_DENY_SSE_C,
    SID_DENY_WRONG_ALGORITHM,
    SID_DENY_WRONG_KEY,
    Perimeter,
    artifact_bucket_policy,
    exempt_patterns,
    log_bucket_policy,
)
from .common import VERSION
from .identity import (
    BUCKET_ACTIONS,
    KMS_USE_ACTIONS,
    OBJECT_ACTIONS,
    READ_OBJECT_ACTIONS,
    artifact_access_policy,
    irsa_trust_policy,
    replication_policy,
    replication_trust_policy,
)
from .key import (
    CRYPTO_ACTIONS,
    KEY_ADMIN_ACTIONS,
    KEY_USE_ACTIONS,
    SID_KEY_ADMINS,
    SID_KEY_DENY_ADMIN_USE,
    SID_KEY_DENY_OUTSIDE_SERVICES,
    SID_KEY_ROOT,
    SID_KEY_S3_USE,
    key_policy,
)

__all__ = [
    "BUCKET_ACTIONS",
    "SID_DENY_KMS_WITHOUT_KEY",
    "exempt_patterns",
    "CRYPTO_ACTIONS",
    "KEY_ADMIN_ACTIONS",
    "KEY_USE_ACTIONS",
    "KMS_USE_ACTIONS",
    "OBJECT_ACTIONS",
    "READ_OBJECT_ACTIONS",
    "SID_ALLOW_LOG_DELIVERY",
    "SID_DENY_INSECURE_TRANSPORT",
    "SID_DENY_OLD_TLS",
    "SID_DENY_OUTSIDE_IDENTITIES",
    "SID_DENY_OUTSIDE_NETWORK",
    "SID_DENY_SSE_C",
    "SID_DENY_WRONG_ALGORITHM",
    "SID_DENY_WRONG_KEY",
    "SID_KEY_ADMINS",
    "SID_KEY_DENY_ADMIN_USE",
    "SID_KEY_DENY_OUTSIDE_SERVICES",
    "SID_KEY_ROOT",
    "SID_KEY_S3_USE",
    "VERSION",
    "Perimeter",
    "artifact_access_policy",
    "artifact_bucket_policy",
    "irsa_trust_policy",
    "key_policy",
    "log_bucket_policy",
    "replication_policy",
    "replication_trust_policy",
]
