"""End to end: Redis, a real `celery worker` process, the lab, PostgreSQL (no eager mode)."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from monitoring import cycles
from monitoring.models import (
    Certificate,
    CycleDomain,
    DomainStatus,
    HostObservation,
    ProbeCycle,
    StatusChange,
)
from partners.models import MailDomain
from partners.services import organization_create
from tests.lab import LabHandle, start_lab
from tests.monitoring.worker import (
    Worker,
    broker,
    database_url,
    lab_env,
    redis_db_url,
    services_required,
    worker_name,
)
from tests.services import find_redis_server, redis_server

pytestmark = pytest.mark.slow

# Every wait is bounded; a standard-world cycle takes about ten seconds on two cores.
CYCLE_TIMEOUT = 120
# The workers' SECMAIL_STALL_MINUTES in seconds, and the test's beat: a tick this often.
STALL_SECONDS = 6.0
TICK_SECONDS = 2.0


def _unavailable(reason: str) -> None:
    message = f"the pipeline test needs {reason}"
    if services_required():
        pytest.fail(f"SECMAIL_REQUIRE_SERVICES=1 but {message}")
    pytest.skip(f"SKIPPED LOUDLY: {message} (`make test` starts PostgreSQL and Redis)")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """The test runner's Redis (a database of its own), else a throwaway one, else skip."""
    if os.environ.get("REDIS_URL"):
        import redis

        url = redis_db_url(os.environ["REDIS_URL"], 7)
        redis.Redis.from_url(url).flushdb()
        yield url
        return
    if find_redis_server() is None:
        _unavailable("a Redis server (REDIS_URL, or redis-server installed)")
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def pipeline_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabHandle]:
    """A lab of our own: these tests swap certificates, which must not leak to other tests."""
    handle = start_lab("standard", tmp_path_factory.mktemp("pipeline-lab"))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def shared_database(transactional_db: None) -> None:
    """Committed data in a database another process can open: PostgreSQL."""
    if connection.vendor != "postgresql":
        _unavailable("PostgreSQL (DATABASE_URL): a worker process cannot see SQLite's test DB")


@pytest.fixture
def start_worker(
    shared_database: None, redis_url: str, pipeline_lab: LabHandle, tmp_path: Path
) -> Iterator[Callable[[], Worker]]:
    """Start workers sharing this test's (committed) database; all stopped before the flush."""
    env = lab_env(
        pipeline_lab,
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=redis_url,
        SECRET_KEY="tests-only-not-a-secret",
        DEBUG="0",
        # Time compressed 30 times: a 6 s lease renewed every 2 s (3 min and 1 min by default).
        SECMAIL_STALL_MINUTES=str(STALL_SECONDS / 60),
    )
    workers: list[Worker] = []

    def start(queues: str | None = None) -> Worker:
        worker = Worker(env, tmp_path / "worker.log", queues=queues).start()
        workers.append(worker)
        return worker

    with broker(redis_url):
        try:
            yield start
        finally:
            for worker in workers:
                worker.stop()


@pytest.fixture
def industry(transactional_db: None, pipeline_lab: LabHandle) -> dict[str, int]:
    """One organization per lab scenario; returns scenario -> MailDomain id."""
    for scenario in pipeline_lab.domains:
        organization_create(name=f"Org {scenario}", domains=(pipeline_lab.domain(scenario),))
    names = dict(MailDomain.objects.values_list("name", "pk"))
    return {scenario: names[pipeline_lab.domain(scenario)] for scenario in pipeline_lab.domains}


def _wait_finished(
    cycle_id: int, timeout: float = CYCLE_TIMEOUT, every: Callable[[], None] | None = None
) -> ProbeCycle:
    deadline = time.monotonic() + timeout
    while True:
        cycle = ProbeCycle.objects.get(pk=cycle_id)
        if cycle.finished is not None:
            return cycle
        if time.monotonic() > deadline:
            raise AssertionError(f"cycle {cycle_id} not finished: {cycle.done}/{cycle.total}")
        if every is not None:
            every()
        time.sleep(0.5)


def _levels() -> dict[int, str]:
    return dict(DomainStatus.objects.values_list("domain_id", "level"))


def _address_keys() -> set[tuple[str, str]]:
    """Every (MX host, address) the stored statuses point at."""
    return {
        (mx["host"], ip)
        for mx_list in DomainStatus.objects.values_list("mx", flat=True)
        for mx in mx_list
        for ip in mx["addresses"]
    }


