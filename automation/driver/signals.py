"""SIGTERM and Ctrl-C while `pulumi` runs: pass the signal on once and wait, so the CLI cancels its
update cleanly and releases the stack lock, instead of being orphaned mid-update.

The CLI treats a second SIGINT as "terminate now" (no lock release, pending operations left in
the state). So the child runs in its own session (a terminal's Ctrl-C, sent to the driver's
process group, never reaches it directly), the first SIGINT/SIGTERM to the driver is forwarded as
one SIGINT, and later ones are reported and not forwarded.

The running children are registered here by `command.ForwardingPulumiCommand` (kept apart so that
installing the handlers imports nothing of the Automation API: `check` never needs it)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

running: set[subprocess.Popen[str]] = set()
running_lock = threading.Lock()
interrupted: list[int] = []  # the signals received while a child ran


def install(report: Callable[[str], Any] | None = None) -> None:
    """SIGTERM and SIGINT: with a `pulumi` child running, forward one SIGINT to it (the CLI's
    graceful cancel) and keep waiting for it to exit; later signals are reported, not forwarded;
    without a child, stop at once (KeyboardInterrupt)."""
    say = report or (lambda line: print(line, file=sys.stderr, flush=True))

    def handle(signum: int, frame: Any) -> None:
        with running_lock:
            children = list(running)
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
