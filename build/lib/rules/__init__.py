"""Security rules: plain Python, no engine. Used by `check` (offline), the CrossGuard policy
pack (deploy time) and `verify` (live AWS), so all three give the same verdicts."""

from .controls import CONTROLS, POLICY_NAMES, Control, control, policy_name
from .evaluate import ADVISORY, EXCEPTED, FAIL, NOT_JUDGED, NOT_REPORTED_VERDICT, PASS, WAIVED, Finding, evaluate, exit_code
from .state import NOT_REPORTED, UNKNOWN, BucketState, Expectations, IdentityState, KeyState, Snapshot, WiringState

__all__ = [
    "ADVISORY",
    "EXCEPTED",
    "CONTROLS",
    "POLICY_NAMES",
    "policy_name",
    "FAIL",
    "NOT_REPORTED",
    "NOT_JUDGED",
    "NOT_REPORTED_VERDICT",
    "UNKNOWN",
    "PASS",
    "WAIVED",
    "BucketState",
    "Control",
    "Expectations",
    "Finding",
    "IdentityState",
    "KeyState",
    "Snapshot",
    "WiringState",
    "control",
    "evaluate",
    "exit_code",
]
