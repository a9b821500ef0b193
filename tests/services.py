"""Throwaway PostgreSQL and Redis servers on 127.0.0.1 for tests and benchmarks.

Each context manager starts a private server in a temporary directory on a free port, yields
its URL and stops it (and deletes its data) on exit, also after a failure or Ctrl-C.
PostgreSQL refuses to run as root, so as root its commands run as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_SEARCH = "/usr/lib/postgresql/*/bin"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def find_postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL server bin directory, or one holding pg_ctl on PATH."""
    candidates = sorted(
        Path("/").glob(PG_SEARCH.lstrip("/")),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def find_redis_server() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
    )


def _as_postgres_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _wait_for_port(port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def postgres_server(bin_dir: Path | None = None) -> Iterator[str]:
    """Start a private PostgreSQL; yields postgres://secmail@127.0.0.1:PORT/postgres."""
    bin_dir = bin_dir or find_postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found")
    root = Path(tempfile.mkdtemp(prefix="secmail-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError("running as root, and no 'postgres' user to run as") from None
        os.chown(root, account.pw_uid, account.pw_gid)
    data, log = root / "data", root / "postgres.log"
    port = free_port()
    started = False
    try:
        subprocess.run(
            _as_postgres_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "secmail",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        # Durability is pointless for a throwaway database; these make tests faster.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            _as_postgres_user(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        started = True
        _wait_for_port(port, time.monotonic() + 30)
        yield f"postgres://secmail@127.0.0.1:{port}/postgres"
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace")
        if log.exists():
            detail += log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL did not start: {detail.strip()}") from None
    finally:
        if started:
            subprocess.run(
                _as_postgres_user(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
                ),
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis_server(executable: str | None = None) -> Iterator[str]:
    """Start a private, memory-only Redis; yields redis://127.0.0.1:PORT/0."""
    executable = executable or find_redis_server()
    if executable is None:
        raise RuntimeError("redis-server not found")
    root = Path(tempfile.mkdtemp(prefix="secmail-redis-"))
    port = free_port()
    log = (root / "redis.log").open("wb")
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
            "--daemonize",
            "no",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so Ctrl-C reaches us first and we stop it in order
    )
    try:
        deadline = time.monotonic() + 15
        while not redis_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "redis-server did not start: "
                    + (root / "redis.log").read_text(errors="replace")[-2000:]
                )
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(process)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def redis_ping(port: int, host: str = "127.0.0.1") -> bool:
    """True when a Redis server answers PING; plain socket, so no client library is needed."""
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def django_for_bench(database_url: str, **env: str) -> None:
    """Point Django at a throwaway database from a benchmark script, set it up and migrate.

    Production settings (DEBUG off) with a key that only a benchmark would use.
    """
    os.environ.update(
        DATABASE_URL=database_url,
        SECRET_KEY="bench-only-not-a-secret",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        **env,
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secmail.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
