"""Shared pieces of the policy documents: the version, the JSON rendering."""

from __future__ import annotations

from collections.abc import Sequence

import awacs.aws as iam

VERSION = "2012-10-17"


def document(statements: Sequence[iam.Statement]) -> str:
    return iam.PolicyDocument(Version=VERSION, Statement=list(statements)).to_json(indent=None)
