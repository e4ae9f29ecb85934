"""Fixed-window counters in the cache (Redis when REDIS_URL is set, so all processes share them).

They fail open: if the cache is unreachable, nobody is locked out of joining a live event;
the outage is logged instead.
"""

import logging
import time

from django.core.cache import cache

from .errors import RateLimited

logger = logging.getLogger(__name__)


def _key(bucket: str, window: int) -> tuple[str, int]:
    now = int(time.time())
    start = now - now % window
    return f"unconf:rl:{bucket}:{start}", start + window - now


def check(bucket: str, *, limit: int, window: int) -> None:
    """Refuse with 429 if the bucket is already full, without counting this call."""
    key, retry_after = _key(bucket, window)
    try:
        count = cache.get(key) or 0
    except Exception:
        logger.warning("Rate-limit cache unavailable; allowing %s", bucket, exc_info=True)
        return
    if count >= limit:
        raise RateLimited(retry_after=max(retry_after, 1))


def consume(bucket: str, *, limit: int, window: int) -> None:
    """Count this call; refuse with 429 once the bucket holds more than `limit`."""
    key, retry_after = _key(bucket, window)
    try:
        cache.add(key, 0, timeout=window + 5)
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    except Exception:
        logger.warning("Rate-limit cache unavailable; allowing %s", bucket, exc_info=True)
        return
    if count > limit:
        raise RateLimited(retry_after=max(retry_after, 1))
