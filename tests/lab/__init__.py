"""Loopback lab of DNS, SMTP and HTTPS servers that imitates an industry's mail infrastructure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.services import stop_process

from .control import LabControl, LabControlError
from .world import WorldSpec, bulk_world, standard_world

__all__ = [
    "LabControl",
    "LabControlError",
    "LabError",
    "LabHandle",
    "WorldSpec",
    "bulk_world",
    "start_lab",
    "standard_world",
]

REPO_ROOT = Path(__file__).resolve().parents[2]


class LabError(RuntimeError):
    pass


@dataclass
class LabHandle:
    """A running lab: the ready-file fields as attributes, plus ``stop()``."""

    resolver: str
    ca_bundle: str
    smtp_port: int
    https_port: int
    control: str
    pid: int
    domains: dict[str, dict[str, Any]]
    servers: dict[str, dict[str, Any]]
    world: str
    zone: str
    refused_address: str
    state_dir: Path
    ready: dict[str, Any] = field(repr=False)
    # Plain-HTTP port of the AIA servers (0 when the world has none).
    http_port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def resolver_address(self) -> tuple[str, int]:
        host, _, port = self.resolver.rpartition(":")
        return host, int(port)

    def domain(self, scenario: str) -> str:
        return self.domains[scenario]["domain"]

    def expect(self, scenario: str) -> dict[str, Any]:
        return self.domains[scenario]["expect"]

    def env(self) -> dict[str, str]:
        """The probe's SECMAIL_* settings (docs/probe.md) that point it at this lab."""
        return {
            "SECMAIL_DNS_RESOLVERS": self.resolver,
            "SECMAIL_CA_BUNDLE": self.ca_bundle,
            "SECMAIL_SMTP_PORT": str(self.smtp_port),
            "SECMAIL_MTA_STS_PORT": str(self.https_port),
            # Every lab server is on loopback, which the probe refuses without this.
            "SECMAIL_ALLOW_NONPUBLIC": "1",
        }

    def client(self) -> LabControl:
        return LabControl(self.control)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code."""
        code = None if self.process is None else stop_process(self.process, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def __enter__(self) -> LabHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @classmethod
    def from_ready(
        cls,
        ready: dict[str, Any],
        state_dir: Path,
        process: subprocess.Popen[bytes] | None = None,
        log: IO[bytes] | None = None,
    ) -> LabHandle:
        """Also usable on the ready file of a lab started by hand (``process`` None)."""
        return cls(
            resolver=ready["resolver"],
            ca_bundle=ready["ca_bundle"],
            smtp_port=ready["smtp_port"],
            https_port=ready["https_port"],
            control=ready["control"],
            pid=ready["pid"],
            domains=ready["domains"],
            servers=ready.get("servers", {}),
            world=ready.get("world", ""),
            zone=ready.get("zone", ""),
            refused_address=ready.get("refused_address", ""),
            state_dir=state_dir,
            ready=ready,
            http_port=ready.get("http_port", 0),
            process=process,
            _log=log,
        )


def start_lab(world: str | WorldSpec, state_dir: Path, timeout: float = 30) -> LabHandle:
    """Run the lab in its own process (its own GIL) and return once every server listens."""
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(world, WorldSpec):
        world_file = state_dir / "world.json"
        world.save(world_file)
        world_arg = str(world_file)
    else:
        world_arg = world
    ready_file = state_dir / "ready.json"
    ready_file.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    log = open(state_dir / "lab.log", "ab")  # noqa: SIM115 - closed by LabHandle.stop
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.lab",
            "serve",
            "--world",
            world_arg,
            "--state-dir",
            str(state_dir),
            "--ready-file",
            str(ready_file),
            "--parent-pid",
            str(os.getpid()),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    while True:
        if ready_file.exists():
            ready = json.loads(ready_file.read_text())
            return LabHandle.from_ready(ready, state_dir, process, log)
        if process.poll() is not None:
            log.close()
            tail = (state_dir / "lab.log").read_text(errors="replace")[-3000:]
            raise LabError(f"lab exited with {process.returncode} before it was ready:\n{tail}")
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            log.close()
            raise LabError(f"lab not ready after {timeout} s (log: {state_dir / 'lab.log'})")
        time.sleep(0.02)
