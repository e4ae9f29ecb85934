"""The event the benchmark creates, and look-alike messages for the baseline server.

The baseline broadcasts a message of the same shape and size as the product's `tally`
(40 proposals' counts plus participation, ~1.2 KB) and sends a `snapshot` of the same shape
on connect, so that both sides move the same bytes.
"""

import json
from datetime import UTC, datetime

TOPICS = [
    "Postgres locking in anger",
    "Websockets at conference scale",
    "Dot voting: what the research says",
    "Accessible live dashboards",
    "Running an unconference for 800 people",
    "Typed Django",
    "Async views: when they pay off",
    "Load testing on one laptop",
    "Designing for projectors",
    "Open source governance",
]


def proposal_texts(n: int) -> list[dict]:
    """Title, description and host of each proposal the benchmark creates."""
    return [
        {
            "title": f"{TOPICS[i % len(TOPICS)]} #{i + 1}",
            "description": (
                f"Session {i + 1}: a hands-on discussion. Bring your questions and your war stories; "
                "we will collect notes in a shared document and publish them afterwards."
            ),
            "host_name": f"Host {i + 1}",
        }
        for i in range(n)
    ]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def tally(version: int, n_proposals: int, voters: int = 4000) -> str:
    counts = {str(1000 + i): {"dots": 150 + 7 * i, "voters": 150 + 7 * i} for i in range(n_proposals)}
    message = {
        "type": "tally",
        "version": version,
        "server_time": _now(),
        "participation": {"attendees": 12000, "voters": voters, "dots_cast": 20000, "dots_total": 60000},
        "counts": counts,
    }
    return json.dumps(message, separators=(",", ":"))


def snapshot(version: int, n_proposals: int) -> str:
    proposals = [
        {
            "id": 1000 + i,
            **text,
            "status": "published",
            "merged_into": None,
            "created_at": _now(),
            "mine": False,
            "dots": 150 + 7 * i,
            "voters": 150 + 7 * i,
        }
        for i, text in enumerate(proposal_texts(n_proposals))
    ]
    message = {
        "type": "snapshot",
        "version": version,
        "server_time": _now(),
        "participation": {"attendees": 12000, "voters": 4000, "dots_cast": 20000, "dots_total": 60000},
        "event": {"slug": "bench", "name": "Load benchmark", "voting_open": True},
        "proposals": proposals,
        "schedule": None,
    }
    return json.dumps(message, separators=(",", ":"))
