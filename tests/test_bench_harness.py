"""The load benchmark's own correctness: it must fail loudly when the product loses something.

Small fake inputs for the pure checks (bench/load/analysis.py), and one real websocket server
in-process for the subscriber client's drop detection. No database, no Daphne: fast.
"""

import asyncio

import numpy as np
import pytest
from websockets.asyncio.server import serve

from bench.load import analysis, report, wsclient
from bench.load.analysis import Check, RampStep

NAN = np.nan


# --- the vote plan ------------------------------------------------------------------------------


def test_vote_plan_gives_every_attendee_distinct_proposals_within_budget():
    attendees, proposals, budget = 7, 40, 5
    size = analysis.plan_size(attendees=attendees, proposals=proposals, budget=budget)

    votes = [
        analysis.vote_target(j, attendees=attendees, proposals=proposals, budget=budget) for j in range(size)
    ]

    assert size == 35
    assert len(set(votes)) == 35
    per_attendee = {a: sorted(p for b, p in votes if b == a) for a in range(attendees)}
    assert all(len(ps) == budget and len(set(ps)) == budget for ps in per_attendee.values())
    assert analysis.vote_target(size, attendees=attendees, proposals=proposals, budget=budget) is None


# --- votes against the database -----------------------------------------------------------------


def consistent_db():
    pairs = {(1, 10), (2, 10), (3, 11)}
    counts = {10: (2, 2), 11: (1, 1), 12: (0, 0)}
    return {"db_pairs": pairs, "db_counts": counts, "recount": dict(counts), "replay": dict(counts)}


def test_check_votes_passes_when_acks_rows_counters_and_ledger_agree():
    check = analysis.check_votes(Check(), acked={(1, 10), (2, 10), (3, 11)}, unknown=set(), **consistent_db())

    assert check.ok
    assert check.fail_lines() == []


def test_check_votes_fails_on_an_acknowledged_vote_missing_from_the_database():
    db = consistent_db()
    db["db_pairs"].discard((3, 11))
    db["recount"][11] = db["replay"][11] = db["db_counts"][11] = (0, 0)

    check = analysis.check_votes(Check(), acked={(1, 10), (2, 10), (3, 11)}, unknown=set(), **db)

    assert not check.ok
    assert check.lost_votes == 1
    assert check.fail_lines()[0] == "FAIL: 1 acknowledged vote(s) are not in the database (lost)"
    assert "attendee 3 on proposal 11" in check.problems[0]


def test_check_votes_fails_when_a_counter_disagrees_with_the_vote_rows():
    db = consistent_db()
    db["db_counts"][10] = (3, 2)

    check = analysis.check_votes(Check(), acked={(1, 10), (2, 10), (3, 11)}, unknown=set(), **db)

    assert check.tally_mismatches == 1
    assert check.problems == ["proposal 10: counters (3, 2) != vote rows (2, 2)"]


def test_check_votes_fails_when_the_ledger_replay_disagrees():
    db = consistent_db()
    db["replay"][11] = (0, 0)

    check = analysis.check_votes(Check(), acked={(1, 10), (2, 10), (3, 11)}, unknown=set(), **db)

    assert check.tally_mismatches == 1
    assert check.problems == ["proposal 11: ledger replay (0, 0) != vote rows (1, 1)"]


def test_check_votes_accepts_a_timed_out_vote_that_committed_but_not_an_invented_one():
    db = consistent_db()

    unsure_ok = analysis.check_votes(Check(), acked={(1, 10), (2, 10)}, unknown={(3, 11)}, **db)
    invented = analysis.check_votes(Check(), acked={(1, 10), (2, 10)}, unknown=set(), **db)

    assert unsure_ok.ok
    assert invented.tally_mismatches == 1
    assert "no request made" in invented.problems[0]


def test_check_votes_fails_on_a_200_whose_body_does_not_show_the_dot():
    check = analysis.check_votes(
        Check(), acked={(1, 10), (2, 10), (3, 11)}, unknown=set(), bad_acks=2, **consistent_db()
    )

    assert check.tally_mismatches == 2
    assert not check.ok


# --- screens against the database ---------------------------------------------------------------

