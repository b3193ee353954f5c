"""ArtifactKey: the customer-managed KMS key for SSE-KMS, with an explicit policy and alias."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from . import policies
from .settings import Settings

KEY_COMPONENT_TYPE = "kubeflow:storage:ArtifactKey"


@dataclass(frozen=True)
class ArtifactKeyArgs:
    alias: str
    account_id: pulumi.Input[str]
    partition: str
    region: str
    admin_arns: pulumi.Input[Sequence[str]] = ()
    rotation_days: int = 365
    deletion_window_days: int = 30
    tags: dict[str, str] | None = None
    protect: bool = False
    # Services other than S3 that may use the key (kms:ViaService hosts), e.g. Secrets Manager.
    via_services: tuple[str, ...] = ()


def key_args(settings: Settings, alias: str, account_id: pulumi.Input[str], region: str, **specific: Any) -> ArtifactKeyArgs:
    """The stack-wide part of a key's arguments (admins, rotation, deletion window, tags, protection)."""
    c = settings.config
    return ArtifactKeyArgs(
        alias=alias,
        account_id=account_id,
        partition=settings.partition,
        region=region,
        admin_arns=settings.key_admins,
        rotation_days=c.kms_key_rotation_days,
        deletion_window_days=c.kms_deletion_window_days,
        tags=settings.tags,
        protect=c.protect,
        **specific,
    )


class ArtifactKey(pulumi.ComponentResource):
    """Symmetric key, rotation on, lockout safety check kept, plus `alias/...` for people (never for S3)."""

    key: aws.kms.Key
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: ArtifactKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(KEY_COMPONENT_TYPE, name, None, opts)
        policy = pulumi.Output.all(args.account_id, args.admin_arns).apply(
            lambda v: policies.key_policy(v[0], args.partition, args.region, v[1], args.via_services)
        )
        self.key = aws.kms.Key(
            name,
            description=f"Kubeflow Pipelines artifacts ({args.alias})",
            enable_key_rotation=True,
            rotation_period_in_days=args.rotation_days,
            deletion_window_in_days=args.deletion_window_days,
            bypass_policy_lockout_safety_check=False,
            policy=policy,
            tags=args.tags,
            # Always retained: Pulumi never schedules a created key for deletion (objects written
            # under it would become unreadable for good after the window). Deleting it is a manual
            # step once no object needs it (README: key transitions).
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=True),
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=args.alias,
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.protect),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn})
