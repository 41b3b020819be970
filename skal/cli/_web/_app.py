"""The web server of ``skal label --web``: a Starlette app over a :class:`LabelSession`.

Security: every request -- the page, the API, the team view (``/api/stats``) and the
export (``/api/export``) alike -- must carry the session's token -- the page's URL as ``?token=``,
the API calls in the ``X-Skal-Token`` header -- compared in constant time; every API call
is a POST (a GET is refused with 405), so another web site can neither read the pool nor
write labels; the page is one document with its CSS and JavaScript inline under a nonce,
and its Content-Security-Policy forbids loading anything else. No path from a request ever
reaches the file system: samples are rendered from the pool array.

Bounded reads: a request body is read as it streams in and refused (413) as soon as it
passes ``MAX_BODY`` bytes -- at once when its ``Content-Length`` says so -- so a huge POST
never sits in memory; JSON nested deeper than ``MAX_DEPTH`` is refused (400) before it is
parsed. The API's bodies are flat objects.
"""

from __future__ import annotations

import hmac
import json
import secrets
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from skal.cli._web._session import SessionError

__all__ = ["create_app"]

TOKEN_HEADER = "x-skal-token"
#: Largest request body read, in bytes; the page's requests are a few hundred.
MAX_BODY = 64 * 1024
#: Deepest nesting of arrays and objects in a request body; the page's requests have 1.
MAX_DEPTH = 8


def _static(name: str) -> str:
    return resources.files("skal.cli._web").joinpath("static", name).read_text("utf-8")


def _headers(nonce: str | None = None) -> dict:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src {script}; style-src {script}; img-src data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
    }


class TokenGuard:
    """ASGI middleware: refuse (403) any request without the session's token.

    The token is read from the ``token`` query parameter for ``GET /`` (the page) and from
    the ``X-Skal-Token`` header for everything else.

    Examples
    --------
    >>> guard = TokenGuard(app=None, token="s3cret")
    >>> guard.allowed({"path": "/", "query_string": b"token=s3cret", "headers": []})
    True
    >>> guard.allowed({"path": "/api/next", "query_string": b"token=s3cret", "headers": []})
    False
    """

    def __init__(self, app, token: str) -> None:
        self.app, self.token = app, token.encode()

    def allowed(self, scope) -> bool:
        given = b""
        if scope["path"] == "/":
            from urllib.parse import parse_qs

            given = (parse_qs(scope["query_string"].decode("latin-1")).get("token") or [""])[0]
            given = given.encode()
        else:
            for key, value in scope["headers"]:
                if key.lower() == TOKEN_HEADER.encode():
                    given = value
        return hmac.compare_digest(given, self.token)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and not self.allowed(scope):
            response = Response("forbidden: open the URL printed by skal label --web "
                                "(it carries the token)\n", status_code=403,
                                media_type="text/plain", headers=_headers())
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _too_large() -> SessionError:
    return SessionError(f"request too large: a body is at most {MAX_BODY} bytes", 413)


async def _read_body(request: Request) -> bytes:
    """The request's body, read as it arrives and refused once past ``MAX_BODY``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise SessionError("bad Content-Length header")
        if int(declared) > MAX_BODY:
            raise _too_large()  # before a byte of the body is read
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _too_large()
    return bytes(body)


def json_depth(body: bytes, limit: int) -> int:
    """The nesting depth of the JSON text ``body``, counted up to ``limit + 1``.

    Brackets inside strings do not count. The text need not be valid JSON: its parser
    decides that afterwards, knowing that the nesting is bounded.

    Examples
    --------
    >>> json_depth(b'{"a": [1, {"b": "[[["}]}', 8), json_depth(b"[" * 100, 8)
    (3, 9)
    """
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


async def _json_body(request: Request) -> dict:
    body = await _read_body(request)
    if json_depth(body, MAX_DEPTH) > MAX_DEPTH:
        raise SessionError(f"the body is JSON nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise SessionError("the body must be JSON") from None
    if not isinstance(data, dict):
        raise SessionError("the body must be a JSON object")
    return data


def create_app(session, token: str) -> Starlette:
    """The Starlette app of a labeling session, guarded by ``token``.

    Parameters
    ----------
    session : LabelSession
        What the API calls drive.
    token : str
        The secret every request must carry.

    Returns
    -------
    app : starlette.applications.Starlette

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier, Campaign
    >>> from skal.cli._web._render import choose_display
    >>> from skal.cli._web._session import LabelSession
    >>> X = np.random.default_rng(0).random((30, 16))
    >>> learner = ActiveLearningClassifier(LogisticRegression(), n_instances=4, initial_size=4)
    >>> session = LabelSession(Campaign(learner, X), choose_display(16), [0, 1])
    >>> app = create_app(session, "s3cret")
    >>> sorted(r.path for r in app.routes)[:3], sorted(app.routes[1].methods)
    (['/', '/api/adjudicate', '/api/annotator'], ['POST'])
    """
    template = (_static("index.html").replace("/*CSS*/", _static("app.css"))
                .replace("/*JS*/", _static("app.js")))

    async def page(request: Request):
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(template.replace("NONCE", nonce), headers=_headers(nonce))

    return _with_api(Route("/", page, methods=["GET"]), session, token)


def _export_route(session) -> Route:
    """``POST /api/export`` ``{"format": "csv"|"json"|"parquet"}``: the journal's answers as
    ``skal export`` writes them, as a download."""
    from skal.cli._export import MEDIA_TYPES

    async def export(request: Request):
        try:
            data = await _json_body(request)
            fmt = data.get("format", "csv")
            body = await run_in_threadpool(session.export, fmt)
        except SessionError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=_headers())
        headers = {**_headers(), "Content-Disposition": f'attachment; filename="labels.{fmt}"'}
        return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)

    return Route("/api/export", export, methods=["POST"])


def _with_api(page_route, session, token: str) -> Starlette:
    def api(handler):
        async def endpoint(request: Request):
            try:
                data = await _json_body(request)
                result = await run_in_threadpool(handler, data)
            except SessionError as exc:
                headers = _headers()
                if exc.status == 413:  # the rest of the body is not read: no next request
                    headers["Connection"] = "close"
                return JSONResponse({"error": str(exc)}, status_code=exc.status,
                                    headers=headers)
            return JSONResponse(result, headers=_headers())
        return Route(f"/api/{handler.__name__}", endpoint, methods=["POST"])

    def n(data):
        return data["n"] if isinstance(data.get("n"), int) else 1

    def hello(d):
        return session.hello(d.get("annotator"))

    def annotator(d):
        return session.rename(d.get("client"), d.get("annotator"))

    def stats(d):
        return session.stats()

    def adjudicate(d):
        return session.adjudicate(d.get("client"), d.get("index"), d.get("label"))

    def finish(d):
        return session.finish(d.get("client"))

    def next(d):  # noqa: A001
        return {"samples": session.next_samples(d.get("client"), n(d)), "state": session.state()}

    def answer(d):
        return session.answer(d.get("client"), d.get("index"), d.get("label"))

    def undo(d):
        return session.undo(d.get("client"), d.get("index"))

    def sample(d):
        return {"sample": session.sample(d.get("client"), d.get("index"))}

    def state(d):
        return session.state()

    def release(d):
        session.release(d.get("client"))
        return {}

    handlers = (hello, next, answer, undo, sample, state, release, annotator, stats,
                adjudicate, finish)
    routes = [page_route, _export_route(session)] + [api(f) for f in handlers]
    app = Starlette(routes=routes)
    app.add_middleware(TokenGuard, token=token)
    return app
