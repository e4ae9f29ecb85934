"""Django's ASGI handler, with each request's sync work done in ONE hop to a worker thread.

Stock `ASGIHandler` runs a sync middleware stack in async mode: every `MiddlewareMixin`
middleware hops to a thread for `process_request` and again for `process_response`, and the
thread is a new one per request (asgiref's ThreadSensitiveContext), with a new database
connection. With our 11 middleware that is ~20 thread hops per request; the load benchmark's
profile showed the event loop busy handing work to threads, 500+ threads alive during a vote
storm, and votes acked in seconds at 200/s.

Here the body is read on the event loop as before; then the request signals, the whole
middleware chain and the view run synchronously on one of a few long-lived request threads
(voting.core.workers), each keeping its database connection; the response is sent from the loop.
That is how a WSGI server with a thread pool serves Django, here behind Daphne. An
attendee's plain vote, the one request a full hall sends in hundreds per second, is answered
on the loop itself (voting/fast_path.py).

Left out on purpose: stock Django cancels an *async* view when the client disconnects. Every
view here is sync, and a running thread cannot be cancelled anyway.

It uses ASGIHandler's own members (read_body, create_request, send_response), so it is the
fast path `pooled_handler` of unconf/fast_paths.py: checked at startup against the Django it
was built for and the configured middleware; when off, unconf/asgi.py serves with the stock
ASGIHandler.
"""

from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix

from voting.core.workers import RequestLoad, in_request_worker
from voting.votes import fast_path


class PooledASGIHandler(ASGIHandler):
    def __init__(self):
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            RequestLoad.in_flight += 1
            try:
                response = None
                if fast_path.may_answer(scope):  # an attendee's vote, on this loop
                    response = await fast_path.answer(scope, body_file)
                    body_file.seek(0)
                if response is None:
                    response = await in_request_worker(self._respond)(scope, body_file)
            finally:
                RequestLoad.in_flight -= 1
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:  # the others were closed on the worker already
                    await in_request_worker(response.close)()  # sends request_finished
        finally:
            body_file.close()

    def _respond(self, scope, body_file):
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)  # response: a 400/413 refusal
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size  # Daphne does the low-level chunking
        if not response.streaming:
            # Its content is bytes by now: close it here (request_finished, the database
            # connection's upkeep) and spare a second trip to a worker after sending.
            response.close()
        return response
