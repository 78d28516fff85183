"""Who may use the app: loopback by default, a login to serve further, failed logins throttled.

Failed logins are counted per user name and per client address, on failures only: the
REST API's HTTP Basic check (rest.py) and the chat's login form (LoginThrottleMiddleware,
around Gradio's POST /login) count them; a request that needs no login (a stylesheet, with
or without a header) neither counts nor resets anything. After `free` failures in `window`
seconds, a key waits a delay that doubles with each further failure (up to `max_delay`),
and even the right password is refused meanwhile (429). A good login clears its user's
count, never its address's: a sprayer who knows one password cannot reset the address.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger("ragcomm.service")


def is_loopback(host: str) -> bool:
    """Whether an address is this machine only: a loopback IP address, or `localhost`.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("[::1]")
    (True, True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("127.evil.example"), is_loopback("127.0.0.1.nip.io")
    (False, False, False)
    """
    host = (host or "").strip()
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # any other name may resolve anywhere


def credentials(auth_file: Path | None) -> list[tuple[str, str]]:
    """Logins from --auth-file or RAGCOMM_AUTH ('user:password', several separated by
    commas or lines); never from the repository."""
    text = os.environ.get("RAGCOMM_AUTH", "")
    if auth_file:
        try:
            text = Path(auth_file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"--auth-file {auth_file}: no such file") from None
        except IsADirectoryError:
            raise ValueError(f"--auth-file {auth_file} is a folder, not a file of logins") from None
        except UnicodeDecodeError:
            raise ValueError(f"--auth-file {auth_file} is not UTF-8 text") from None
        except OSError as exc:
            raise ValueError(f"--auth-file {auth_file}: {exc.strerror or exc}") from None
    pairs = []
    for item in text.replace(",", "\n").splitlines():
        item = item.strip()
        if not item or item.startswith("#"):
            continue
        user, sep, password = item.partition(":")
        if not sep or not user or len(password) < 8:
            raise ValueError("credentials must be 'user:password' with a password of at least 8 characters")
        pairs.append((user, password))
    return pairs


def check_access(host: str, auth: list, exposed_without_login: bool) -> None:
    """ValueError when asked to serve beyond this machine without a login."""
    if not is_loopback(host) and not auth and not exposed_without_login:
        raise ValueError(f"refusing to serve on {host} without a login: set RAGCOMM_AUTH='user:password' or "
                         "pass --auth-file FILE (or, knowingly, --exposed-without-login)")


class LoginThrottle:
    """Failed logins counted per key (a user name, a client address): after `free` failures
    within `window` seconds, the key is refused for a delay that doubles with each further
    failure, up to `max_delay`; `succeeded` clears a key. In-process, thread-safe.

    >>> t = LoginThrottle(free=2, window=60, max_delay=30, clock=lambda: 0.0)
    >>> for _ in range(3): t.failed("eve")
    >>> t.wait("eve"), t.wait("ann")
    (2.0, 0.0)
    """

    def __init__(self, free: int = 5, window: float = 900, max_delay: float = 300, clock=None):
        self.free, self.window, self.max_delay = free, window, max_delay
        self.clock = clock or time.monotonic
        self._failures: dict = {}  # key -> [times of recent failures]
        self._lock = threading.Lock()

    def wait(self, key) -> float:
        """Seconds before this key may try again (0: now)."""
        with self._lock:
            now = self.clock()
            times = [t for t in self._failures.get(key, []) if now - t < self.window]
            if times:
                self._failures[key] = times
            else:
                self._failures.pop(key, None)
            if len(times) <= self.free:
                return 0.0
            delay = min(self.max_delay, 2.0 ** (len(times) - self.free))
            return max(0.0, times[-1] + delay - now)

    def failed(self, key) -> None:
        with self._lock:
            self._failures.setdefault(key, []).append(self.clock())
            if len(self._failures) > 10_000:  # bounded memory under a spray of names
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key) -> None:
        with self._lock:
            self._failures.pop(key, None)


class Logins:
    """The app's logins and how they are checked: `check(user, password, address)` compares
    in constant time and counts failures per user and per address; `wait(user, address)`
    says how long a throttled caller must wait (the REST API answers 429 meanwhile).
    Called with (user, password) only (Gradio's login form), the address is counted by
    LoginThrottleMiddleware instead.

    >>> logins = Logins([("ann", "correct-horse")], LoginThrottle(free=1, clock=lambda: 0.0))
    >>> logins("ann", "wrong", "10.0.0.9"), logins("bob", "wrong", "10.0.0.9"), logins.wait("cy", "10.0.0.9") > 0
    (False, False, True)
    """

    def __init__(self, pairs: list[tuple[str, str]], throttle: LoginThrottle):
        self.accounts = dict(pairs)
        self.throttle = throttle

    def wait(self, user: str, address: str | None = None) -> float:
        keys = [("user", user)] + ([("address", address)] if address else [])
        return max(self.throttle.wait(key) for key in keys)

    def __call__(self, user: str, password: str, address: str | None = None) -> bool:
        wait = self.wait(user, address)
        if wait:
            log.warning("login for %r refused: too many failed attempts, %.0f s to wait", user[:64], wait)
            return False
        expected = self.accounts.get(user, "")
        ok = user in self.accounts and hmac.compare_digest(password.encode("utf-8"), expected.encode("utf-8"))
        if ok:
            self.throttle.succeeded(("user", user))
        else:
            self.throttle.failed(("user", user))
            if address:
                self.throttle.failed(("address", address))
            log.warning("failed login for %r from %s", user[:64], address or "the login form")
        return ok


def login_checker(pairs: list[tuple[str, str]], throttle: LoginThrottle) -> Logins:
    """`check(user, password[, address]) -> bool` for a login form and the REST API."""
    return Logins(pairs, throttle)


class LoginThrottleMiddleware:
    """Per client address, for the chat's login form (Gradio's POST /login, which hears no
    address): refused with 429 while the address waits, a failure counted when the form
    refuses the login. Nothing else is counted here, and nothing is ever reset: the REST
    API counts its own HTTP Basic logins with their address (`Logins`)."""

    def __init__(self, app, throttle: LoginThrottle):
        self.app, self.throttle = app, throttle

    @staticmethod
    def is_login_form(scope) -> bool:
        return scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/login")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.is_login_form(scope):
            return await self.app(scope, receive, send)
        key = ("address", (scope.get("client") or ("?",))[0])
        wait = self.throttle.wait(key)
        if wait:
            log.warning("login from %s refused: too many failed attempts, %.0f s to wait", key[1], wait)
            await send_429(send, wait)
            return
        status = {}

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, receive, send_and_note)
        if status.get("code") in (400, 401, 403):
            self.throttle.failed(key)


async def send_429(send, wait: float) -> None:
    body = f"Too many failed logins: try again in {wait:.0f} s.".encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"%d" % max(1, wait))]})
    await send({"type": "http.response.body", "body": body})
