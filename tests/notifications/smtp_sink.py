"""A minimal SMTP server on loopback that keeps what it receives (smtpd left Python in 3.12).

Enough SMTP for Django's SMTP backend: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It can
be stopped and started again on the same port, to play a relay that is down for a while.
"""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from email.message import EmailMessage


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink.test ESMTP")
        sender, recipients = "", []
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply(
                    "250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8"
                    if verb == "EHLO"
                    else "250 sink.test"
                )
            elif verb == "MAIL":
                sender, recipients = line.partition(":")[2].strip(" <>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.partition(":")[2].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    lines.append(data[1:] if data.startswith(b"..") else data)
                message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                with self.server.lock:
                    self.server.received.append((sender, list(recipients), message))
                self.reply("250 OK queued")
            elif verb == "RSET":
                sender, recipients = "", []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port: int, received: list, lock: threading.Lock) -> None:
        self.received = received
        self.lock = lock
        super().__init__(("127.0.0.1", port), _Handler)


class SmtpSink:
    """`with SmtpSink() as sink:` ... `sink.messages`; `sink.stop()` and `sink.start()` again."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self._server: _Server | None = None

    def start(self) -> SmtpSink:
        self._server = _Server(self.port, self.received, self.lock)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [message for _, _, message in self.received]

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
