"""Seeded fuzzing of the readers that parse what servers send: nothing escapes, deadlines hold.

Random and mutated SMTP and HTTP answers, served on loopback by throwaway in-process servers.
The seeds are fixed, so a failure replays exactly; the case counts keep the run within seconds.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import pytest

from monitoring.probe import ProbeConfig
from monitoring.probe.aia import AiaFetch, fetch_issuers
from monitoring.probe.http import HttpError, HttpResponse, http_get
from monitoring.probe.lookup import Resolver
from monitoring.probe.smtp import Dialogue, DialogueError, Reply, read_reply, smtp_dialogue

SEED = 20261123
DEADLINE = 0.4
# Scheduling slack on a loaded 2-core machine; far below what a missing deadline would cost.
SLACK = 1.5
CONCURRENCY = 40

SMTP_SCRIPT = [
    b"220 mx.fuzz.test ESMTP\r\n",
    b"250-mx.fuzz.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n",
    b"220 2.0.0 go ahead\r\n",
    b"\x16\x03\x03\x00\x2a\x02\x00\x00\x26\x03\x03" + bytes(32) + b"\x00\x13\x01\x00",
]
HTTP_ANSWERS = [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n-----BEGIN CERTIFICATE-----\r\nAAAA\r\n",
    b"HTTP/1.0 404 Not Found\r\n\r\n",
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to three random edits of the kinds hostile or broken servers make."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(10)
        at = rng.randrange(len(out) + 1)
        if kind == 0 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif kind == 1:
            del out[at:]
        elif kind == 2:
            out[at:at] = rng.randbytes(rng.randint(1, 64))
        elif kind == 3:
            out[at:at] = b"\n" * rng.randint(1, 4)
        elif kind == 4:
            out = bytearray(bytes(out).replace(b"\r\n", b"\n"))
        elif kind == 5:
            out[at:at] = b"x" * rng.choice([4097, 20_000, 70_000])
        elif kind == 6:
            out[at:at] = b"250-more\r\n" * rng.choice([99, 101, 5000])
        elif kind == 7:
            out[at:at] = rng.choice([b"ffffffffffff\r\n", b"-1\r\n", b"zz\r\n", b"1;\xff\r\n"])
        elif kind == 8:
            out[at:at] = rng.choice(
                [b"Content-Length: 99999999\r\n", b"Content-Length: -3\r\n", b"HTTP/1.1 2x0\r\n"]
            )
        else:
            out[at:at] = out[: rng.randint(0, len(out))]
    return bytes(out)


def smtp_cases(count: int) -> list[tuple[list[bytes], str]]:
    rng = random.Random(SEED)
    cases = []
    for _ in range(count):
        script = [mutate(rng, chunk) if rng.random() < 0.4 else chunk for chunk in SMTP_SCRIPT]
        if rng.random() < 0.15:
            script = [rng.randbytes(rng.randint(0, 3000))]
        cases.append((script, rng.choice(["close", "hang", "trickle"])))
    return cases


def http_cases(count: int) -> list[tuple[list[bytes], str]]:
    rng = random.Random(SEED + 1)
    cases = []
    for _ in range(count):
        answer = mutate(rng, rng.choice(HTTP_ANSWERS))
        if rng.random() < 0.15:
            answer = rng.randbytes(rng.randint(0, 3000))
        cases.append(([answer], rng.choice(["close", "hang", "trickle"])))
    return cases


async def serve_script(script: list[bytes], ending: str) -> tuple[asyncio.Server, int]:
    """A one-port server: the first chunk on connect, the next one per client write."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for index, chunk in enumerate(script):
                if index and not await reader.read(65536):
                    return
                if ending == "trickle" and index == len(script) - 1:
                    for byte in chunk or b"2":
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(0.05)
                else:
                    writer.write(chunk)
                    await writer.drain()
            if ending != "close":
                while await reader.read(65536):
                    pass
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def run_bounded(cases, attempt: Callable) -> list[tuple[object, float]]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(case):
        async with gate:
            server, port = await serve_script(*case)
            try:
                started = time.monotonic()
                try:
                    outcome = await attempt(port)
                except Exception as exc:  # noqa: BLE001 - the test reports what escaped
                    outcome = exc
                return outcome, time.monotonic() - started
            finally:
                server.close()

    return await asyncio.gather(*(one(case) for case in cases))


