"""Network failures in words: an httpx / requests / aiohttp / ssl / socket exception → a short reason.

    describe(e)     "connection refused", "name not resolved", "TLS handshake failed: …", "timed out", …

Library exception text carries object reprs and codes a listener cannot act on
(``ssl:<ssl.SSLContext object at 0x7f…>``, ``<urllib3.connection.HTTPSConnection object at
0x…>``, ``[Errno 111]``, ``(_ssl.c:1006)``). ``describe`` looks for the operating-system or
TLS error underneath (through ``__cause__``, ``__context__``, ``.reason``, ``.os_error`` and
exception ``args``) and names it; failing that it matches well-known phrases, and as a last
resort returns the text with object reprs and C source locations removed. Callers put the
result into a ``FetchError`` or ``EngineError`` detail.
"""
from __future__ import annotations

import errno
import re
import socket
import ssl

_OBJECT_REPR = re.compile(r"\s*(?:ssl:)?<[^<>]*\bobject at 0x[0-9a-fA-F]+>:?\s*")
_C_SOURCE = re.compile(r"\s*\(_\w+\.c:\d+\)")
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")

#: (phrase in lower-cased exception text, reason), first match wins
PHRASES = (
    ("certificate verify failed", "TLS handshake failed: the server's certificate is not trusted"),
    ("wrong version number", "TLS handshake failed: the server does not speak TLS on this port"),
    ("ssl", "TLS handshake failed"),
    ("tls", "TLS handshake failed"),
    ("connection refused", "connection refused"),
    ("name or service not known", "name not resolved"),
    ("nodename nor servname", "name not resolved"),
    ("temporary failure in name resolution", "name not resolved"),
    ("getaddrinfo failed", "name not resolved"),
    ("no address associated", "name not resolved"),
    ("timed out", "timed out"),
    ("connection reset", "connection reset by the server"),
    ("network is unreachable", "network unreachable"),
    ("no route to host", "no route to host"),
    ("server disconnected", "the server closed the connection without an answer"),
    ("remotedisconnected", "the server closed the connection without an answer"),
    ("without sending a response", "the server closed the connection without an answer"),
)

_ERRNOS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by the server",
    errno.ETIMEDOUT: "timed out",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "no route to host",
    errno.ECONNABORTED: "the connection was aborted",
}


def _chain(e: BaseException) -> list[BaseException]:
    """``e`` and every exception reachable under it, outermost first, each once."""
    seen: list[BaseException] = []
    todo: list[object] = [e]
    while todo:
        x = todo.pop(0)
        if not isinstance(x, BaseException) or any(x is s for s in seen):
            continue
        seen.append(x)
        todo += [x.__cause__, x.__context__, getattr(x, "reason", None), getattr(x, "os_error", None),
                 getattr(x, "certificate_error", None)]
        todo += [a for a in getattr(x, "args", ()) if isinstance(a, BaseException)]
        todo = [t for t in todo if isinstance(t, BaseException)]
    return seen


def _from_type(x: BaseException) -> str | None:
    if isinstance(x, ssl.SSLCertVerificationError):
        why = getattr(x, "verify_message", None)
        return "TLS handshake failed: the server's certificate is not trusted" + (f" ({why})" if why else "")
    if isinstance(x, ssl.SSLError):
        reason = getattr(x, "reason", None)
        if reason == "WRONG_VERSION_NUMBER":
            return "TLS handshake failed: the server does not speak TLS on this port"
        return "TLS handshake failed" + (f" ({reason.replace('_', ' ').lower()})" if isinstance(reason, str) else "")
    if isinstance(x, socket.gaierror):
        return "name not resolved"
    if isinstance(x, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(x, ConnectionRefusedError):
        return "connection refused"
    if isinstance(x, OSError) and x.errno in _ERRNOS:
        return _ERRNOS[x.errno]
    return None


def describe(e: BaseException) -> str:
    """A short reason for a network failure, free of object reprs (see the module docstring)."""
    chain = _chain(e)
    for x in chain:
        found = _from_type(x)
        if found:
            return found
    for x in chain:
        text = clean(str(x)).lower()
        for phrase, reason in PHRASES:
            if phrase in text:
                return reason
    return clean(str(e)) or type(e).__name__


def clean(text: str) -> str:
    """``text`` without object reprs, ``[Errno N]`` prefixes and C source locations."""
    text = _OBJECT_REPR.sub(" ", text)
    text = _C_SOURCE.sub("", _ERRNO.sub("", text))
    return " ".join(text.split()).strip(" :")
