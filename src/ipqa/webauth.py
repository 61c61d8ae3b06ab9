"""Web authentication: users and password hashes (IPQA_AUTH_FILE), roles, throttled failed logins, and a gate
that answers every route but the login page's only to a visitor who has logged in.

Users file (IPQA_AUTH_FILE): one user a line, `name:role:hash`, where role is `admin` (ask, upload, remove,
re-ingest) or `reader` (ask only) and hash is what `ipqa hash-password` prints:
`scrypt$16384$8$1$<salt, base64>$<key, base64>` (hashlib.scrypt from the standard library). Blank lines and
lines starting with `#` are ignored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

ADMIN, READER = "admin", "reader"
ROLES = (ADMIN, READER)
_N, _R, _P = 2**14, 8, 1
READ_ONLY_MESSAGE = "Your account can ask questions but not change the index (read-only role)."


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The stored form of a password: scrypt with a random salt."""
    salt = salt or secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a `hash_password` string (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class User:
    """A web user: name, role, and either a password hash or (IPQA_AUTH) the password itself."""

    name: str
    role: str
    password_hash: str = ""
    password: str = ""

    def check(self, password: str) -> bool:
        """Whether this is the user's password."""
        if self.password_hash:
            return verify_password(password, self.password_hash)
        return hmac.compare_digest(password.encode(), self.password.encode())


def parse_users_file(path: Path) -> dict[str, User]:
    """Users of an IPQA_AUTH_FILE; a bad line is a `ConfigError` naming the file and the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read IPQA_AUTH_FILE {path} ({exc.strerror or exc}).") from None
    users: dict[str, User] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(":")
        role, _, stored = rest.partition(":")
        if not name or role not in ROLES or not stored.startswith("scrypt$") or stored.count("$") != 5:
            raise ConfigError(
                f"{path}, line {number}: expected `name:role:hash` with role admin or reader and a hash from `ipqa hash-password`."
            )
        if name in users:
            raise ConfigError(f"{path}, line {number}: user '{name}' is listed twice.")
        users[name] = User(name, role, password_hash=stored)
    if not users:
        raise ConfigError(f"IPQA_AUTH_FILE {path} lists no users — add lines made by `ipqa hash-password`.")
    return users


def load_users(auth: str | None, auth_file: Path | None) -> dict[str, User]:
    """Users from IPQA_AUTH (`user:password`, an admin) and IPQA_AUTH_FILE; empty when neither is set."""
    users = parse_users_file(auth_file) if auth_file else {}
    if auth:
        name, sep, password = auth.partition(":")
        if not sep or not name or not password:
            raise ConfigError("IPQA_AUTH must look like user:password (both non-empty).")
        users.setdefault(name, User(name, ADMIN, password=password))
    return users


class LoginThrottle:
    """Exponential back-off after failed logins, per client address and per user name.

    The first `free` failures cost nothing; then each further failure doubles the wait (1 s, 2 s, 4 s, ...
    up to `cap`). A success clears the client's and the user's count."""

    MAX_KEYS = 100_000

    def __init__(self, free: int = 3, base: float = 1.0, cap: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.base, self.cap, self.clock = free, base, cap, clock
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (failures, not before)
        self._lock = threading.Lock()

    def wait(self, client: str, user: str) -> float:
        """Seconds before this client may try this user again (0 when it may now)."""
        now = self.clock()
        with self._lock:
            return max(0.0, *(self._failures.get(k, (0, 0.0))[1] - now for k in self._keys(client, user)))

    def failed(self, client: str, user: str) -> None:
        """Record a failed login."""
        now = self.clock()
        with self._lock:
            if len(self._failures) > self.MAX_KEYS:  # names sprayed by an attacker must not grow memory for ever
                self._failures = {k: v for k, v in self._failures.items() if v[1] > now - self.cap}
            for key in self._keys(client, user):
                count = self._failures.get(key, (0, 0.0))[0] + 1
                delay = 0.0 if count <= self.free else min(self.cap, self.base * 2 ** (count - self.free - 1))
                self._failures[key] = (count, now + delay)

    def succeeded(self, client: str, user: str) -> None:
        """Forget the failures of this client and user."""
        with self._lock:
            for key in self._keys(client, user):
                self._failures.pop(key, None)

    @staticmethod
    def _keys(client: str, user: str) -> tuple[str, str]:
        return f"client:{client}", f"user:{user}"


# What a visitor who has not logged in may fetch: the login page, its assets, and the login itself; and
# startup-events, which Gradio's launch calls over HTTP before anyone logs in (it runs the startup once, then
# only answers false).
PUBLIC_PATHS = {"/", "/login", "/login/", "/logout", "/favicon.ico", "/theme.css", "/gradio_api/theme.css",
                "/gradio_api/login_check", "/gradio_api/login_check/", "/gradio_api/startup-events"}
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/")


class AuthGate:
    """ASGI middleware in front of the Gradio app when authentication is on.

    Gradio leaves some routes open without a login (e.g. heartbeat, cancel, reset); this gate refuses every
    route outside PUBLIC_PATHS to a visitor without a valid session, and throttles POST /login."""

    def __init__(self, app: Any, throttle: LoginThrottle) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope["type"] == "http" and scope.get("method") == "POST" and path in ("/login", "/login/"):
            await self._login(scope, receive, send)
        elif path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or self._user(scope) is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await _json(send, 401, {"detail": "Not authenticated — log in first."})

    @staticmethod
    def _user(scope: dict[str, Any]) -> str | None:
        from starlette.requests import HTTPConnection

        # Gradio keeps its sessions in its app's public `tokens` (cookie value -> user name).
        app = scope.get("app")
        cookies = HTTPConnection(scope).cookies
        cookie_id = getattr(app, "cookie_id", None)
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        return getattr(app, "tokens", {}).get(token) if token else None

    async def _login(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        from starlette.requests import Request

        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > 65536:
                await _json(send, 413, {"detail": "Login request too large."})
                return
            if not message.get("more_body"):
                break

        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:  # the body once more for the app, then whatever the client sends next (a disconnect)
                sent = False
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        sent = True
        form = await Request(scope, replay).form()
        sent = True
        user = str(form.get("username") or "").strip()
        client = (scope.get("client") or ("unknown",))[0]
        wait = self.throttle.wait(client, user)
        if wait > 0:
            await _json(send, 429, {"detail": f"Too many failed logins — try again in {wait:.0f} s."}, [(b"retry-after", str(int(wait) + 1).encode())])
            return
        status: list[int] = []

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, replay, watch)
        if status and status[0] == 200:
            self.throttle.succeeded(client, user)
        else:
            self.throttle.failed(client, user)


async def _json(send: Callable[..., Any], status: int, content: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})
