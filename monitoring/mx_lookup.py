"""MX hosts of domains never probed, so that their first batches can be grouped by host."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from monitoring.probe import ProbeConfig
from monitoring.probe.lookup import Outcome, Resolver, mx_records

logger = logging.getLogger(__name__)

# Planning must not hold a cycle back: what is not answered by then is grouped by name.
DEADLINE = 15.0


async def _hosts(resolver: Resolver, domain: str) -> tuple[str, ...]:
    answer, records = await mx_records(resolver, domain)
    if answer.outcome is not Outcome.OK:
        return ()
    hosts = tuple(dict.fromkeys(r.host for r in records if r.host not in ("", ".")))
    # No MX RRset: the domain itself is the implicit MX (RFC 5321 §5.1).
    return hosts or (() if records else (domain,))


async def _all(domains: list[str], config: ProbeConfig, deadline: float) -> dict[str, tuple]:
    resolver = Resolver(config)
    tasks = {name: asyncio.ensure_future(_hosts(resolver, name)) for name in domains}
    try:
        done, pending = await asyncio.wait(tasks.values(), timeout=deadline)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        resolver.close()
    found = {}
    for name, task in tasks.items():
        if task.done() and not task.cancelled() and task.exception() is None and task.result():
            found[name] = task.result()
    return found


def mx_hosts(
    domains: Iterable[str], config: ProbeConfig, *, deadline: float = DEADLINE
) -> dict[str, tuple[str, ...]]:
    """Each domain's MX host names, through the probe's resolvers; absent when not known."""
    names = sorted({name.lower().rstrip(".") for name in domains})
    if not names:
        return {}
    found = asyncio.run(_all(names, config, deadline))
    if len(found) < len(names):
        logger.info("MX hosts known for %d of %d new domain(s)", len(found), len(names))
    return found
