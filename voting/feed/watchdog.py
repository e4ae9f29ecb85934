"""The hub's watchdog: sockets converge on the database's state whatever was lost on the way.

Every message carries its clock's fingerprint (state part, tally part). Once a second the
watchdog compares each watched event's fingerprint with what the local sockets were last sent
and resends when they differ: after Redis was down while another process made a change, or a
deadline passed with nobody voting. A `tally` whose state part is newer than the last snapshot
sent here (its snapshot was overtaken on the way) triggers a fresh local snapshot.
"""

import asyncio
import logging

from voting.core.workers import in_worker
from voting.day import services as day_services
from voting.feed import messages
from voting.feed.broadcast import STATE, TALLY

logger = logging.getLogger(__name__)

WATCHDOG_SECONDS = 1.0
# The in-memory layer forgets group members after a day, or at once when a message expires
# unread; re-joining now and then costs nothing on either layer.
REJOIN_SECONDS = 60.0
# How often each process looks for stages that went silent (their process died).
SCREEN_SWEEP_SECONDS = 10.0
# A tally showing a newer state than the last snapshot here: wait this long for that snapshot.
OVERTAKEN_GRACE_SECONDS = 0.3


class Watchdog:
    """Mixed into Hub: uses its sockets, shown/dirty/refreshing state, _join/_leave and deliver."""

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_SECONDS)
            for event_id, sockets in list(self.sockets.items()):
                try:
                    if not sockets:  # their consumers died without a disconnect
                        await self._leave(event_id)
                        continue
                    await self._check(event_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.warning("Watchdog could not check event %s", event_id, exc_info=True)

    async def _check(self, event_id: int) -> None:
        now = self.loop.time()
        if now - self.screens_swept.get(event_id, -1e9) > SCREEN_SWEEP_SECONDS:
            self.screens_swept[event_id] = now
            await in_worker(day_services.forget_silent_screens)(event_id)
        joined_at = self.joined.get(event_id)
        if joined_at is None or now - joined_at > REJOIN_SECONDS:
            self._spawn(self._join(event_id, again=joined_at is not None))
        shown = self.shown.get(event_id)
        if shown is None or event_id in self.dirty or event_id in self.refreshing:
            return  # nothing shown yet, or a message is on its way anyway
        if now - self.delivered_at.get(event_id, -1e9) < WATCHDOG_SECONDS * 0.75:
            return  # messages are flowing: a difference now is most likely one in flight
        current = await in_worker(messages.fingerprint_now)(event_id)
        if current is None or current == shown[:2]:
            return
        await self._refresh(event_id, STATE if current[0] != shown[0] else TALLY)

    def _refresh_unless_caught_up(self, event_id: int, tally: dict) -> None:
        if event_id in self.refreshing or self.dirty.get(event_id) == STATE:
            return  # a snapshot is on its way from here anyway
        self.refreshing.add(event_id)
        self._spawn(self._refresh(event_id, STATE, after=tally))

    async def _refresh(self, event_id: int, kind: int, after: dict | None = None) -> None:
        """Rebuild from the database and deliver here only: the layer may be what failed.

        after: a tally that showed a newer state than the last snapshot here. The snapshot
        may be on its way from another process: give it a moment, and rebuild only if no
        snapshot as new as that tally has been shown by then.
        """
        self.refreshing.add(event_id)
        try:
            if after is not None:
                await asyncio.sleep(OVERTAKEN_GRACE_SECONDS)
                shown = self.shown.get(event_id)
                if shown is None or shown[2] > after["version"] or shown[0] == after["fingerprint"][0]:
                    return
            # A snapshot we missed may have moved dots (a merge, a refund): refresh `me` too.
            message = await in_worker(messages.build_message)(event_id, kind, kind == STATE)
            if message is not None:
                await self.deliver(message)
        except Exception:
            logger.warning("Could not refresh event %s", event_id, exc_info=True)
        finally:
            self.refreshing.discard(event_id)