EXPECTED = {10: (2, 2), 11: (1, 1)}
PARTICIPATION = {"attendees": 3, "voters": 3, "dots_cast": 3, "dots_total": 15}


def screen(counts, participation=PARTICIPATION):
    return {"counts": counts, "participation": participation}


def test_check_screens_passes_when_every_subscriber_shows_the_database():
    check = analysis.check_screens(
        Check(),
        expected=EXPECTED,
        expected_participation=PARTICIPATION,
        last_states=[screen(EXPECTED), screen(dict(EXPECTED))],
        statuses=["open", "open"],
    )

    assert check.ok


def test_check_screens_fails_on_a_subscriber_whose_last_tally_is_stale():
    stale = {10: (1, 1), 11: (1, 1)}

    check = analysis.check_screens(
        Check(),
        expected=EXPECTED,
        expected_participation=PARTICIPATION,
        last_states=[screen(EXPECTED), screen(stale), None],
        statuses=["open", "open", "open"],
    )

    assert check.tally_mismatches == 2
    assert check.fail_lines()[0] == "FAIL: 2 tally mismatch(es)"
    assert "proposal 10: (1, 1) instead of (2, 2)" in check.problems[0]


def test_check_screens_fails_on_wrong_participation_with_right_counts():
    check = analysis.check_screens(
        Check(),
        expected=EXPECTED,
        expected_participation=PARTICIPATION,
        last_states=[screen(EXPECTED, {**PARTICIPATION, "voters": 2})],
        statuses=["open"],
    )

    assert check.tally_mismatches == 1


def test_check_screens_counts_dropped_and_never_connected_sockets():
    check = analysis.check_screens(
        Check(),
        expected=EXPECTED,
        expected_participation=PARTICIPATION,
        last_states=[screen(EXPECTED), screen(EXPECTED), None],
        statuses=["open", "dropped", "failed"],
    )

    assert check.dropped_sockets == 2
    assert check.tally_mismatches == 0
    assert check.fail_lines()[0] == "FAIL: 2 websocket(s) dropped or never got their snapshot"
    assert check.problems == ["socket 1 is dropped", "socket 2 is failed"]


def test_check_screens_fails_on_a_message_older_than_one_already_shown():
    check = analysis.check_screens(
        Check(),
        expected=EXPECTED,
        expected_participation={},
        last_states=[screen(EXPECTED)],
        statuses=["open"],
        regressions=1,
    )

    assert check.tally_mismatches == 1


# --- vote → screen ------------------------------------------------------------------------------


def test_vote_to_screen_runs_from_the_ack_to_the_first_message_that_includes_the_vote():
    # Three versions of one proposal's count (0, 1, 2); two subscribers.
    arrivals = np.array(
        [
            [9.000, 9.000],  # version 0: count 0
            [10.0495, NAN],  # version 1: count 1 — socket 1 missed it
            [10.2995, 10.2995],  # version 2: count 2
        ]
    )

    screen_latency = analysis.vote_to_screen(
        ack_times=np.array([10.0]),
        proposals=np.array([7]),
        needed=np.array([1]),
        version_counts={7: np.array([0, 1, 2])},
        arrivals=arrivals,
    )

    assert screen_latency.pairs == 2
    assert screen_latency.percentile(50) == 50.0  # socket 0: version 1, 49.5 ms
    assert screen_latency.percentile(100) == 300.0  # socket 1: first message after it is version 2
    assert screen_latency.unseen_pairs == 0
    assert screen_latency.never_shown == 0


def test_vote_to_screen_counts_a_vote_no_message_ever_showed():
    screen_latency = analysis.vote_to_screen(
        ack_times=np.array([10.0, 10.1]),
        proposals=np.array([7, 7]),
        needed=np.array([1, 2]),
        version_counts={7: np.array([0, 1])},
        arrivals=np.array([[9.0], [10.05]]),
    )

    assert screen_latency.never_shown == 1
    assert screen_latency.pairs == 1


def test_vote_to_screen_counts_a_message_before_the_ack_as_zero():
    screen_latency = analysis.vote_to_screen(
        ack_times=np.array([10.0]),
        proposals=np.array([7]),
        needed=np.array([1]),
        version_counts={7: np.array([1])},
        arrivals=np.array([[9.99]]),
    )

    assert screen_latency.percentile(99) == 1.0  # the first 1 ms bin


