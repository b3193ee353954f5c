"""The documents of the AWS-managed policies people attach to workload roles, offline, so a
Kubeflow role given one through an attachment is judged by what it grants. Statement effects as
AWS publishes them (IAM console, "AWS managed policies"); an ARN not listed here is "not judged",
with the ARN named, never a pass."""

from __future__ import annotations

from typing import Any

_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
AWS_MANAGED: dict[str, dict[str, Any]] = {
    "AdministratorAccess": _ALL,
    "PowerUserAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                    "account:ListRegions",
                    "account:GetAccountInformation",
                ],
                "Resource": "*",
            },
        ],
    },
    "AmazonS3FullAccess": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}],
    },
    "AmazonS3ReadOnlyAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"],
                "Resource": "*",
            }
        ],
    },
}


def aws_managed(arn: str) -> dict[str, Any] | None:
    """arn:<partition>:iam::aws:policy/<path><Name> -> its document, or None when not listed."""
    if ":iam::aws:policy/" not in arn:
        return None
    return AWS_MANAGED.get(arn.rsplit("/", 1)[-1])
