"""`make run`: migrate, load the demo on first run, then run web, worker, beat and receiver.

A tiny supervisor: each child runs in its own process group with its output prefixed; Ctrl-C or
SIGTERM (or any child dying) stops all of them, and it exits only once every child has ended.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from tests.lab import LabHandle

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 10


def _pump(name: str, stream: IO[bytes]) -> None:
    prefix = f"{name:>6} | ".encode()
    for line in iter(stream.readline, b""):
        sys.stdout.buffer.write(prefix + line)
        sys.stdout.buffer.flush()


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in children.values():
        if process.poll() is None:
            # SIGINT to the whole group is what Ctrl-C in a terminal does, which runserver's
            # autoreloader and Celery's pool processes are built to shut down from cleanly.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
    deadline = time.monotonic() + GRACE_SECONDS
    for name, process in children.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"devserver: {name} did not stop in {GRACE_SECONDS}s; killing it", flush=True)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # Children of the group that outlived their leader (e.g. pool workers).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    port = os.environ.get("SECMAIL_PORT", "8000")
    # Installed explicitly (also for SIGINT) because a shell that starts us in the background
    # ignores SIGINT, and children would inherit that; a handler is reset to default on exec.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)

    lab = _start_demo_lab()
    _receiver_env()
    try:
        return _serve(port, lab is not None)
    finally:
        if lab is not None:
            lab.stop()


def _start_demo_lab() -> LabHandle | None:
    """Start the loopback lab's demo world and point the probe settings at it.

    The demo's domains live only in the lab, so a newcomer sees real probes with no internet.
    Setting SECMAIL_DNS_RESOLVERS yourself (to probe real domains) or SECMAIL_DEMO_LAB=0 skips it.
    """
    if os.environ.get("SECMAIL_DNS_RESOLVERS") or os.environ.get("SECMAIL_DEMO_LAB") == "0":
        return None
    from tests.lab import start_lab

    print("devserver: starting the loopback mail lab for the demo ...", flush=True)
    lab = start_lab("demo", ROOT / "var" / "lab")
    os.environ.update(lab.env())
    os.environ["SECMAIL_MTA_STS_PORT"] = str(lab.https_port)
    # The lab's servers live on loopback, which the probe otherwise refuses to connect to.
    os.environ["SECMAIL_ALLOW_NONPUBLIC"] = "1"
    # Lab servers answer at once; short deadlines keep the demo's hostile ones from dragging.
    os.environ.setdefault("SECMAIL_PROBE_TIMEOUT", "5")
    os.environ.setdefault("SECMAIL_CONNECT_TIMEOUT", "3")
    return lab


def _receiver_env() -> None:
    """Point secmail's own receiving SMTP service at loopback with a certificate made here,
    unless the environment configures it: members of the demo can send it test messages."""
    if os.environ.get("SECMAIL_RECEIVER_DOMAIN"):
        return
    folder = ROOT / "var" / "receiver"
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not cert.exists() or not key.exists():
        make_receiver_certificate(cert, key, "mx.receiver.demo.lab.test")
    os.environ.update(
        {
            "SECMAIL_RECEIVER_DOMAIN": "receiver.demo.lab.test",
            "SECMAIL_RECEIVER_LISTEN": os.environ.get("SECMAIL_RECEIVER_LISTEN", "127.0.0.1:2525"),
            "SECMAIL_RECEIVER_TLS_CERT": str(cert),
            "SECMAIL_RECEIVER_TLS_KEY": str(key),
        }
    )


def make_receiver_certificate(cert: Path, key: Path, name: str) -> None:
    """A self-signed certificate for a lab or demo receiver (senders do not verify receivers)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(private, hashes.SHA256())
    )
    cert.parent.mkdir(parents=True, exist_ok=True)
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _serve(port: str, demo_lab: bool) -> int:
    _manage("migrate", "--no-input")
    _manage("seed_demo", "--first-run")
    if demo_lab:
        # Probe the demo at once rather than at the first beat tick.
        _manage("probe_cycle")

    python = sys.executable
    commands = {
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}"],
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "secmail",
            "worker",
            "-Q",
            "probe,default",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
        ],
        "beat": [python, "-m", "celery", "-A", "secmail", "beat", "--loglevel", "INFO"],
        "smtp": [python, "manage.py", "receive_mail"],
    }
    children: dict[str, subprocess.Popen[bytes]] = {}
    status = 0
    try:
        for name, command in commands.items():
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            children[name] = process
            assert process.stdout is not None
            threading.Thread(target=_pump, args=(name, process.stdout), daemon=True).start()
        _print_welcome(port)
        parent = os.getppid()
        while True:
            if os.getppid() != parent:
                # Whoever started us (make, a terminal) is gone: do not leave servers behind.
                print("devserver: parent process ended; stopping", flush=True)
                raise KeyboardInterrupt
            for name, process in children.items():
                if process.poll() is not None:
                    print(f"devserver: {name} exited with {process.returncode}; stopping")
                    status = 1
                    raise KeyboardInterrupt
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\ndevserver: stopping web, worker, beat and receiver ...", flush=True)
    finally:
        _stop(children)
        print("devserver: everything stopped.", flush=True)
    return status


def _print_welcome(port: str) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secmail.settings")
    django.setup()
    from secmail.demo.demo import demo_logins

    lines = [
        f"secmail is starting on http://127.0.0.1:{port}/  (Ctrl-C stops everything)",
        "its receiver for outbound test messages and TLS reports listens on "
        + os.environ.get("SECMAIL_RECEIVER_LISTEN", ""),
    ]
    logins = demo_logins()
    if logins:
        lines.append("DEMO DATA logins (email / password):")
        lines += [f"  {email}  {password}" for email, password in logins.items()]
    width = max(len(line) for line in lines)
    print("\n" + "-" * width + "\n" + "\n".join(lines) + "\n" + "-" * width + "\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
