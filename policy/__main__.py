"""CrossGuard policy pack: the project's security rules, mandatory by default (per-control levels
and exceptions from its config: `controlLevels`, `exceptions`).

In this repository: `pulumi preview --policy-pack policy --policy-pack-config cfg.json` (the driver
passes both; the rules come from the project's environment, where `make setup` installs them).
Published: `make policy-pack` builds `dist/policy-pack`, which installs the rules as a package."""

from pulumi_policy import PolicyPack

from rules.crossguard import stack_policies

PolicyPack(name="kubeflow-artifact-store-security", policies=stack_policies())
