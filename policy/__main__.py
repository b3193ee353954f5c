"""CrossGuard policy pack: the project's security rules, mandatory by default.

`pulumi preview --policy-pack policy --policy-pack-config cfg.json`; the driver passes both."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the rules live in the repository

from pulumi_policy import PolicyPack  # noqa: E402

from rules.crossguard import stack_policies  # noqa: E402

PolicyPack(name="kubeflow-artifact-store-security", policies=stack_policies())
