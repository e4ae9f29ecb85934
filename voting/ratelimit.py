"""Fixed-window counters in the cache (Redis when REDIS_URL is set, so all processes share them)."""

import time

from django.core.cache import cache

from .errors import RateLimited


def _key(bucket: str, window: int) -> tuple[str, int]:
    now = int(time.time())
    start = now - now % window
    return f"unconf:rl:{bucket}:{start}", start + window - now


def check(bucket: str, *, limit: int, window: int) -> None:
    """Refuse with 429 if the bucket is already full, without counting this call."""
    key, retry_after = _key(bucket, window)
    if (cache.get(key) or 0) >= limit:
        raise RateLimited(retry_after=max(retry_after, 1))


def consume(bucket: str, *, limit: int, window: int) -> None:
    """Count this call; refuse with 429 once the bucket holds more than `limit`."""
    key, retry_after = _key(bucket, window)
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        raise RateLimited(retry_after=max(retry_after, 1))
