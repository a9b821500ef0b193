"""The Celery app of bench/cycle.py's worker: secmail's app, counting SQL statements in Redis."""

from __future__ import annotations

import os
from typing import Any

import redis
from celery.signals import task_postrun, worker_process_init
from django.db import connection

from secmail.celery import app

__all__ = ["app"]

COUNTER = "bench:queries"
_count = 0


def _counting(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    global _count
    _count += 1
    return execute(sql, params, many, context)


@worker_process_init.connect
def _install(**kwargs: object) -> None:
    connection.execute_wrappers.append(_counting)


@task_postrun.connect
def _flush(**kwargs: object) -> None:
    global _count
    if _count:
        redis.Redis.from_url(os.environ["REDIS_URL"]).incrby(COUNTER, _count)
        _count = 0
