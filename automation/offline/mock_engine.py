"""Run the real Pulumi program under Pulumi's mock engine: no CLI, no cloud.

Used by `check`, the tests and the benchmarks. A recording monitor keeps what the mock
engine normally throws away (parent, dependencies, protect, retainOnDelete, which inputs
are secret), so the same inventory serves the rules, the tests and the critical-path figures.
"""

from __future__ import annotations

import graphlib
import json
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime.settings import SETTINGS, set_root_resource
from pulumi.runtime.stack import _sync_await, get_root_resource, run_pulumi_func

from components import names

ROOT = Path(__file__).resolve().parent.parent.parent
PROGRAM = ROOT / "__main__.py"
MOCK_ACCOUNT = "123456789012"


@dataclass
class Registration:
    """One resource as the engine saw it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    inputs: dict[str, Any]
    secret_inputs: set[str]
    state: dict[str, Any] = field(default_factory=dict)
    provider: str = ""  # "<provider urn>::<id>" for an explicit provider, else ""
    ignore_changes: list[str] = field(default_factory=list)
    import_id: str = ""


@dataclass
class MockRun:
    resources: list[Registration]
    exports: dict[str, Any]
    secret_exports: set[str]

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name_part: str = "") -> Registration:
        found = [r for r in self.of_type(type_) if name_part in r.name]
        if len(found) > 1:  # "ml-pipeline" is in "ml-pipeline-ui" too: an exact ending wins
            found = [r for r in found if r.name.endswith(name_part)]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} named *{name_part}*, found {[r.name for r in found]}")
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)


class StoreMocks(pulumi.runtime.Mocks):
    """Answers as AWS and Kubernetes would, with the computed attributes the program reads."""

    def __init__(
        self, region: str = "us-east-1", account: str = MOCK_ACCOUNT, known: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self.region = region
        self.account = account
        # Resource name -> attributes of the deployed resource (bucket name, ARNs), so a run under
        # the mock engine renders what the real stack holds (`manifests`).
        self.known = known or {}
        # Explicit providers (e.g. the replica region's): provider id -> region, as the engine
        # routes each resource to the provider named in its registration ("<urn>::<id>").
        self.provider_regions: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, state = self._new_resource(args)
        if args.name in self.known:
            state.update(self.known[args.name])
            resource_id = str(state.get("bucket") or state.get("name") or resource_id)
        return resource_id, state

    def _new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "pulumi:providers:aws":
            provider_id = f"{args.name}-provider-id"
            self.provider_regions[provider_id] = str(args.inputs.get("region") or self.region)
            return provider_id, state
        region = self.provider_regions.get((args.provider or "").rsplit("::", 1)[-1], self.region)
        return self._resource_in(args, state, region)

    def _resource_in(self, args: pulumi.runtime.MockResourceArgs, state: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
        partition = names.partition_of(region)
        if args.typ == "aws:s3/bucket:Bucket":
            name = args.inputs.get("bucket") or f"{args.inputs.get('bucketPrefix', '')}20261129000000000000000001"
            state.update(bucket=name, arn=f"arn:{partition}:s3:::{name}", region=region)
            return name, state
        if args.typ == "aws:kms/key:Key":
            key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
            state.update(keyId=key_id, arn=f"arn:{partition}:kms:{region}:{self.account}:key/{key_id}")
            return key_id, state
        if args.typ in ("aws:iam/role:Role", "aws:iam/user:User"):
            kind = "role" if args.typ.endswith("Role") else "user"
            name = f"{args.inputs.get('namePrefix', args.name)}mock"
            state.update(name=name, arn=f"arn:{partition}:iam::{self.account}:{kind}/{name}")
            return name, state
        if args.typ == "aws:iam/policy:Policy":
            name = f"{args.inputs.get('name') or args.name}-mock"
            state.update(name=name, arn=f"arn:{partition}:iam::{self.account}:policy/{name}")
            return state["arn"], state
        if args.typ == "aws:iam/accessKey:AccessKey":
            state.update(secret="mock/SECRET+access+key+value+0000000000")
            return "AKIAMOCKMOCKMOCKMOCK", state
        if args.typ == "random:index/randomPassword:RandomPassword":  # the provider computes `result`
            state.update(result="m" * int(args.inputs.get("length", 16)))
            return f"{args.name}-id", state
        if args.typ == "aws:secretsmanager/secret:Secret":
            arn = f"arn:{partition}:secretsmanager:{region}:{self.account}:secret:s3-secret-mock"
            state.update(arn=arn)
            return arn, state
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == "aws:index/getRegion:getRegion":  # the provider's region (explicit providers: theirs)
            region = self.provider_regions.get((args.provider or "").rsplit("::", 1)[-1], self.region)
            return {"region": region, "name": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com", "description": region}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account, "arn": f"arn:aws:iam::{self.account}:user/mock", "userId": "mock"}
        return {}


class RecordingMonitor(mocks.MockMonitor):
    """The mock monitor, plus a record of every registration request."""

    def __init__(self, mock: pulumi.runtime.Mocks) -> None:
        super().__init__(mock)
        self.registrations: list[Registration] = []
        self.stack_outputs: dict[str, Any] = {}
        self.secret_outputs: set[str] = set()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        raw = rpc.deserialize_properties(request.object, keep_internal=True)
        secret_inputs = {key for key, value in raw.items() if _is_secret(value)}
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=request.custom,
                dependencies=list(request.dependencies),
                protect=request.protect,
                retain_on_delete=request.retainOnDelete,
                inputs=_plain(raw),
                secret_inputs=secret_inputs,
                state=dict(self.resources[response.urn].state) if response.urn in self.resources else {},
                provider=request.provider,
                ignore_changes=list(request.ignoreChanges),
                import_id=request.importId,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        if "pulumi:pulumi:Stack" in request.urn:
            raw = rpc.deserialize_properties(request.outputs, keep_internal=True)
            self.secret_outputs = {key for key, value in raw.items() if _is_secret(value)}
            self.stack_outputs = _plain(raw)
        return super().RegisterResourceOutputs(request)


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _plain(value: Any) -> Any:
    """Inputs with secret wrappers removed (the values stay; `secret_inputs` says which were secret)."""
    if _is_secret(value):
        return _plain(value["value"])
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def run_program(
    stack: str,
    config: Mapping[str, Any],
    secret_keys: frozenset[str] = frozenset(),
    program: Path = PROGRAM,
    account: str = MOCK_ACCOUNT,
    known: Mapping[str, Mapping[str, Any]] | None = None,
) -> MockRun:
    """Run `program` as stack `stack` with `config` (full keys, values as Pulumi passes them),
    as if deployed into `account`; `known` gives resources the attributes they really have."""
    region = str(config.get("aws:region", "us-east-1"))
    mock = StoreMocks(region, account, known)
    monitor = RecordingMonitor(mock)
    set_root_resource(None)  # a fresh stack for each run in one process
    mocks.set_mocks(mock, project=names.PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config({k: _as_config_text(v) for k, v in config.items()}, list(secret_keys))
    SETTINGS.outputs.clear()

    def body() -> None:
        runpy.run_path(str(program), run_name="__main__")

    _sync_await(run_pulumi_func(body))
    root = get_root_resource()
    if root is not None:
        root._finish()  # registers the stack outputs, as the engine does at the end of a run
        _sync_await(run_pulumi_func(lambda: None))
    return MockRun(in_stable_order(monitor.registrations), monitor.stack_outputs, monitor.secret_outputs)


def in_stable_order(registrations: list[Registration]) -> list[Registration]:
    """Registration order varies from run to run (outputs resolve concurrently). Keep what the
    engine's state guarantees (a parent, a provider and every dependency before the resource) and
    break ties by URN, so the same stack gives the same inventory, findings, graph and report."""
    by_urn = {r.urn: r for r in registrations}
    graph = graphlib.TopologicalSorter()
    for r in registrations:
        before = [r.parent, r.provider.rsplit("::", 1)[0], *r.dependencies]
        graph.add(r.urn, *(urn for urn in before if urn in by_urn and urn != r.urn))
    graph.prepare()
    ordered: list[Registration] = []
    while graph.is_active():
        ready = sorted(graph.get_ready())
        ordered += [by_urn[urn] for urn in ready]
        graph.done(*ready)
    return ordered


def _as_config_text(value: Any) -> str:
    """Pulumi hands programs every config value as text; structured values as JSON."""
    return value if isinstance(value, str) else json.dumps(value)
