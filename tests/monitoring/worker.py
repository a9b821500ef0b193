"""A real Celery worker process for pipeline tests and the benchmark, against a real Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
TRUE_WORDS = {"1", "true", "yes", "on"}


def services_required() -> bool:
    return os.environ.get("SECMAIL_REQUIRE_SERVICES", "").strip().lower() in TRUE_WORDS


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """A DATABASE_URL for the database Django is connected to (the test database in tests)."""
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def lab_env(lab: Any, **extra: str) -> dict[str, str]:
    """Settings that point the worker's probe at a loopback lab, with short deadlines."""
    return {
        "SECMAIL_DNS_RESOLVERS": lab.resolver,
        "SECMAIL_CA_BUNDLE": lab.ca_bundle,
        "SECMAIL_SMTP_PORT": str(lab.smtp_port),
        "SECMAIL_MTA_STS_PORT": str(lab.https_port),
        "SECMAIL_EHLO_NAME": "pipeline.secmail.test",
        # Hostile lab servers (slow greeting, drip feed) otherwise hold a batch for 30 s.
        "SECMAIL_CONNECT_TIMEOUT": "2",
        "SECMAIL_PROBE_TIMEOUT": "3",
        # The lab lives on loopback, which the probe otherwise never connects to.
        "SECMAIL_ALLOW_NONPUBLIC": "1",
        **extra,
    }


def worker_name() -> str:
    """The node name test workers take (one per test process)."""
    return f"pipeline-{os.getpid()}@{socket.gethostname()}"


class Worker:
    """`celery worker` in its own process group, started as an operator would: no -Q, so it
    consumes every queue the app declares (pass `queues` to split them as compose may)."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        concurrency: int = 2,
        app: str = "secmail",
        queues: str | None = None,
    ) -> None:
        self.env = {**os.environ, **env}
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
        )
        self.log_path = log_path
        self.concurrency = concurrency
        self.app = app
        self.queues = queues
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Worker:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                self.app,
                "worker",
                *(["-Q", self.queues] if self.queues else []),
                "-P",
                "prefork",
                "-c",
                str(self.concurrency),
                "-n",
                worker_name(),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches the pool too
        )
        log.close()
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log_path.read_bytes()[offset:]:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"worker not ready after {timeout} s:\n{self.tail()}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once, as a crash or an OOM kill would."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        """Warm shutdown (SIGTERM): running tasks finish; then SIGKILL if it takes too long."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, size: int = 4000) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-size:]


@contextlib.contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's Celery app at `url` (tasks the test enqueues go there)."""
    from secmail.celery import app

    saved = (app.conf.broker_url, app.conf.result_backend)
    app.conf.broker_url = url
    app.conf.result_backend = url
    app._after_fork()  # drops the connection pools made for the old broker
    # A test starts on empty queues: a tick or batch an earlier test left unconsumed would
    # otherwise run in this test's worker (a scheduled cycle appearing out of nowhere).
    app.control.purge()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.result_backend = saved
        app._after_fork()


def redis_db_url(url: str, db: int) -> str:
    """The same Redis server, another database number (keeps these queues apart)."""
    base = url.rsplit("/", 1)[0] if url.count("/") >= 3 else url.rstrip("/")
    return f"{base}/{db}"
