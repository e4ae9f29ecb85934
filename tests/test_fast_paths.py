"""The fast paths' guards (unconf/fast_paths.py): all on with the installed libraries; a version
that differs, a private member that is gone or a middleware nobody classified turns off exactly
the path that needs it (and those running inside it), each with one WARNING line."""

import dataclasses
import logging
from types import SimpleNamespace

import pytest
from django.core.handlers.asgi import ASGIHandler

from unconf import body_limit, fast_paths
from voting.feed import wire
from voting.votes import fast_path

ALL = set(fast_paths.BY_NAME)


@pytest.fixture
def recheck(caplog):
    """Check again under the test's changes; the process's own state comes back afterwards."""
    saved = fast_paths._on
    caplog.set_level(logging.WARNING, logger="unconf.fast_paths")

    def check() -> tuple[set[str], dict[str, str]]:
        caplog.clear()
        state = fast_paths.check_all(force=True)
        lines = [r for r in caplog.records if r.name == "unconf.fast_paths"]
        assert all(r.levelno == logging.WARNING for r in lines)
        by_path = {}
        for record in lines:
            name = record.args[0] if record.args else "*"
            assert name not in by_path, f"two lines for {name}"
            by_path[name] = record.getMessage()
        return {name for name, on in state.items() if not on}, by_path

    yield check
    fast_paths._on = saved


def replace_path(monkeypatch, name: str, **changes) -> None:
    changed = dataclasses.replace(fast_paths.BY_NAME[name], **changes)
    paths = tuple(changed if p.name == name else p for p in fast_paths.FAST_PATHS)
    monkeypatch.setattr(fast_paths, "FAST_PATHS", paths)


def inside(name: str) -> set[str]:
    """The path and every path that runs inside it, directly or not."""
    found = {name}
    for path in fast_paths.FAST_PATHS:  # ordered: a path comes after what it needs
        if found & set(path.needs):
            found.add(path.name)
    return found


def test_every_fast_path_passes_its_check_on_the_installed_libraries(recheck):
    off, lines = recheck()

    assert off == set() and lines == {}
    for path in fast_paths.FAST_PATHS:
        assert fast_paths.version_mismatch(path) is None, path.name
        assert path.check() is None, path.name
        assert path.built_for and path.speeds_up and path.instead


def test_the_suite_runs_with_every_fast_path_on():
    assert all(fast_paths.check_all().values())


@pytest.mark.parametrize("name", sorted(ALL))
def test_a_version_it_was_not_built_for_turns_that_path_and_those_inside_it_off(recheck, monkeypatch, name):
    distribution = next(iter(fast_paths.BY_NAME[name].built_for))
    replace_path(monkeypatch, name, built_for={distribution: ("0.0.",)})

    off, lines = recheck()

    assert off == inside(name)
    assert set(lines) == off
    assert f"Fast path {name} off: built for {distribution} 0.0.*, found " in lines[name]
    assert fast_paths.BY_NAME[name].instead in lines[name]
    for other in off - {name}:
        assert "which is off" in lines[other]


def test_an_installed_library_of_another_version_turns_off_only_its_paths(recheck, monkeypatch):
    real = fast_paths.installed
    monkeypatch.setattr(
        fast_paths, "installed", lambda d: "3.17.0" if d == "djangorestframework" else real(d)
    )

    off, lines = recheck()

    assert off == {fast_paths.VOTE_ON_LOOP}
    assert "built for djangorestframework 3.16.*, found 3.17.0" in lines[fast_paths.VOTE_ON_LOOP]


def test_a_private_member_gone_from_daphnes_request_turns_off_the_early_413_only(recheck, monkeypatch):
    from daphne.http_protocol import WebRequest

    for cls in WebRequest.__mro__:  # Twisted's, and ours if unconf.asgi patched it already
        if "handleContentChunk" in vars(cls):
            monkeypatch.delattr(cls, "handleContentChunk")

    off, lines = recheck()

    assert off == {fast_paths.EARLY_413}
    assert "has no handleContentChunk" in lines[fast_paths.EARLY_413]


def test_twisted_no_longer_setting_an_instance_attribute_is_seen_in_its_source(recheck, monkeypatch):
    real = fast_paths._module_source
    monkeypatch.setattr(
        fast_paths,
        "_module_source",
        lambda module: (
            real(module).replace("self._tempDataLen", "self._pending")
            if "twisted" in module
            else real(module)
        ),
    )

    off, lines = recheck()

    assert off == {fast_paths.WS_DIRECT_SEND, fast_paths.WS_BACKLOG_CLOSE}
    assert "no longer sets _tempDataLen" in lines[fast_paths.WS_BACKLOG_CLOSE]


