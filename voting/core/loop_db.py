"""PostgreSQL from the event loop itself: a small aiopg pool (psycopg2's asynchronous mode) per
loop, for the one request a full hall sends hundreds of times a second (voting/votes/fast_path.py).

Everything else uses Django's ORM on worker threads (voting/core/workers.py). A query here runs
in autocommit: one statement is one transaction, which is what the vote function needs.
"""

import asyncio

import aiopg
from django.conf import settings
from django.db import connections
from psycopg2.extensions import make_dsn

# The ORM's connection settings that psycopg2.connect does not know.
_DJANGO_ONLY_OPTIONS = {"isolation_level", "assume_role", "server_side_binding", "pool"}
QUERY_TIMEOUT_SECONDS = 10.0
APPLICATION_NAME = "unconf-votes-on-loop"  # how these connections show in pg_stat_activity

_pools: dict[asyncio.AbstractEventLoop, asyncio.Future] = {}


def available() -> bool:
    return connections["default"].vendor == "postgresql" and settings.UNCONF_VOTES_ON_LOOP


def _dsn() -> str:
    db = connections["default"].settings_dict
    options = {k: v for k, v in db.get("OPTIONS", {}).items() if k not in _DJANGO_ONLY_OPTIONS}
    parts = {"dbname": db["NAME"], "user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"]}
    parts["port"] = db["PORT"]
    parts["application_name"] = APPLICATION_NAME
    return make_dsn(**{k: v for k, v in {**parts, **options}.items() if v not in (None, "")})


async def _pool() -> aiopg.Pool:
    loop = asyncio.get_running_loop()
    future = _pools.get(loop)
    if future is None or (future.done() and (future.cancelled() or future.exception() is not None)):
        future = _pools[loop] = loop.create_task(
            aiopg.create_pool(
                _dsn(),
                minsize=0,
                maxsize=settings.UNCONF_REQUEST_THREADS,
                timeout=QUERY_TIMEOUT_SECONDS,
                pool_recycle=600,
            )
        )
    return await asyncio.shield(future)


async def fetch_one(sql: str, params: list) -> tuple | None:
    """One statement, its first row. A connection that failed is closed, not reused."""
    pool = await _pool()
    async with pool.acquire() as conn, conn.cursor() as cursor:
        await cursor.execute(sql, params)
        return await cursor.fetchone()


async def close() -> None:
    """Close this loop's pool (each test runs its own loop; a server keeps one for its life)."""
    future = _pools.pop(asyncio.get_running_loop(), None)
    if future is not None and future.done() and future.exception() is None:
        pool = future.result()
        pool.close()
        await pool.wait_closed()
