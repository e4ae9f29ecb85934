"""Load benchmark of the live vote: `make bench` (full) or `make bench-quick` (scripts/bench).

One run measures the limits of this machine (plain websockets fan-out, a hello-world Django
view under Daphne, raw PostgreSQL vote inserts), then the product as deployed on one machine
(PostgreSQL, Redis, one Daphne process per core) under a join storm, a vote storm and a ramp,
checks that nothing was lost, and writes bench/out/load.{json,md} and the latency plot.
"""
