"""Child processes with prefixed output, stopped together (used by scripts/run.py and scripts/test.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from scripts.services import ROOT, child_preexec


@dataclass
class Child:
    name: str
    label: str  # for people: "the Celery worker"
    process: subprocess.Popen
    reader: threading.Thread | None = None


def _pump(child: Child, width: int) -> None:
    prefix = f"{child.name:<{width}} | "
    stream = child.process.stdout or child.process.stderr
    assert stream is not None
    for line in iter(stream.readline, ""):
        sys.stdout.write(prefix + line if line.endswith("\n") else prefix + line + "\n")
        sys.stdout.flush()


@dataclass
class ProcessGroup:
    """Children started in their own sessions: Ctrl-C reaches only us, and we stop them in order."""

    env: dict[str, str]
    children: list[Child] = field(default_factory=list)
    width: int = 6

    def start(self, name: str, label: str, argv: Sequence[str], *, prefixed: bool = True,
              stdout: IO[str] | None = None) -> Child:
        """`stdout`: a file that takes the child's standard output (then only its standard error
        is shown, prefixed)."""
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            list(argv),
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.PIPE if prefixed else None,
            stderr=(subprocess.PIPE if stdout is not None else subprocess.STDOUT) if prefixed else None,
            text=True,
            bufsize=1,
            errors="replace",
            start_new_session=True,
            preexec_fn=child_preexec,
        )
        child = Child(name=name, label=label, process=process)
        if prefixed:
            child.reader = threading.Thread(target=_pump, args=(child, self.width), daemon=True)
            child.reader.start()
        self.children.append(child)
        return child

    def first_dead(self) -> Child | None:
        for child in self.children:
            if child.process.poll() is not None:
                return child
        return None

    def stop(self, *, timeout: float = 10.0) -> list[str]:
        """SIGTERM every child's process group, wait, then SIGKILL what is left. Returns names."""
        alive = [c for c in self.children if c.process.poll() is None]
        for child in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in alive:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
        for child in self.children:
            # the reloader's grandchildren share the group: make sure none is left behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
            if child.reader is not None:
                child.reader.join(timeout=1)
        self.children.clear()
        return [c.name for c in alive]


class StopRequested(Exception):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class SignalWatch:
    """SIGINT/SIGTERM set a flag that the main loop checks (children are not interrupted mid-step)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.signum = signum

    def check(self) -> None:
        if self.signum is not None:
            raise StopRequested(self.signum)

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.check()
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
        self.check()


def run_step(group: ProcessGroup, watch: SignalWatch, name: str, label: str,
             argv: Sequence[str], *, prefixed: bool = True, stdout: IO[str] | None = None) -> int:
    """Run one command to its end (Ctrl-C stops it); returns its exit code."""
    child = group.start(name, label, argv, prefixed=prefixed, stdout=stdout)
    try:
        while child.process.poll() is None:
            watch.sleep(0.1)
    except StopRequested:
        group.stop()
        raise
    if child.reader is not None:
        child.reader.join(timeout=5)
    group.children.remove(child)
    return child.process.returncode
