"""The web server of ``skal label --web``: a Starlette app over a :class:`LabelSession`.

Security: every request must carry the session's token -- the page's URL as ``?token=``,
the API calls in the ``X-Skal-Token`` header -- compared in constant time; every API call
is a POST (a GET is refused with 405), so another web site can neither read the pool nor
write labels; the page is one document with its CSS and JavaScript inline under a nonce,
and its Content-Security-Policy forbids loading anything else. No path from a request ever
reaches the file system: samples are rendered from the pool array.
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
MAX_BODY = 64 * 1024


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


async def _json_body(request: Request) -> dict:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise SessionError("request too large", 413)
    try:
        data = json.loads(body or b"{}")
    except ValueError:
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
    (['/', '/api/answer', '/api/hello'], ['POST'])
    """
    template = (_static("index.html").replace("/*CSS*/", _static("app.css"))
                .replace("/*JS*/", _static("app.js")))

    async def page(request: Request):
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(template.replace("NONCE", nonce), headers=_headers(nonce))

    return _with_api(Route("/", page, methods=["GET"]), session, token)


def _with_api(page_route, session, token: str) -> Starlette:
    def api(handler):
        async def endpoint(request: Request):
            try:
                data = await _json_body(request)
                result = await run_in_threadpool(handler, data)
            except SessionError as exc:
                return JSONResponse({"error": str(exc)}, status_code=exc.status,
                                    headers=_headers())
            return JSONResponse(result, headers=_headers())
        return Route(f"/api/{handler.__name__}", endpoint, methods=["POST"])

    def n(data):
        return data["n"] if isinstance(data.get("n"), int) else 1

    def hello(d):
        return session.hello()

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

    routes = [page_route] + [api(f) for f in (hello, next, answer, undo, sample, state, release)]
    app = Starlette(routes=routes)
    app.add_middleware(TokenGuard, token=token)
    return app
