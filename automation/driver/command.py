"""The Pulumi CLI, run as the SDK runs it, with its child registered for the signal handlers.

`pulumi.automation.PulumiCommand.run` keeps its child process to itself, so ForwardingPulumiCommand
runs the CLI exactly as the SDK's `run` does (pulumi/automation/_cmd.py: --non-interactive first,
PULUMI_AUTOMATION_API=true, two reader threads), in its own session, and registers the child in
`signals` while it runs."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import Any

from pulumi.automation import CommandResult, PulumiCommand
from pulumi.automation.errors import create_command_error

from automation.driver.signals import running, running_lock


class ForwardingPulumiCommand(PulumiCommand):
    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: Callable[[str], Any] | None = None,
        on_error: Callable[[str], Any] | None = None,
    ) -> CommandResult:
        separator = args.index("--") if "--" in args else len(args)
        if "--non-interactive" not in args[:separator]:
            args.insert(0, "--non-interactive")
        env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
        if os.path.isabs(self.command):
            env["PATH"] = os.pathsep.join([os.path.dirname(self.command), env["PATH"]])
        stdout: list[str] = []
        stderr: list[str] = []

        def consume(stream: Any, callback: Callable[[str], Any] | None, chunks: list[str]) -> None:
            for line in iter(stream.readline, ""):
                if callback:
                    callback(line.rstrip())
                chunks.append(line.rstrip())
            stream.close()

        with subprocess.Popen(
            [self.command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            encoding="utf-8",
            start_new_session=True,  # its own process group: only the driver decides what reaches it
        ) as process:
            with running_lock:
                running.add(process)
            try:
                readers = [
                    threading.Thread(target=consume, args=(process.stdout, on_output, stdout)),
                    threading.Thread(target=consume, args=(process.stderr, on_error, stderr)),
                ]
                for reader in readers:
                    reader.start()
                for reader in readers:
                    reader.join()
                process.wait()
            finally:
                with running_lock:
                    running.discard(process)
        result = CommandResult(stdout="\n".join(stdout), stderr="\n".join(stderr), code=process.returncode)
        if process.returncode != 0:
            raise create_command_error(result)
        return result
