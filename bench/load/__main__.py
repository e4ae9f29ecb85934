"""`python -m bench.load [--quick] [options]` — run through scripts/bench (make bench / bench-quick).

Exit status: 0 every target met; 1 the product lost a vote, showed a wrong tally or dropped a
socket; 2 the harness could not run; 3 a performance target was missed.
"""

import argparse
import shlex
import sys
import traceback


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Load benchmark: this machine's limits, then the product under a join storm, a vote "
        "storm and a ramp, then the checks. Writes bench/out/load.{json,md} and load-latency.png.",
        epilog="Exit status: 0 every target met; 1 a vote, a tally or a socket was lost; "
        "2 the harness could not run; 3 a performance target was missed.",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 sockets and a 20 s storm (everyday use)")
    parser.add_argument("--sockets", type=int, help="websocket subscribers (default 5,000; quick 1,000)")
    parser.add_argument("--seconds", type=float, help="length of the vote storm (default 60; quick 20)")
    parser.add_argument("--rate", type=float, help="votes per second in the storm (default 200)")
    parser.add_argument("--attendees", type=int, help="attendees in the event (default 12,000; quick 6,000)")
    parser.add_argument(
        "--subscriber-procs", type=int, help="client processes holding the sockets (default 2)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the Daphne processes during the join and vote storms (pip install py-spy)",
    )
    parser.add_argument(
        "--no-docs-plot", action="store_true", help="do not copy the plot to docs/bench-latency.png"
    )
    parser.add_argument(
        "--join-only",
        action="store_true",
        help="only the join storm and memory per socket, against plain websockets (~1 min; writes no files)",
    )
    parser.add_argument(
        "--votes-only",
        action="store_true",
        help="only the request path: CPU per vote against CPU per hello-world request at the storm "
        "rate, no websocket open (~1 min; writes no files but profiles)",
    )
    parser.add_argument(
        "--server",
        choices=("daphne", "uvicorn"),
        default="daphne",
        help="experiment: serve the product and the hello-world limit with uvicorn + uvloop instead of "
        "Daphne (pip install uvicorn; not a requirement). Never copies the plot to docs/.",
    )
    args = parser.parse_args(argv)

    from .run import full_config, join_only, quick_config, run, votes_only

    overrides = {
        key: value
        for key, value in (
            ("sockets", args.sockets),
            ("storm_seconds", args.seconds),
            ("storm_rate", args.rate),
            ("attendees", args.attendees),
            ("subscriber_procs", args.subscriber_procs),
        )
        if value is not None
    }
    overrides["profile"] = args.profile
    overrides["server"] = args.server
    if args.server != "daphne":
        overrides["copy_plot"] = False
    overrides.setdefault("copy_plot", not args.no_docs_plot)
    cfg = quick_config(**overrides) if args.quick else full_config(**overrides)
    if cfg.attendees < cfg.sockets:
        parser.error("--attendees must be at least --sockets (every subscriber is an attendee)")
    command = "scripts/bench" + (
        ""
        if argv is None and len(sys.argv) <= 1
        else " " + shlex.join(sys.argv[1:] if argv is None else argv)
    )
    try:
        if args.join_only:
            return join_only(cfg, command.rstrip())
        if args.votes_only:
            return votes_only(cfg, command.rstrip())
        return run(cfg, command.rstrip())
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 2
    except Exception:  # the harness itself failed: say so, distinct from a product failure
        traceback.print_exc()
        print("error: the benchmark harness could not complete the run (see above)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
