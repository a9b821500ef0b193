"""What the probe does to stay fast keeps its answers: question order, shared work, no leaks."""

from __future__ import annotations

import asyncio

import pytest

from monitoring.probe.lookup import _PriorityGate


def test_the_dns_gate_lets_waiters_in_by_priority_then_arrival() -> None:
    async def run() -> list[str]:
        gate = _PriorityGate(1)
        order: list[str] = []

        async def ask(label: str, priority: int) -> None:
            await gate.acquire(priority)
            order.append(label)
            await asyncio.sleep(0)
            gate.release()

        await gate.acquire(0)  # hold the only slot while the others queue up
        tasks = [
            asyncio.ensure_future(ask(label, priority))
            for label, priority in [("txt1", 2), ("mx1", 1), ("a1", 0), ("txt2", 2), ("a2", 0)]
        ]
        await asyncio.sleep(0)
        gate.release()
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(run()) == ["a1", "a2", "mx1", "txt1", "txt2"]


def test_a_cancelled_waiter_gives_its_slot_on() -> None:
    async def run() -> bool:
        gate = _PriorityGate(1)
        await gate.acquire(0)
        cancelled = asyncio.ensure_future(gate.acquire(0))
        patient = asyncio.ensure_future(gate.acquire(1))
        await asyncio.sleep(0)
        cancelled.cancel()
        gate.release()
        await asyncio.wait_for(patient, 1)
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        # The slot went to the patient waiter; releasing it frees the gate again.
        gate.release()
        await asyncio.wait_for(gate.acquire(0), 1)
        return True

    assert asyncio.run(run())


def test_a_slot_handed_to_a_waiter_cancelled_before_it_ran_is_not_lost() -> None:
    async def run() -> bool:
        gate = _PriorityGate(1)
        await gate.acquire(0)
        waiter = asyncio.ensure_future(gate.acquire(0))
        await asyncio.sleep(0)
        gate.release()  # hands the slot over ...
        waiter.cancel()  # ... and the waiter is cancelled before it resumes
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await asyncio.wait_for(gate.acquire(0), 1)
        return True

    assert asyncio.run(run())


def test_cancelling_one_waiter_leaves_the_shared_question_to_the_others(lab) -> None:
    from monitoring.probe.lookup import Outcome, Resolver
    from tests.probe.conftest import lab_probe_config

    async def run() -> tuple[Outcome, int]:
        resolver = Resolver(lab_probe_config(lab))
        try:
            domain = lab.domain("verified")
            impatient = asyncio.ensure_future(resolver.query(domain, "MX"))
            patient = resolver.query(domain, "MX")
            await asyncio.sleep(0)
            impatient.cancel()
            answer = await asyncio.wait_for(patient, 5)
            return answer.outcome, len(answer.records)
        finally:
            resolver.close()

    outcome, records = asyncio.run(run())
    assert outcome is Outcome.OK
    assert records >= 1


def test_quick_ack_is_harmless_without_a_socket_and_sets_the_option_with_one() -> None:
    import socket

    from monitoring.probe.smtp import _quick_ack

    class Writer:
        def __init__(self, sock: socket.socket | None) -> None:
            self.sock = sock

        def get_extra_info(self, name: str) -> socket.socket | None:
            return self.sock if name == "socket" else None

    _quick_ack(Writer(None))  # no socket (a closed transport): nothing to do
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        _quick_ack(Writer(sock))
        if hasattr(socket, "TCP_QUICKACK"):
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) == 1