def test_it_runs_cycles_on_a_real_worker(
    start_worker, industry: dict[str, int], pipeline_lab: LabHandle
) -> None:
    # Started the standard way, without -Q: it consumes every declared queue.
    worker = start_worker()
    assert cycles.probe_consumers(timeout=5) == [worker_name()], worker.tail()
    cycle = cycles.cycle_start(size=10)
    assert cycle.total == len(industry)
    cycle = _wait_finished(cycle.pk)
    assert cycle.done == cycle.total, worker.tail()

    # Every scenario graded as the lab expects, and stored.
    levels = _levels()
    wrong = {
        scenario: (levels[pk], pipeline_lab.expect(scenario)["level"])
        for scenario, pk in industry.items()
        if levels[pk] != pipeline_lab.expect(scenario)["level"]
    }
    assert wrong == {}
    assert sum(cycle.counts.values()) == len(industry)
    # One first verdict per domain.
    assert sorted(StatusChange.objects.values_list("domain_id", flat=True)) == sorted(
        industry.values()
    )
    # One observation per (host, address) behind the statuses; each certificate stored once.
    observations = HostObservation.objects.filter(cycle=cycle)
    assert observations.count() == len(_address_keys())
    certificates = Certificate.objects.count()
    seen = set(observations.exclude(certificate=None).values_list("certificate", flat=True))
    seen |= set(
        DomainStatus.objects.exclude(mta_sts_certificate=None).values_list(
            "mta_sts_certificate", flat=True
        )
    )
    assert certificates == len(seen) > 10

    # Nothing changed in the lab: a second cycle writes no change and no new certificate.
    second = _wait_finished(cycles.cycle_start(size=10).pk)
    assert second.done == second.total == len(industry)
    assert StatusChange.objects.count() == len(industry)
    assert Certificate.objects.count() == certificates
    assert HostObservation.objects.filter(cycle=second).count() == observations.count()
    assert _levels() == levels

    # The lab swaps one server's certificate for an expired one: exactly one change.
    pipeline_lab.client().set_cert("verified-rsa", "expired")
    third = _wait_finished(cycles.cycle_start(size=10).pk)
    assert third.done == len(industry)
    new = list(StatusChange.objects.filter(cycle=third))
    assert [(c.domain_id, c.from_level, c.to_level) for c in new] == [
        (industry["verified-rsa"], "verified", "encrypted")
    ]
    assert Certificate.objects.count() == certificates + 1


def test_it_completes_a_cycle_after_the_worker_is_killed(
    start_worker, industry: dict[str, int]
) -> None:
    from monitoring.tasks import cycle_tick

    worker = start_worker()
    # Small batches, so that the cycle is many tasks long and the kill lands in the middle.
    cycle = cycles.cycle_start(size=3)
    deadline = time.monotonic() + CYCLE_TIMEOUT
    while ProbeCycle.objects.get(pk=cycle.pk).done == 0:
        assert time.monotonic() < deadline, worker.tail()
        time.sleep(0.02)
    worker.kill()
    killed = time.monotonic()
    killed_at = ProbeCycle.objects.get(pk=cycle.pk)
    assert 0 < killed_at.done < killed_at.total, "the kill should land mid-cycle"

    # A new worker drains the queue; the batches the dead one held were acknowledged by
    # nobody and renew no lease: the tick (the test plays beat) resends them once silent for
    # the stall time, whether or not the rest of the cycle moves meanwhile.
    start_worker()
    last_tick = 0.0

    def tick() -> None:
        nonlocal last_tick
        if time.monotonic() - last_tick >= TICK_SECONDS:
            cycle_tick.delay()  # the worker's own settings: a 6 s stall time
            last_tick = time.monotonic()

    finished = _wait_finished(cycle.pk, every=tick)
    recovered = time.monotonic() - killed
    # Within stall + tick, plus a new worker's start and the resent batches' probing; the
    # same sum with default settings is 3 min + 1 min + the probing (docs/pipeline.md).
    assert recovered < STALL_SECONDS + TICK_SECONDS + 30, recovered
    print(f"cycle recovered {recovered:.1f} s after the kill")
    assert finished.done == finished.total == len(industry)
    assert not CycleDomain.objects.filter(cycle=cycle, processed_at__isnull=True).exists()
    # Nothing doubled or lost: one first verdict per domain, one observation per address.
    assert sorted(StatusChange.objects.values_list("domain_id", flat=True)) == sorted(
        industry.values()
    )
    assert DomainStatus.objects.exclude(level="").count() == len(industry)
    assert HostObservation.objects.filter(cycle=cycle).count() == len(_address_keys())
    assert sum(finished.counts.values()) == len(industry)


def test_it_says_when_no_worker_consumes_the_probe_queue(
    start_worker, industry: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitoring.management.commands import probe_cycle

    monkeypatch.setattr(probe_cycle, "NO_WORKER_GRACE", 4.0)
    monkeypatch.setattr(probe_cycle, "NO_WORKER_ASK_EVERY", 1.0)
    # A worker split off for the default queue only, as a compose file may do: not enough.
    start_worker(queues="default")
    err = io.StringIO()
    started = time.monotonic()
    with pytest.raises(CommandError, match="no worker consumes the `probe` queue after 4 s"):
        call_command("probe_cycle", "--wait", stdout=io.StringIO(), stderr=err)
    assert time.monotonic() - started < 30
    assert "no worker consumes the `probe` queue yet" in err.getvalue()
    assert "celery -A secmail worker" in err.getvalue()
    # The cycle is still there for a worker to come. (The default-queue worker may also run
    # a beat tick an earlier test left in the broker, which opens a scheduled cycle: not ours.)
    cycle = ProbeCycle.objects.get(trigger=ProbeCycle.Trigger.MANUAL)
    assert CycleDomain.objects.filter(cycle=cycle, processed_at__isnull=True).count() == len(
        industry
    )
