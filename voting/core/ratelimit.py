"""Fixed-window counters in the cache (Redis when REDIS_URL is set, so all processes share them).

They fail open: if the cache is unreachable, nobody is locked out of joining a live event;
the outage is logged instead.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache

from voting.core.errors import RateLimited

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


# --- the rules built on them (README: "Limits") ---------------------------------------------------


def _guesses(address: str, event_id: int | None) -> tuple[str, dict]:
    """Wrong codes per address and event (per address alone where no event is known yet, on `/`).
    Per event: a hall's typos for one event never lock that address out of another."""
    scope = "any" if event_id is None else str(event_id)
    limit = {"limit": settings.UNCONF_BAD_CODE_RATE, "window": settings.UNCONF_BAD_CODE_WINDOW_SECONDS}
    return f"badcode:{address}:{scope}", limit


def refuse_if_guessing(address: str, event_id: int | None = None) -> None:
    """429 once this address has typed too many wrong codes (here, for this event)."""
    bucket, limit = _guesses(address, event_id)
    check(bucket, **limit)


def count_wrong_code(address: str, event_id: int | None = None) -> None:
    """Count a wrong code; 429 instead of the refusal once there were too many."""
    bucket, limit = _guesses(address, event_id)
    consume(bucket, **limit)


def _joins(address: str) -> tuple[str, dict]:
    return f"join:{address}", {
        "limit": settings.UNCONF_JOIN_RATE,
        "window": settings.UNCONF_JOIN_WINDOW_SECONDS,
    }


def refuse_if_joining_too_fast(address: str) -> None:
    bucket, limit = _joins(address)
    check(bucket, **limit)


def count_join(address: str) -> None:
    bucket, limit = _joins(address)
    consume(bucket, **limit)
