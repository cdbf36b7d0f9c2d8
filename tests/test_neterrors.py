"""describe(): network failures from httpx, requests, aiohttp, ssl and socket, in words."""
from __future__ import annotations

import errno
import socket
import ssl

import pytest

from reader.neterrors import clean, describe


def chained(outer: Exception, inner: BaseException) -> Exception:
    outer.__cause__ = inner
    return outer


def wrong_version() -> ssl.SSLError:
    e = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
    e.reason = "WRONG_VERSION_NUMBER"
    return e


CASES = [
    ("refused-oserror", ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "connection refused"),
    ("refused-under-a-wrapper", chained(RuntimeError("[Errno 111] Connection refused"),
                                        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")),
     "connection refused"),
    ("gaierror", socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "name not resolved"),
    ("timeout", TimeoutError("timed out"), "timed out"),
    ("tls-wrong-version", chained(RuntimeError("ssl failure"), wrong_version()),
     "TLS handshake failed: the server does not speak TLS on this port"),
    ("tls-certificate", ssl.SSLCertVerificationError(1, "certificate verify failed"),
     "TLS handshake failed: the server's certificate is not trusted"),
    ("aiohttp-text", OSError("Cannot connect to host speech.platform.bing.com:443 ssl:<ssl.SSLContext object at "
                             "0x7f3a2b1c0d90> [Connection refused]"), "connection refused"),
    ("urllib3-text", RuntimeError("HTTPSConnectionPool(host='translate.google.com', port=443): Max retries exceeded "
                                  "(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at "
                                  "0x7f0e>: Failed to establish a new connection: [Errno -3] Temporary failure in "
                                  "name resolution'))"), "name not resolved"),
    ("reason-attribute", type("MaxRetryError", (Exception,), {})("pool"), "connection reset by the server"),
    ("unknown-is-cleaned", RuntimeError("<Thing object at 0xdeadbeef>: something odd (_ssl.c:99)"), "something odd"),
]
CASES[8][1].reason = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")


@pytest.mark.parametrize("err, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_describe(err, words):
    assert describe(err) == words


def test_clean_removes_reprs_errno_and_c_sources():
    assert clean("[Errno 5] oops <a.B object at 0x1f> there (_ssl.c:1006)") == "oops there"
