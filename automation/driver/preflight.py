"""What must hold before an update changes anything: the environment is bound to its AWS account
and cluster, the credentials at hand are that account's, and the program passes the rules offline.

The offline rules gate is the one that can stop an update before any change: the policy pack
runs inside the CLI, where at preview many values are unknown and at `up` stack policies judge
the final state, after the changes were made (README: what each layer guarantees)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from automation.environments import environment
from automation.errors import OperationError, UsageError
from automation.live.kube import kube_contexts
from automation.live.session import caller_account
from automation.stackfiles import require_binding, settings_for
from components.settings import ALLOWED_ACCOUNTS_KEY, KUBE_CONTEXT_KEY


@dataclass
class Preflight:
    """Run before every update; each check is a function so tests can hand in a double."""

    rules: Callable[[str], list[str]]
    account: Callable[[str], str] = caller_account
    contexts: Callable[[], set[str] | None] = kube_contexts
    warn: Callable[[str], None] = print

    def __call__(self, env: str) -> None:
        target = environment(env)
        settings = settings_for(env)
        require_binding(settings, target, self.warn)
        if settings.account_ids:
            # The identity the provider deploys with: after aws:profile and every aws:assumeRoles entry.
            account = self.account(env)
            if account not in settings.account_ids:
                raise UsageError(
                    f"AWS credentials: account {account} is not {env}'s ({', '.join(settings.account_ids)}, {ALLOWED_ACCOUNTS_KEY}); "
                    "nothing was run"
                )
        if settings.kube_context:
            contexts = self.contexts()
            if contexts is None:
                raise UsageError(
                    f"{KUBE_CONTEXT_KEY}: {settings.kube_context!r} named but no kubeconfig found (KUBECONFIG, ~/.kube/config)"
                )
            if settings.kube_context not in contexts:
                raise UsageError(f"{KUBE_CONTEXT_KEY}: context {settings.kube_context!r} is not in the kubeconfig; nothing was run")
        failures = self.rules(env)
        if failures:
            raise OperationError(f"{env}: stopped before any change: the program fails its rules offline: " + "; ".join(failures))
