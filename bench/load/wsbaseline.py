"""The fan-out limit: a plain `websockets` + uvloop server, nothing else.

Every connection gets a snapshot-sized message on connect (as the product sends), then
waits. On `burst K` (a line on stdin) the server broadcasts K tally-sized messages to every
socket with `websockets.broadcast()` — the frame built once, written to each socket in one
loop — and answers `done` on stdout. Run as `python -m bench.load.wsbaseline PORT PROPOSALS`.
"""

import asyncio
import sys

import uvloop
from websockets.asyncio.server import broadcast, serve

from . import payloads
from .wsclient import raise_fd_limit

CLIENTS: set = set()


async def handler(websocket) -> None:
    CLIENTS.add(websocket)
    try:
        await websocket.send(SNAPSHOT)
        await websocket.wait_closed()
    finally:
        CLIENTS.discard(websocket)


async def main(port: int, proposals: int) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue = asyncio.Queue()
    loop.add_reader(sys.stdin.fileno(), lambda: commands.put_nowait(sys.stdin.readline()))
    version = 1
    async with serve(handler, "127.0.0.1", port, max_size=2**20, compression=None, ping_interval=None):
        print("ready", flush=True)
        while True:
            line = (await commands.get()).split()
            if not line or line[0] == "quit":
                return
            if line[0] == "burst":
                for _ in range(int(line[1])):
                    version += 1
                    broadcast(CLIENTS, payloads.tally(version, proposals))
                    await asyncio.sleep(0)
                print(f"done {len(CLIENTS)}", flush=True)


if __name__ == "__main__":
    raise_fd_limit()
    SNAPSHOT = payloads.snapshot(1, int(sys.argv[2]))
    uvloop.run(main(int(sys.argv[1]), int(sys.argv[2])))
