"""Refuse an over-large request body from its headers, before Daphne reads any of it.

Daphne hands a request to the application only once Twisted has received the whole body
(buffered in memory, or in a temporary file past 100 KB): a client announcing 200 MB was
waited for, and its body stored, before Django's 413. Twisted tells its request object the
announced length as soon as the headers are in (`Request.gotLength`, then every chunk through
`handleContentChunk`); this hook answers 413 right there and closes the connection:
- under /api/ past UNCONF_MAX_BODY_BYTES, with the contract's JSON body;
- anywhere else past DATA_UPLOAD_MAX_MEMORY_SIZE, which Django would refuse anyway.
A chunked body (no Content-Length) is cut off the same way once it passes the limit.

`gotLength` and `handleContentChunk` are Twisted's documented hooks of `http.Request`
("not intended for users", but stable for years); the request path is read from the channel's
private `_path`. So the hook is installed only while its fast path (unconf/fast_paths.py,
`early_413`: the versions it was checked against, those members) is on; otherwise Daphne is
left as it is and Django's middleware still answers 413, after the body.
"""

import io
import json

from django.conf import settings

from unconf import fast_paths
from voting.core.errors import PayloadTooLarge, error_body


def limit_for(path: bytes) -> int:
    if path.startswith(b"/api/"):
        return settings.UNCONF_MAX_BODY_BYTES
    return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, settings.UNCONF_MAX_BODY_BYTES)


def refusal(path: bytes) -> bytes:
    if path.startswith(b"/api/"):
        body = json.dumps(error_body(PayloadTooLarge.default_detail, PayloadTooLarge.code)).encode()
        content_type = b"application/json"
    else:
        body, content_type = b"Request body too large.", b"text/plain; charset=utf-8"
    return (
        b"HTTP/1.1 413 Payload Too Large\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: close\r\n\r\n" + body
    )


def install() -> bool:
    """Wrap Daphne's request class (once per process). False: left as it was."""
    from daphne.http_protocol import WebRequest

    if getattr(WebRequest, "_unconf_body_limit", False):
        return True
    if not fast_paths.on(fast_paths.EARLY_413):
        return False
    stock_got_length, stock_chunk, stock_process = (
        WebRequest.gotLength,
        WebRequest.handleContentChunk,
        WebRequest.process,
    )

    def refuse(request) -> None:
        request._unconf_refused = True
        channel = request.channel
        channel.transport.write(refusal(getattr(channel, "_path", b"")))
        channel.transport.loseConnection()

    def gotLength(self, length):
        self._unconf_limit = limit_for(getattr(self.channel, "_path", b"") or b"")
        self._unconf_received = 0
        if length is not None and length > self._unconf_limit:
            self.content = io.BytesIO()  # nothing is kept; Twisted still rewinds it at the end
            refuse(self)
            return
        stock_got_length(self, length)

    def handleContentChunk(self, data):
        if getattr(self, "_unconf_refused", False):
            return  # the answer is sent and the connection closing: drop the rest
        self._unconf_received = getattr(self, "_unconf_received", 0) + len(data)
        if self._unconf_received > getattr(self, "_unconf_limit", float("inf")):
            refuse(self)
            return
        stock_chunk(self, data)

    def process(self):
        if getattr(self, "_unconf_refused", False):
            return None  # answered already: the application never sees it
        return stock_process(self)

    WebRequest.gotLength = gotLength
    WebRequest.process = process
    WebRequest.handleContentChunk = handleContentChunk
    WebRequest._unconf_body_limit = True
    return True