def fuzz_config(port: int) -> ProbeConfig:
    return ProbeConfig(
        resolvers=(("127.0.0.1", 9),),
        smtp_port=port,
        ehlo_name="fuzz.secmail.test",
        connect_timeout=DEADLINE,
        probe_timeout=DEADLINE,
        dns_timeout=DEADLINE,
        allow_nonpublic=True,
    )


def test_the_smtp_dialogue_survives_random_and_mutated_servers():
    async def attempt(port: int) -> Dialogue:
        return await smtp_dialogue("mx.fuzz.test", "127.0.0.1", fuzz_config(port))

    outcomes = asyncio.run(run_bounded(smtp_cases(300), attempt))
    for outcome, elapsed in outcomes:
        assert isinstance(outcome, Dialogue), repr(outcome)
        assert outcome.error is not None and outcome.tls_version is None
        assert elapsed < DEADLINE + SLACK, elapsed


def test_the_http_reader_survives_random_and_mutated_servers():
    async def attempt(port: int) -> HttpResponse | Exception:
        try:
            async with asyncio.timeout(DEADLINE):
                return await http_get(
                    "127.0.0.1",
                    port,
                    "aia.fuzz.test",
                    "/issuer.der",
                    tls=False,
                    connect_timeout=DEADLINE,
                    max_body=64 * 1024,
                )
        except (HttpError, OSError, TimeoutError) as exc:
            return exc  # the documented ways to fail

    outcomes = asyncio.run(run_bounded(http_cases(300), attempt))
    for outcome, elapsed in outcomes:
        assert isinstance(outcome, HttpResponse | HttpError | OSError | TimeoutError), outcome
        if isinstance(outcome, HttpResponse):
            assert len(outcome.body) <= 64 * 1024
        assert elapsed < DEADLINE + SLACK, elapsed


def test_an_aia_fetch_never_raises_whatever_the_server_sends():
    async def attempt(port: int) -> AiaFetch:
        config = fuzz_config(port)
        resolver = Resolver(config)
        try:
            return await fetch_issuers(f"http://127.0.0.1:{port}/issuer.der", resolver, config)
        finally:
            resolver.close()

    outcomes = asyncio.run(run_bounded(http_cases(120), attempt))
    for outcome, elapsed in outcomes:
        assert isinstance(outcome, AiaFetch), repr(outcome)
        assert outcome.issuers or (outcome.error and outcome.detail), outcome
        assert elapsed < DEADLINE + SLACK, elapsed


@pytest.mark.parametrize("seed", range(4))
def test_the_reply_reader_only_ever_raises_dialogue_errors(seed):
    rng = random.Random(SEED + 10 + seed)

    async def read_all() -> None:
        for _ in range(500):
            reader = asyncio.StreamReader(limit=4096)
            reader.feed_data(mutate(rng, rng.choice(SMTP_SCRIPT[:3])))
            reader.feed_eof()
            try:
                reply = await read_reply(reader)
            except DialogueError as exc:
                assert exc.code in ("reply-too-long", "invalid-reply", "connection-closed")
            else:
                assert isinstance(reply, Reply) and 0 <= reply.code <= 999

    asyncio.run(read_all())


def test_the_dns_reader_only_ever_raises_wire_errors():
    import dns.message
    import dns.rrset

    from monitoring.probe import dnswire

    asked = dnswire.question("mx.fuzz.test", "MX")
    good = dns.message.make_response(dns.message.from_wire(dnswire.query(7, asked)))
    good.answer.append(dns.rrset.from_text("mx.fuzz.test.", 60, "IN", "CNAME", "a.fuzz.test."))
    good.answer.append(dns.rrset.from_text("a.fuzz.test.", 60, "IN", "MX", "10 mx1.fuzz.test."))
    wire = good.to_wire()
    assert dnswire.follow(dnswire.parse(wire, asked), "mx.fuzz.test", "MX", 8) == (
        (dnswire.MxData(10, "mx1.fuzz.test"),),
        "a.fuzz.test",
    )
    # A compression pointer to itself must end, not loop.
    looping = wire[:12] + asked + b"\xc0\x1e" + b"\x00\x0f\x00\x01" + bytes(6)
    with pytest.raises(dnswire.WireError):
        dnswire.parse(looping[:12] + looping[12:], asked)
    rng = random.Random(SEED + 20)
    for _ in range(3000):
        data = mutate(rng, wire)
        try:
            response = dnswire.parse(data, asked)
            dnswire.follow(response, "mx.fuzz.test", "MX", 8)
        except dnswire.WireError:
            pass
