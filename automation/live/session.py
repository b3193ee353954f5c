"""The one AWS session factory: the identity the AWS provider would use for a stack.

Everything the driver does against AWS (the preflight's account check, counting and emptying
buckets, `verify`) goes through `session_for(env)`, so it acts as the identity `pulumi up`
deploys with, never as whatever the shell happens to hold. The stack file's provider config is
read as pulumi-aws 7 reads it (its `aws:` keys; the provider's precedence: a config key over its
environment variable):
- `aws:profile` (else AWS_PROFILE), `aws:region` (else AWS_REGION / AWS_DEFAULT_REGION);
- `aws:sharedCredentialsFiles` / `aws:sharedConfigFiles` (else AWS_SHARED_CREDENTIALS_FILE /
  AWS_CONFIG_FILE); botocore reads one file of each, the first listed;
- `aws:assumeRoles`: each `{roleArn, sessionName, externalId}` assumed in order, each with the
  credentials of the one before (role chaining);
- AWS_ENDPOINT_URL (an emulator) is honoured by boto3 itself.
Clients for another region (the replica) take the region from the caller: the same identity."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from automation.errors import UsageError
from automation.stackfiles import read_stack_config

DEFAULT_SESSION_NAME = "kubeflow-artifact-store"


@dataclass(frozen=True)
class AssumedRole:
    role_arn: str
    session_name: str = DEFAULT_SESSION_NAME
    external_id: str = ""


@dataclass(frozen=True)
class ProviderIdentity:
    """The AWS provider's identity config for one stack."""

    region: str
    profile: str = ""
    credentials_files: tuple[str, ...] = ()
    config_files: tuple[str, ...] = ()
    assume_roles: tuple[AssumedRole, ...] = ()


def _list(raw: Any) -> list[Any]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return [raw] if raw else []
    if isinstance(raw, dict):
        return [raw]
    return list(raw or [])


def provider_identity(env: str) -> ProviderIdentity:
    config, _ = read_stack_config(env)
    region = str(config.get("aws:region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "")
    roles = tuple(
        AssumedRole(str(item["roleArn"]), str(item.get("sessionName") or DEFAULT_SESSION_NAME), str(item.get("externalId") or ""))
        for item in _list(config.get("aws:assumeRoles"))
        if isinstance(item, dict) and item.get("roleArn")
    )
    return ProviderIdentity(
        region=region,
        profile=str(config.get("aws:profile") or ""),
        credentials_files=tuple(str(p) for p in _list(config.get("aws:sharedCredentialsFiles"))),
        config_files=tuple(str(p) for p in _list(config.get("aws:sharedConfigFiles"))),
        assume_roles=roles,
    )


def session_of(identity: ProviderIdentity) -> boto3.session.Session:
    """A boto3 session acting as `identity` (roles assumed now; AccessDenied is one line, exit 2)."""
    core = botocore.session.Session()
    if identity.credentials_files:
        core.set_config_variable("credentials_file", os.path.expanduser(identity.credentials_files[0]))
    if identity.config_files:
        core.set_config_variable("config_file", os.path.expanduser(identity.config_files[0]))
    session = boto3.session.Session(botocore_session=core, profile_name=identity.profile or None, region_name=identity.region or None)
    for role in identity.assume_roles:
        request: dict[str, Any] = {"RoleArn": role.role_arn, "RoleSessionName": role.session_name}
        if role.external_id:
            request["ExternalId"] = role.external_id
        try:
            credentials = session.client("sts").assume_role(**request)["Credentials"]
        except NoCredentialsError:
            raise UsageError(f"aws:assumeRoles: no credentials to assume {role.role_arn} with") from None
        except (BotoCoreError, ClientError) as error:
            raise UsageError(f"aws:assumeRoles: cannot assume {role.role_arn} ({str(error).splitlines()[0]})") from None
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=identity.region or None,
        )
    return session


def session_for(env: str) -> boto3.session.Session:
    """The session the AWS provider would use for stack `env`."""
    return session_of(provider_identity(env))


def caller_account(env: str) -> str:
    """The account of the identity the provider deploys `env` with (after every assumed role)."""
    try:
        return str(session_for(env).client("sts").get_caller_identity()["Account"])
    except NoCredentialsError:
        raise UsageError(
            f"AWS credentials: none found for {env} (aws:profile, aws:assumeRoles, or the standard chain: env vars, SSO, OIDC role)"
        ) from None
    except (BotoCoreError, ClientError) as error:
        raise UsageError(f"AWS credentials: sts:GetCallerIdentity failed ({str(error).splitlines()[0]})") from None
