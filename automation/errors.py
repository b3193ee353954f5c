"""The driver's error classes; the CLI maps each to an exit code. Kept free of heavy imports."""


class UsageError(Exception):
    """Exit 2: bad arguments or configuration; nothing ran."""


class OperationError(Exception):
    """Exit 1: an operation failed or was stopped by a gate or a policy."""


class PulumiNotInstalledError(UsageError):
    """Exit 2: the Pulumi CLI is not on this machine."""


class VerificationError(OperationError):
    """Exit 1: the update went through but `verify` found problems; `failures` names each one."""

    def __init__(self, message: str, failures: list[str]) -> None:
        super().__init__(message)
        self.failures = failures