def test_a_changed_django_handler_turns_off_the_pooled_handler_and_the_vote_inside_it(recheck, monkeypatch):
    monkeypatch.delattr(ASGIHandler, "read_body")

    off, lines = recheck()

    assert off == {fast_paths.POOLED_HANDLER, fast_paths.VOTE_ON_LOOP}
    assert "ASGIHandler.read_body" in lines[fast_paths.POOLED_HANDLER]
    assert "runs inside pooled_handler, which is off" in lines[fast_paths.VOTE_ON_LOOP]


class LaterMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


LATER = f"{__name__}.LaterMiddleware"


def test_a_middleware_added_later_and_classified_for_neither_turns_both_off(recheck, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, LATER]

    off, lines = recheck()

    assert off == {fast_paths.POOLED_HANDLER, fast_paths.VOTE_ON_LOOP}
    assert f"middleware not classified for it: {LATER}" in lines[fast_paths.POOLED_HANDLER]


def test_a_middleware_classified_for_the_pooled_handler_only_turns_off_the_vote_path(
    recheck, settings, monkeypatch
):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, LATER]
    monkeypatch.setitem(fast_paths.POOLED_HANDLER_MIDDLEWARE, LATER, (fast_paths.RUN_AS_IS, "sync"))

    off, lines = recheck()

    assert off == {fast_paths.VOTE_ON_LOOP}
    assert lines[fast_paths.VOTE_ON_LOOP] == (
        f"Fast path vote_on_loop off: middleware not classified for it: {LATER}. Instead: DRF's VoteView."
    )


def test_an_async_only_middleware_turns_the_pooled_handler_off(recheck, settings, monkeypatch):
    monkeypatch.setattr(LaterMiddleware, "sync_capable", False, raising=False)
    monkeypatch.setattr(LaterMiddleware, "async_capable", True, raising=False)
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, LATER]
    monkeypatch.setitem(fast_paths.POOLED_HANDLER_MIDDLEWARE, LATER, (fast_paths.RUN_AS_IS, "sync"))
    monkeypatch.setitem(fast_paths.VOTE_PATH_MIDDLEWARE, LATER, (fast_paths.NOT_NEEDED, "test"))

    off, lines = recheck()

    assert off == {fast_paths.POOLED_HANDLER, fast_paths.VOTE_ON_LOOP}
    assert f"async-only middleware: {LATER}" in lines[fast_paths.POOLED_HANDLER]


def test_a_check_that_raises_counts_as_failed(recheck, monkeypatch):
    replace_path(monkeypatch, fast_paths.AUTOBAHN_QUIET_CONNECT, check=lambda: 1 / 0)

    off, lines = recheck()

    assert off == {fast_paths.AUTOBAHN_QUIET_CONNECT}
    assert "its check failed: ZeroDivisionError" in lines[fast_paths.AUTOBAHN_QUIET_CONNECT]


def test_the_switch_turns_every_path_off_with_one_line(recheck, settings):
    settings.UNCONF_FAST_PATHS = False

    off, lines = recheck()

    assert off == ALL
    assert list(lines.values()) == [
        "All fast paths off (UNCONF_FAST_PATHS=0): the stock Django, Channels and Daphne paths serve"
    ]


def test_single_paths_can_be_listed_off(recheck, settings):
    settings.UNCONF_FAST_PATHS_OFF = [fast_paths.WS_DIRECT_SEND]

    off, lines = recheck()

    assert off == {fast_paths.WS_DIRECT_SEND}
    assert "listed in UNCONF_FAST_PATHS_OFF" in lines[fast_paths.WS_DIRECT_SEND]


# --- with a path off, its code takes the stock way ----------------------------------------------


def test_paths_off_leave_daphne_votes_and_sockets_to_the_stock_code(recheck, settings, monkeypatch):
    from daphne.http_protocol import WebRequest

    settings.UNCONF_FAST_PATHS = False
    recheck()
    monkeypatch.setattr(WebRequest, "_unconf_body_limit", False, raising=False)
    stock_got_length = WebRequest.gotLength
    vote = {"method": "PUT", "path": "/api/events/e/votes/1"}
    sent = []
    protocol = SimpleNamespace(
        state=1,
        STATE_OPEN=1,
        send_queue=[],
        transport=SimpleNamespace(pauseProducing=lambda: sent.append("paused")),
        sendPreparedMessage=sent.append,
        server=SimpleNamespace(ping_interval=20),
        last_ping=0,
    )

    assert body_limit.install() is False and WebRequest.gotLength is stock_got_length
    assert fast_path.may_answer(vote) is False
    assert wire.frames_on() is False
    wire.write(protocol, "frame")  # a caller that still writes: autobahn's public call
    assert sent == ["frame"]
    assert wire.unsent_bytes(protocol) is None
    wire.spread_keepalive(protocol)
    assert protocol.last_ping == 0
    for _ in range(200):
        wire.pace_input(protocol)
    assert "paused" not in sent


def test_with_paths_on_the_vote_path_takes_a_vote(recheck, settings):
    recheck()
    assert fast_path.may_answer({"method": "PUT", "path": "/api/events/e/votes/1"}) is True
