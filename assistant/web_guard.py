"""Guards around the web server (``peerqa serve``): throttled logins checked off the event loop,
routes the app does not use blocked, and nothing but the login form in the page a stranger sees.

Gradio awaits an ``async`` auth callable inside its ``/login`` route, so the scrypt check runs in
a small thread pool of its own (not gradio's, which also serves the cheap routes) while the event
loop goes on serving others. The client's address reaches the auth callable through a context
variable that :class:`GuardMiddleware` sets for each request (an ASGI middleware runs in the
same task as the route). ``uvicorn`` already replaces the address with ``X-Forwarded-For`` when a
reverse proxy on 127.0.0.1 sends it; otherwise a proxy's clients share the proxy's address.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import math
import re
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.exceptions import HTTPException

from assistant.throttle import LoginThrottle
from assistant.users import Users, check_password

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CLIENT_ADDRESS: contextvars.ContextVar[str] = contextvars.ContextVar("peerqa_client", default="?")
CHECK_THREADS = 2  # scrypt uses one core and 16 MB per check: two at a time on a 2-core machine
MAX_WAITING_CHECKS = 32  # beyond this many queued password checks, answer "busy" at once
# Routes of gradio's that this app never uses: file uploads (the app has no upload box), audio
# recording, media streams, run history (can connect to a remote bucket), the vibe editor.
BLOCKED = re.compile(r"^/gradio_api/(?:upload|upload_progress|process_recording|stream/|"
                     r"run-history/|runs|vibe-|undo-vibe-edit)")
_API_INFO = re.compile(rb"(window\.gradio_api_info\s*=\s*)(.*?)(;\s*</script>)", re.DOTALL)
_CONFIG = re.compile(rb"window\.gradio_config\s*=\s*(.*?);\s*</script>", re.DOTALL)
EMPTY_API_INFO = b'{"named_endpoints": {}, "unnamed_endpoints": {}}'


def _too_many(retry_after: float, reason: str) -> HTTPException:
    """HTTP 429 from inside gradio's login route (FastAPI answers it; no password was checked)."""
    seconds = max(1, math.ceil(retry_after))
    return HTTPException(429, f"{reason}; try again in {seconds} s.",
                         headers={"Retry-After": str(seconds)})


def throttled_auth(users: Users, throttle: LoginThrottle | None = None,
                   check: Callable[[Users, str, str], bool] = check_password
                   ) -> Callable[[str, str], Awaitable[bool]]:
    """The auth callable for ``launch(auth=...)``: throttled per name and per address, the
    password hash computed in a thread pool so other requests are served meanwhile."""
    throttle = LoginThrottle() if throttle is None else throttle  # an empty one is falsy (len 0)
    pool = ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="peerqa-login")
    waiting = 0  # only touched on the event loop's thread

    async def auth(name: str, password: str) -> bool:
        nonlocal waiting
        name, password = name or "", password or ""
        if waiting >= MAX_WAITING_CHECKS:  # many addresses at once: refuse rather than queue
            raise _too_many(1.0, "Too many sign-ins at once")
        # names are at most 64 characters: a longer one shares its prefix's count, and the
        # table's memory stays bounded whatever is posted
        keys = (f"user:{name[:64]}", f"addr:{CLIENT_ADDRESS.get()}")
        wait = throttle.begin(keys)
        if wait > 0:
            raise _too_many(wait, "Too many failed sign-ins")
        waiting += 1
        try:
            loop = asyncio.get_running_loop()
            ok = await loop.run_in_executor(pool, check, users, name, password)
        finally:
            waiting -= 1
        if ok:
            throttle.succeeded(keys)
        return ok

    return auth


class GuardMiddleware:
    """ASGI middleware: records the client's address, answers blocked routes with 404 and empties
    the API description in the login page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client = scope.get("client")
        CLIENT_ADDRESS.set(client[0] if client else "?")
        path = scope.get("path", "")
        if BLOCKED.match(path):
            return await _respond(send, 404, {"detail": "Not found"})
        if scope.get("method") == "GET":
            return await self.app(scope, receive, _LoginPageFilter(send))
        return await self.app(scope, receive, send)


async def _respond(send: Send, status: int, body: dict) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


class _LoginPageFilter:
    """Wraps ``send``: an HTML page whose embedded config says ``auth_required`` (the login page
    gradio shows a stranger) gets an empty API description instead of the app's, which would
    list every endpoint with the choices of its dropdowns (council names, document types)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if headers.get(b"content-type", b"").startswith(b"text/html"):
                self.start = message  # hold it until the whole page is seen
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            return await self._send_page(b"".join(self.chunks))
        await self.send(message)

    async def _send_page(self, page: bytes) -> None:
        assert self.start is not None
        page = strip_api_info(page)
        headers = [(k, v) for k, v in self.start.get("headers", []) if k != b"content-length"]
        headers.append((b"content-length", str(len(page)).encode()))
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": page})


def strip_api_info(page: bytes) -> bytes:
    """``page`` with an empty API description when its config says login is required."""
    config = _CONFIG.search(page)
    try:
        needs_login = bool(config and json.loads(config.group(1)).get("auth_required"))
    except ValueError:
        needs_login = True  # an unreadable config: assume the worst
    if not needs_login:
        return page
    return _API_INFO.sub(lambda m: m.group(1) + EMPTY_API_INFO + m.group(3), page)


def launch_options() -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` that install the guard and drop unused routes."""
    from starlette.middleware import Middleware

    return {"app_kwargs": {"middleware": [Middleware(GuardMiddleware)], "openapi_url": None},
            "run_history": False}
