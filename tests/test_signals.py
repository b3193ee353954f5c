"""SIGTERM while `pulumi` runs: forwarded to the CLI as its graceful cancel, and waited for.

The CLI here is a stand-in script named `pulumi` on PATH: it answers `pulumi version` as the real
one does, and for any other command traps SIGINT (the CLI's own cancel signal), records it, takes
a moment to "release the lock" and exits 255, as an interrupted update does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from automation.offline.mock_engine import ROOT

FAKE_PULUMI = textwrap.dedent(
    """\
    #!{python}
    import signal, sys, time, pathlib
    log = pathlib.Path({log!r})
    if sys.argv[1:] == ["version"]:
        print("v3.210.0"); sys.exit(0)
    def cancel(signum, frame):
        log.write_text(log.read_text() + f"got {{signal.Signals(signum).name}}\\n")
        time.sleep(0.5)  # cancelling: the engine finishes its step and releases the lock
        log.write_text(log.read_text() + "exited\\n")
        sys.exit(255)
    signal.signal(signal.SIGINT, cancel)
    log.write_text("started " + " ".join(sys.argv[1:]) + "\\n")
    time.sleep(30)
    """
)

DRIVER = textwrap.dedent(
    """\
    import sys, time
    sys.path.insert(0, {root!r})
    from automation.driver import signals
    from automation.errors import OperationError
    from pulumi.automation import CommandError
    from semver import VersionInfo
    signals.install()
    from automation.driver.command import ForwardingPulumiCommand
    command = ForwardingPulumiCommand(version=VersionInfo.parse("3.200.0"))
    try:
        command.run(["up", "--stack", "dev"], {cwd!r}, {{}})
    except CommandError:
        print(f"child exited; signals={{signals.interrupted}}; at={{time.monotonic()}}", flush=True)
        sys.exit(1)
    """
)


def _driver_with(tmp_path: Path, script: str, **popen: object) -> tuple[subprocess.Popen, Path]:
    """The stand-in `pulumi` on PATH, the driver running it; returns once the CLI has started."""
    log = tmp_path / "pulumi.log"
    log.write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(script.format(python=sys.executable, log=str(log)))
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER.format(root=str(ROOT), cwd=str(tmp_path))], env=env, stdout=subprocess.PIPE, text=True, **popen
    )
    deadline = time.monotonic() + 20
    while "started" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    return driver, log


def test_sigterm_is_forwarded_to_pulumi_and_waited_for(tmp_path: Path) -> None:
    driver, log = _driver_with(tmp_path, FAKE_PULUMI)
    assert "started --non-interactive up --stack dev" in log.read_text()
    sent = time.monotonic()
    driver.send_signal(signal.SIGTERM)
    out, _ = driver.communicate(timeout=20)
    assert log.read_text().splitlines()[1:] == ["got SIGINT", "exited"]  # the CLI cancelled, then exited
    assert driver.returncode == 1 and "child exited; signals=[15]" in out
    finished = float(out.rsplit("at=", 1)[1])
    assert finished - sent >= 0.5  # the driver waited for the CLI to finish cancelling


# The real CLI: a first SIGINT cancels gracefully; a second one terminates it at once
# (pulumi/pulumi pkg/cmd/pulumi, cancellationScopeSource.NewScope: the first SIGINT calls
# cancelSource.Cancel(), "^C received; cancelling..."; a second, cancelSource.Terminate(), "^C received; terminating").
STRICT_PULUMI = textwrap.dedent(
    """\
    #!{python}
    import signal, sys, time, pathlib
    log = pathlib.Path({log!r})
    if sys.argv[1:] == ["version"]:
        print("v3.210.0"); sys.exit(0)
    seen = []
    def cancel(signum, frame):
        seen.append(signum)
        if len(seen) > 1:
            log.write_text(log.read_text() + "terminated\\n"); sys.exit(137)
        log.write_text(log.read_text() + "got SIGINT\\n")
    signal.signal(signal.SIGINT, cancel)
    log.write_text("started " + " ".join(sys.argv[1:]) + "\\n")
    while not seen:
        time.sleep(0.01)
    time.sleep(1.0)  # cancelling: finishing the step, releasing the lock
    log.write_text(log.read_text() + "exited\\n")
    sys.exit(255)
    """
)


def test_a_terminal_ctrl_c_twice_reaches_pulumi_once(tmp_path: Path) -> None:
    """Group-wide SIGINTs, as a terminal sends them to the foreground process group: the child runs
    in its own session, the driver forwards the first and only reports the second."""
    # Its own group, so the test can signal the whole group like a terminal.
    driver, log = _driver_with(tmp_path, STRICT_PULUMI, stderr=subprocess.PIPE, start_new_session=True)
    os.killpg(driver.pid, signal.SIGINT)
    time.sleep(0.2)
    os.killpg(driver.pid, signal.SIGINT)
    out, err = driver.communicate(timeout=20)
    assert log.read_text().splitlines()[1:] == ["got SIGINT", "exited"]  # cancelled once, never terminated
    assert "child exited; signals=[2, 2]" in out
    assert "already cancelling; waiting for pulumi (not forwarded" in err


# A stand-in CLI that answers as the real one for opening stacks: `stack select` of a stack that does
# not exist fails with the CLI's message (the SDK's StackNotFoundError), `stack init` records its
# arguments, and every call is logged.
RECORDING_PULUMI = textwrap.dedent(
    """\
    #!{python}
    import json, sys, pathlib
    log = pathlib.Path({log!r})
    args = [a for a in sys.argv[1:] if a != "--non-interactive"]
    log.write_text(log.read_text() + json.dumps(args) + "\\n")
    if args == ["version"]:
        print("v3.210.0"); sys.exit(0)
    if args[:2] == ["stack", "select"]:
        print("error: no stack named 'prod' found", file=sys.stderr); sys.exit(255)
    sys.exit(0)
    """
)


def test_a_new_stack_is_created_with_its_environments_secrets_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """real_stack_opener against the stand-in: prod does not exist, so `up` creates it, and with the
    KMS secrets provider environments.yaml names for prod (never the passphrase default)."""
    from automation.driver import engine
    from automation.environments import environment

    log = tmp_path / "calls.log"
    log.write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(RECORDING_PULUMI.format(python=sys.executable, log=str(log)))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PULUMI_BACKEND_URL", "file://" + str(tmp_path / "state"))
    engine.real_stack_opener(lambda _: None)("prod", True)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    init = next(c for c in calls if c[:2] == ["stack", "init"])
    assert "--secrets-provider" in init and init[init.index("--secrets-provider") + 1] == environment("prod").secrets_provider
    assert environment("prod").secrets_provider.startswith("awskms://")
