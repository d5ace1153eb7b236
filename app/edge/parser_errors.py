"""Requests the HTTP parser refuses, answered by our edge rather than aiohttp's (issue 19).

aiohttp answers what its parser rejects (duplicate Content-Length, bad chunking, an over-long
header or line) before any middleware runs: `text/plain` echoing the offending bytes, its own
`Server` header with the Python and aiohttp versions, and an ERROR log line without detail.
Its RequestHandler builds that answer in `handle_error`; the subclass here builds a
problem+json 400 instead, with no byte of the input in it, counts it in
`http_parser_rejections_total{reason}` and logs it once, at warning, as a `request` event with
the reason. aiohttp's Server constructs `web_server.RequestHandler` by that name and offers no
option for another class, so `install()` points the name at the subclass (once per process).
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import http_exceptions, web, web_protocol, web_server
from aiohttp.web_request import BaseRequest
from prometheus_client import CollectorRegistry, Counter

from app.edge import problems
from app.edge.keys import REJECTED, REQUEST_ID

log = structlog.get_logger("app.request")

SERVER = "sales-api"  # no framework or Python versions to fingerprint
_COUNTER: web.AppKey[Counter] = web.AppKey("parser_rejections")
_REASONS: dict[type[BaseException], str] = {
    http_exceptions.LineTooLong: "line-too-long",
    http_exceptions.InvalidHeader: "invalid-header",
    http_exceptions.BadStatusLine: "bad-request-line",
    http_exceptions.BadHttpMethod: "bad-method",
    http_exceptions.TransferEncodingError: "bad-chunking",
    http_exceptions.ContentLengthError: "bad-content-length",
    http_exceptions.ContentEncodingError: "bad-content-encoding",
}


def reason_of(exc: BaseException | None) -> str:
    """A fixed slug for what the parser refused: never text from the request itself."""
    for cls in type(exc).__mro__:
        if cls in _REASONS:
            return _REASONS[cls]
    message = str(getattr(exc, "message", "")).lower()
    if "content-length" in message:
        return "bad-content-length"
    if "transfer-encoding" in message or "chunk" in message:
        return "bad-chunking"
    return "malformed"


def malformed(reason: str, request_id: str | None = None) -> web.Response:
    """The one answer to a request that is not HTTP we accept, whichever layer noticed."""
    response = problems.problem(
        400,
        "malformed-request",
        "Malformed request",
        "the request is not valid HTTP/1.1",
        request_id,
    )
    response[REJECTED] = reason
    response.headers["Server"] = SERVER
    return response


def body_rejected(request: web.Request, exc: BaseException) -> web.Response:
    """A body whose framing the parser refused after the handler started reading it (the
    headers had arrived on their own): the same answer, counted; the request event that
    follows is logged at warning with the reason (app/edge/middlewares.py)."""
    reason = reason_of(exc.__cause__ or exc)
    counter = request.app.get(_COUNTER)
    if counter is not None:
        counter.labels(reason).inc()
    response = malformed(reason, request.get(REQUEST_ID))
    response.force_close()  # what follows on this connection cannot be framed
    return response


class EdgeRequestHandler(web_protocol.RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status == 400 and isinstance(exc, http_exceptions.HttpProcessingError):
            if request.writer.output_size > 0:
                raise ConnectionError("an answer is already on its way")
            reason = reason_of(exc)
            counter = self._rejections()
            if counter is not None:
                counter.labels(reason).inc()
            # No middleware runs for this request: this is its one request event.
            log.warning(
                "request",
                status=400,
                problem="malformed-request",
                reason=reason,
                client=request.remote,
            )
            response = malformed(reason)
            response.force_close()
            return response
        answer = super().handle_error(request, status, exc, message)
        answer.headers["Server"] = SERVER
        return answer

    def data_received(self, data: bytes) -> None:
        queued = len(self._messages)
        super().data_received(data)
        request = self._current_request
        if request is None or len(self._messages) <= queued:
            return
        message, _ = self._messages[-1]
        if isinstance(message, web_protocol._ErrInfo) and not request.content.is_eof():
            # The parser refused the body of the request in progress (bad chunking after the
            # headers arrived alone): aiohttp queues the error as a next request and leaves
            # this one's reader waiting for data that cannot come, until the deadline. Hand
            # the error to that reader instead, so this request answers it, once, at once.
            self._messages.pop()
            error = web_protocol.RequestPayloadError("malformed body")
            error.__cause__ = message.exc
            request.content.set_exception(error)

    def _rejections(self) -> Counter | None:
        manager: Any = self._manager
        app = getattr(getattr(manager, "request_handler", None), "__self__", None)
        return app.get(_COUNTER) if isinstance(app, web.Application) else None


def install(app: web.Application, registry: CollectorRegistry) -> None:
    """Serve `app` through EdgeRequestHandler, counting rejections in `registry`."""
    web_server.RequestHandler = EdgeRequestHandler  # type: ignore[attr-defined]
    app[_COUNTER] = Counter(
        "http_parser_rejections",
        "Requests the HTTP parser refused (400), by reason",
        ["reason"],
        registry=registry,
    )  # the API app sets its own Server header (app/runtime/web_app.py)


def install_admin(admin: web.Application, api: web.Application) -> None:
    """The same for the admin port, counted with the API's rejections."""
    web_server.RequestHandler = EdgeRequestHandler  # type: ignore[attr-defined]
    admin[_COUNTER] = api[_COUNTER]
    admin.on_response_prepare.append(_server_header)


async def _server_header(_: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER
