"""The component from Python: keys in either spelling, errors naming the key as written, an Output's
error as one line, and an import name that cannot clash with a consumer's own `components`."""

from __future__ import annotations

import warnings

import pulumi
import pytest

from components.inputs import resolve
from components.settings import ConfigError
from tests.conftest import OIDC

PROVIDER = {"aws:allowedAccountIds": '["123456789012"]'}


def test_camel_and_snake_keys_are_both_accepted() -> None:
    snake = resolve("dev", {"region": "us-east-1", "eks_oidc_provider_arn": OIDC, "profile_namespaces": ["team-a"]}, PROVIDER)
    camel = resolve("dev", {"region": "us-east-1", "eksOidcProviderArn": OIDC, "profileNamespaces": ["team-a"]}, PROVIDER)
    assert snake.settings.config == camel.settings.config


@pytest.mark.parametrize(("key", "shown"), [("profile_namespaces", "profile_namespaces"), ("profileNamespaces", "profileNamespaces")])
def test_an_error_names_the_key_as_the_caller_wrote_it(key: str, shown: str) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve("dev", {"region": "us-east-1", "eks_oidc_provider_arn": OIDC, key: ["Team_A"]}, PROVIDER)
    assert str(raised.value).startswith(f"{shown}: invalid value 'Team_A'; allowed: ")


def test_both_spellings_of_one_key_are_refused() -> None:
    with pytest.raises(ConfigError, match="^profile_namespaces: given twice"):
        resolve("dev", {"region": "us-east-1", "eks_oidc_provider_arn": OIDC, "profile_namespaces": [], "profileNamespaces": []}, PROVIDER)


def test_a_bad_value_arriving_as_an_output_is_one_line() -> None:
    """Validated when it resolves: the same one-line message, as a RunError (printed without a traceback)."""
    import asyncio

    async def resolved() -> object:
        arn = pulumi.Output.from_input("not-an-arn")
        inputs = resolve("dev", {"region": "us-east-1", "eksOidcProviderArn": arn}, PROVIDER)
        return await inputs.value("eks_oidc_provider_arn").future()

    loop = asyncio.new_event_loop()  # its own loop: the shared one stays for the tests after this
    try:
        with pytest.raises(pulumi.RunError) as raised:
            loop.run_until_complete(resolved())
    finally:
        loop.close()
    assert str(raised.value).startswith("eksOidcProviderArn: invalid value 'not-an-arn'") and "\n" not in str(raised.value)


def test_the_old_import_path_works_and_warns() -> None:
    import components

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = components.KubeflowArtifactStore
    from kubeflow_artifact_store import KubeflowArtifactStore

    assert old is KubeflowArtifactStore
    assert any(issubclass(w.category, DeprecationWarning) and "kubeflow_artifact_store" in str(w.message) for w in caught)