# --- fan-out and the ramp -----------------------------------------------------------------------


def test_fanout_charges_overlapping_broadcasts_once():
    arrivals = np.array(
        [
            [0.0, 1.0],  # broadcast 1: first socket at 0 s, last at 1 s
            [0.5, 1.5],  # broadcast 2 overlaps it
            [5.0, NAN],  # reached one socket only: not a broadcast to measure
        ]
    )

    result = analysis.fanout(arrivals)

    assert result.broadcasts == 2
    assert result.deliveries == 4
    assert result.busy_seconds == 1.5
    assert result.rate == pytest.approx(4 / 1.5)


def test_find_capacity_ramps_up_then_bisects_between_pass_and_fail():
    def step(rate):
        return RampStep(rate=rate, passed=rate <= 500)

    capacity, steps = analysis.find_capacity(step, start=200, factor=1.5, refine=2)

    assert [round(s.rate) for s in steps] == [200, 300, 450, 675, 551, 498]
    assert [s.passed for s in steps] == [True, True, True, False, False, True]
    assert capacity == pytest.approx(498.0, abs=0.5)


def test_find_capacity_walks_down_when_the_first_step_fails_and_is_bounded():
    capacity, steps = analysis.find_capacity(
        lambda r: RampStep(rate=r, passed=r < 100), start=200, factor=2, refine=0, max_steps=5
    )
    never, tried = analysis.find_capacity(lambda r: RampStep(rate=r, passed=False), start=200, max_steps=4)

    assert [s.rate for s in steps] == [200, 100, 50]
    assert capacity == 50
    assert never is None
    assert len(tried) == 4


def test_summarize_collapsed_reports_self_and_total_shares():
    lines = ["main;loop;deliver;send 6", "main;loop;vote;query 3", "main;loop 1", "garbage"]

    summary = analysis.summarize_collapsed(lines, top=2)

    assert summary["samples"] == 10
    assert summary["self"] == [("send", 60.0), ("query", 30.0)]
    assert summary["total"][:2] == [("main", 100.0), ("loop", 100.0)]


def test_summarize_collapsed_splits_the_event_loop_from_worker_threads():
    lines = [
        "thread (1): MainThread;run_forever;deliver;send 50",
        "thread (1): MainThread;run_forever;select 30",
        "thread (7): ThreadPoolExecutor-0_0;_worker;execute 15",
        "thread (8): ThreadPoolExecutor-0_1;_worker;connect 5",
    ]

    summary = analysis.summarize_collapsed(lines, seconds=1.0, rate=100)

    loop, workers = summary["threads"]["event loop (MainThread)"], summary["threads"]["other threads"]
    assert (loop["samples"], loop["threads"], loop["busy_pct"]) == (80, 1, 80.0)
    assert loop["self"] == [("send", 62.5), ("select", 37.5)]
    assert (workers["samples"], workers["threads"], workers["busy_pct"]) == (20, 2, 20.0)
    assert workers["self"] == [("execute", 75.0), ("connect", 25.0)]


# --- the subscriber client against a real websocket server --------------------------------------


def test_parse_head_reads_type_and_version_without_the_rest():
    tally = b'{"type":"tally","version":42,"server_time":"2026-01-01T00:00:00+00:00","counts":{}}'
    pong = b'{"type": "pong", "version": 7, "server_time": "x"}'

    assert wsclient.parse_head(tally) == ("tally", 42)
    assert wsclient.parse_head(pong) == ("pong", 7)
    assert wsclient.parse_head(b'{"type":"error"}') is None
    assert wsclient.parse_state(tally)["counts"] == {}


