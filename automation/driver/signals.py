"""SIGTERM and Ctrl-C while `pulumi` runs: pass the signal on once and wait, so the CLI cancels its
update cleanly and releases the stack lock, instead of being orphaned mid-update.

The CLI treats a second SIGINT as "terminate now" (no lock release, pending operations left in
the state). So the child runs in its own session (a terminal's Ctrl-C, sent to the driver's
process group, never reaches it directly), the first SIGINT/SIGTERM to the driver is forwarded as
one SIGINT, and later ones are reported and not forwarded.

`pulumi.automation.PulumiCommand.run` keeps its child process to itself, so ForwardingPulumiCommand
runs the CLI exactly as the SDK's `run` does (pulumi/automation/_cmd.py: --non-interactive first,
PULUMI_AUTOMATION_API=true, two reader threads) and remembers the child while it runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from pulumi.automation import CommandResult, PulumiCommand
from pulumi.automation.errors import create_command_error

_children: set[subprocess.Popen[str]] = set()
_lock = threading.Lock()
interrupted: list[int] = []  # the signals received while a child ran


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
            with _lock:
                _children.add(process)
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
                with _lock:
                    _children.discard(process)
        result = CommandResult(stdout="\n".join(stdout), stderr="\n".join(stderr), code=process.returncode)
        if process.returncode != 0:
            raise create_command_error(result)
        return result


def install(report: Callable[[str], Any] | None = None) -> None:
    """SIGTERM and SIGINT: with a `pulumi` child running, forward one SIGINT to it (the CLI's
    graceful cancel) and keep waiting for it to exit; later signals are reported, not forwarded;
    without a child, stop at once (KeyboardInterrupt)."""
    say = report or (lambda line: print(line, file=sys.stderr, flush=True))

    def handle(signum: int, frame: Any) -> None:
        with _lock:
            children = list(_children)
        if not children:
            raise KeyboardInterrupt
        interrupted.append(signum)
        if len(interrupted) > 1:
            say(f"{signal.Signals(signum).name}: already cancelling; waiting for pulumi (not forwarded: a second SIGINT kills it)")
            return
        say(f"{signal.Signals(signum).name}: asking pulumi to cancel; waiting for it to release the stack lock")
        for child in children:
            child.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
