"""Builds one tally in a process of its own and holds it right after it read the state, until
told to go on (tests/test_counters_and_versions.py: two processes around one commit).

Usage: python -m tests.tally_builder <event id>; prints "read", waits for a line on stdin,
then prints the message as JSON."""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unconf.settings")
django.setup()

from voting.feed import messages, snapshots  # noqa: E402


def main(event_id: int) -> None:
    read_state = snapshots.state_clock

    def held(event_id):
        clock = read_state(event_id)  # the first read of the build: its snapshot is fixed here
        print("read", flush=True)
        sys.stdin.readline()
        return clock

    snapshots.state_clock = held
    print(json.dumps(messages.build_message(event_id, messages.TALLY)), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