async def test_subscriber_pool_reports_a_socket_the_server_drops():
    snapshot = (
        b'{"type":"snapshot","version":1,"server_time":"2026-01-01T00:00:00+00:00",'
        b'"participation":{},"proposals":[{"id":10,"status":"published","dots":2,"voters":2}]}'
    )
    connections = []

    async def handler(websocket):
        connections.append(websocket)
        await websocket.send(snapshot.decode())
        await websocket.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        origin = f"http://127.0.0.1:{port}"
        pool = wsclient.Pool([wsclient.Target("127.0.0.1", port, "/", origin)] * 3, concurrency=3, timeout=5)

        joined = await pool.join_all()
        connections[1].transport.abort()  # the server loses one socket without a close frame
        for _ in range(100):
            if pool.state[1] != "open":
                break
            await asyncio.sleep(0.02)
        dump = pool.dump()
        await pool.close_all(timeout=5)

    check = analysis.check_screens(
        Check(),
        expected={10: (2, 2)},
        expected_participation={},
        last_states=[dump["contents"][v] for v in dump["last_version"]],
        statuses=dump["state"],
    )
    assert joined["open"] == 3
    assert dump["state"] == ["open", "dropped", "open"]
    assert check.dropped_sockets == 1
    assert check.tally_mismatches == 0
    assert check.fail_lines()[0] == "FAIL: 1 websocket(s) dropped or never got their snapshot"


# --- the table's verdicts -----------------------------------------------------------------------


def results(**product):
    base = {
        "join": {"seconds": 8.0, "open": 5000},
        "memory": {"kb_per_socket": 30.0},
        "fanout": {"rate": 20_000.0, "spread_ms": {"p50": 300.0, "p99": 600.0}},
        "tallies_per_second_per_subscriber": 7.5,
        "screen": {"p50": 200.0, "p95": 500.0, "p99": 700.0},
        "storm": {"ack_ms": {"p50": 10.0, "p95": 40.0, "p99": 90.0}, "failed": 0},
        "ramp": {"capacity": 600.0},
        "check": {"lost_votes": 0, "tally_mismatches": 0, "dropped_sockets": 0},
    }
    base.update(product)
    return {
        "config": {"sockets": 5000, "storm_rate": 200},
        "limits": {
            "fanout": {"join_seconds": 2.0, "mem_kb_per_socket": 13.0, "rate": 60_000.0, "spread_ms": {}},
            "hello": {"capacity": 800.0, "at_storm_rate": {"p50": 2.0, "p95": 5.0, "p99": 9.0}},
            "postgres": {"rate": 7000.0},
        },
        "product": base,
    }


def verdicts(r):
    return {row.figure: row.result for row in report.build_rows(r) if row.result}


def test_report_passes_every_target_at_the_thresholds():
    assert set(verdicts(results()).values()) == {"PASS"}


def test_report_fails_each_target_just_past_its_threshold():
    r = results(
        join={"seconds": 10.5, "open": 5000},
        memory={"kb_per_socket": 33.0},
        fanout={"rate": 19_000.0, "spread_ms": {}},  # 31.7% of 60,000
        screen={"p50": 1.0, "p95": 1.0, "p99": 760.0},
        storm={"ack_ms": {"p50": 1.0, "p95": 1.0, "p99": 101.0}, "failed": 0},
        ramp={"capacity": 550.0},  # 68.75% of 800
        check={"lost_votes": 1, "tally_mismatches": 1, "dropped_sockets": 1},
    )

    assert set(verdicts(r).values()) == {"FAIL"}
    assert len(verdicts(r)) == 9


def test_report_fails_the_ack_target_on_errors_and_the_join_target_on_missing_sockets():
    r = results(
        storm={"ack_ms": {"p50": 1.0, "p95": 1.0, "p99": 20.0}, "failed": 3},
        join={"seconds": 3.0, "open": 4999},
    )

    failed = [figure for figure, result in verdicts(r).items() if result == "FAIL"]

    assert failed == [
        "Join storm: 5,000 sockets with their snapshot",
        "Vote ack p99 at 200 votes/s (3 errors)",
    ]


def test_join_only_runs_just_the_join_storm_with_the_chosen_size(monkeypatch):
    from bench.load import __main__ as cli
    from bench.load import run

    calls = []
    monkeypatch.setattr(run, "join_only", lambda cfg, command: calls.append((cfg, command)) or 3)
    monkeypatch.setattr(run, "run", lambda cfg, command: pytest.fail("the full run must not start"))

    status = cli.main(["--join-only", "--quick", "--sockets", "700"])

    assert status == 3
    [(cfg, command)] = calls
    assert (cfg.mode, cfg.sockets) == ("quick", 700)
    assert command == "scripts/bench --join-only --quick --sockets 700"
