"""Sync Django code (ORM, views) run from the event loop on a few long-lived worker threads:
one pool for HTTP requests, one for the live feed (settings UNCONF_REQUEST_THREADS and
UNCONF_FEED_THREADS).

Each worker thread keeps its database connection instead of opening one per call: a new
PostgreSQL backend costs ~8 ms of CPU, more than a vote itself (measured by the load
benchmark). With UNCONF_KEEP_DB_CONNECTIONS off (the in-process tests, which must see the
test's transaction), every call closes its connection instead.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from unconf import fast_paths

# A connection idle this long is pinged before use (it may have outlived a database restart);
# a busy one is not: a failed statement marks it, and the next call replaces it.
IDLE_CHECK_SECONDS = 5.0

_last_used = threading.local()


class _InWorker(SyncToAsync):
    def thread_handler(self, loop, *args, **kwargs):
        now = time.monotonic()
        idle = now - getattr(_last_used, "at", now)
        if connection.connection is not None and (connection.errors_occurred or idle > IDLE_CHECK_SECONDS):
            if not connection.is_usable():
                connection.close()
            connection.errors_occurred = False
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            _last_used.at = time.monotonic()
            if not settings.UNCONF_KEEP_DB_CONNECTIONS:
                connection.close()


@cache
def _pool(name: str) -> ThreadPoolExecutor:
    size = settings.UNCONF_REQUEST_THREADS if name == "requests" else settings.UNCONF_FEED_THREADS
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"unconf-{name}")


def in_worker(func):
    """Run the live feed's sync code (broadcast builds, identifying sockets) on its own
    threads: never on the event loop, and never queued behind a storm of votes. With the fast
    path off, Channels' own database_sync_to_async, not thread-sensitive: the feed's tasks
    outlive the request that started them, and with it the thread stock Django gave it."""
    if not fast_paths.on(fast_paths.WORKER_THREADS):
        return database_sync_to_async(func, thread_sensitive=False)
    return _InWorker(func, thread_sensitive=False, executor=_pool("feed"))


class RequestLoad:
    """HTTP requests of this process that are running or waiting: for a request thread or, for
    a vote answered on the loop (voting/votes/fast_path.py), for one of the loop's database
    connections (as many as request threads).

    Counted on the event loop only (unconf.handler), so a plain integer is enough. The live
    feed reads it to refresh screens less often while votes are waiting (broadcast.Hub).
    """

    in_flight = 0

    @classmethod
    def waiting(cls) -> int:
        return max(0, cls.in_flight - settings.UNCONF_REQUEST_THREADS)


def in_request_worker(func):
    """Run an HTTP request's sync work (middleware, view) on the request threads (only the
    pooled handler calls it, which is off when the worker threads are)."""
    return _InWorker(func, thread_sensitive=False, executor=_pool("requests"))
