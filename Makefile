# Shortcuts; the README's two commands are scripts/run and scripts/test.
.PHONY: run test lint format bench bench-quick bench-schedule bench-vote-sql screenshots

run:
	scripts/run

test:
	scripts/test

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench:
	scripts/bench

bench-quick:
	scripts/bench --quick

bench-schedule:
	.venv/bin/python -m bench.schedule_bench

bench-vote-sql:
	.venv/bin/python -m bench.vote_sql

screenshots:
	UNCONF_SCREENSHOTS=1 scripts/test tests/browser -k "screen or screenshot or clashes_are_listed or late_arrival or overflowing_room"
