"""`python -m tests.run [PYTEST ARGS]`: lint, then pytest against real PostgreSQL and Redis.

When Debian's PostgreSQL server and redis-server are installed it starts throwaway instances
on 127.0.0.1 and exports DATABASE_URL and REDIS_URL; otherwise it falls back, loudly, to SQLite
and the filesystem broker. SECMAIL_REQUIRE_SERVICES=1 turns that fallback into a failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from tests.services import find_postgres_bin, find_redis_server, postgres_server, redis_server

ROOT = Path(__file__).resolve().parent.parent
TRUE_WORDS = {"1", "true", "yes", "on"}


def _banner(message: str) -> None:
    line = "=" * max(len(message), 20)
    print(f"\n{line}\n{message}\n{line}", flush=True)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so that every `with` block stops its server.
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    require = os.environ.get("SECMAIL_REQUIRE_SERVICES", "").strip().lower() in TRUE_WORDS
    env = dict(os.environ)
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        pg_bin = find_postgres_bin()
        redis_bin = find_redis_server()
        if require and (pg_bin is None or redis_bin is None):
            missing = [n for n, v in (("PostgreSQL", pg_bin), ("redis-server", redis_bin)) if not v]
            _banner(f"SECMAIL_REQUIRE_SERVICES=1 but not installed: {', '.join(missing)}")
            return 2
        try:
            if pg_bin is not None:
                env["DATABASE_URL"] = stack.enter_context(postgres_server(pg_bin))
            if redis_bin is not None:
                env["REDIS_URL"] = stack.enter_context(redis_server(redis_bin))
        except RuntimeError as exc:
            _banner(f"could not start a test service: {exc}")
            if require:
                return 2
        database = "postgresql" if "DATABASE_URL" in env else "sqlite"
        redis = env.get("REDIS_URL", "none (filesystem broker)")
        backends = f"backends: database={database} redis={redis}"
        if database == "sqlite" or "REDIS_URL" not in env:
            _banner(
                "WARNING: PostgreSQL and/or Redis not available; testing on the fallbacks.\n"
                + backends
            )
        else:
            print(backends, flush=True)
        env["SECMAIL_TEST_BACKENDS"] = backends
        python = sys.executable
        steps = [
            [python, "-m", "ruff", "check", "."],
            [python, "-m", "ruff", "format", "--check", "."],
            [python, "-m", "pytest", *argv],
        ]
        # Every step runs even after a failure, so one run reports lint and tests together.
        status = 0
        try:
            for command in steps:
                print(f"$ {' '.join(command[1:])}", flush=True)
                returncode = subprocess.run(command, cwd=ROOT, env=env).returncode
                if returncode != 0:
                    print(f"FAILED ({returncode}): {' '.join(command[1:])}", flush=True)
                    status = status or returncode
        except KeyboardInterrupt:
            print("\ninterrupted; stopping test services", flush=True)
            status = 130
    print(f"{backends} ({time.monotonic() - started:.0f}s)", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
