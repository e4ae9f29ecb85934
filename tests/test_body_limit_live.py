"""The body limit at the front of a real Daphne: 413 from the headers, before any body is read."""

import json
import socket
import time

import pytest

from tests.live import DaphneServer

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def daphne(django_db_setup, django_db_blocker):
    with DaphneServer() as server:
        yield server


def send_headers_only(server: DaphneServer, head: str, timeout: float = 3) -> tuple[bytes, float]:
    """Send a request's headers and no body; what comes back before `timeout`, and how soon."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(head.encode())
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass
        return received, time.monotonic() - started


def parse(response: bytes) -> tuple[int, dict]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body.startswith(b"{") else body.decode()


def test_a_200_mb_content_length_gets_413_before_any_body_is_sent(daphne, event):
    head = (
        f"POST /api/events/{event.slug}/proposals HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 209715200\r\n\r\n"
    )

    response, seconds = send_headers_only(daphne, head)

    assert parse(response) == (413, {"detail": "The request body is too large.", "code": "payload_too_large"})
    assert seconds < 2  # answered at once and closed, not after a wait for the body


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(daphne, event):
    chunk = b"x" * 16384
    with socket.create_connection(("127.0.0.1", daphne.port), timeout=3) as sock:
        sock.sendall(
            f"POST /api/events/{event.slug}/proposals HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            for _ in range(64):  # 1 MiB, far past the 64 KiB limit, and never the closing chunk
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = sock.recv(65536)

    # Answered although the body never ended: the server stopped reading at the limit.
    assert parse(response)[0] == 413


def test_a_page_upload_past_djangos_own_limit_is_refused_early_too_and_small_bodies_pass(daphne, event):
    huge = "POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 209715200\r\n\r\n"
    body = json.dumps({"code": "WRONG1"})
    small = (
        f"POST /api/events/{event.slug}/join HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}"
    )

    refused, _ = send_headers_only(daphne, huge)
    answered, _ = send_headers_only(daphne, small)

    assert parse(refused) == (413, "Request body too large.")
    assert parse(answered)[0] == 403  # a normal request, read and answered by Django
