"""Fetching for strangers: refuse addresses inside this machine or its networks (SSRF guard).

    blocked_reason(ip)               "loopback", "private network", "cloud metadata", … or None
    check_host(host, port, resolver) resolve, check every address, return them (BlockedAddressError)
    GuardedTransport(resolver=...)   an httpx transport that checks every request it sends

The reading form of ``vnreader serve`` fetches whatever URL a visitor types. Without a guard a
visitor could make the server read its own admin pages, a router's, or the cloud metadata
service (169.254.169.254, fd00:ec2::254) and hear them read aloud. So every address a host
name resolves to must be public: loopback, private (RFC 1918, ULA fc00::/7), link-local,
CGNAT (100.64.0.0/10), multicast, unspecified, reserved and other non-global ranges are
refused, IPv4-mapped IPv6 addresses by their IPv4 address.

The check is made after DNS resolution and the connection goes to the checked address (the
URL's host is replaced by it; ``Host`` and the TLS server name stay the original name), so a
name that resolves to a public address for the check and a private one for the connection
(DNS rebinding) gains nothing. The transport sees every redirect hop, so a public page that
redirects to a private address is refused the same way.
"""
from __future__ import annotations

import ipaddress
import socket
from typing import Any, Callable

import httpx

from reader.errors import BlockedAddressError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: cloud metadata services (AWS, GCP, Azure, OpenStack on IPv4; AWS on IPv6): named apart in messages
METADATA = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"))
CGNAT = ipaddress.ip_network("100.64.0.0/10")
#: (test, reason), first match names the refusal
RULES: tuple[tuple[Callable[[IPAddress], bool], str], ...] = (
    (lambda ip: ip in METADATA, "cloud metadata"),
    (lambda ip: ip.is_unspecified, "unspecified"),
    (lambda ip: ip.is_loopback, "loopback"),
    (lambda ip: ip.is_link_local, "link-local"),
    (lambda ip: ip.version == 4 and ip in CGNAT, "carrier-grade NAT"),
    (lambda ip: ip.is_multicast, "multicast"),
    (lambda ip: ip.is_private, "private network"),
    (lambda ip: ip.is_reserved, "reserved"),
    (lambda ip: not ip.is_global, "not a public address"),
)

Resolver = Callable[..., list[Any]]  #: socket.getaddrinfo's signature and answer


def blocked_reason(ip: IPAddress | str) -> str | None:
    """Why the server must not connect to ``ip`` ("loopback", "private network", …), None if public."""
    ip = ipaddress.ip_address(ip)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, reason in RULES:
        if test(ip):
            return reason
    return None


def resolve(host: str, port: int, resolver: Resolver = socket.getaddrinfo) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal is itself), in the resolver's order."""
    try:
        return [ipaddress.ip_address(host.strip("[]").split("%")[0])]
    except ValueError:
        pass
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as e:
        raise BlockedAddressError(host, "name not resolved", reason="unresolved") from e
    out: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in out:
            out.append(ip)
    if not out:
        raise BlockedAddressError(host, "name not resolved", reason="unresolved")
    return out


def check_host(host: str, port: int, resolver: Resolver = socket.getaddrinfo) -> list[IPAddress]:
    """The addresses of ``host``, all public; else BlockedAddressError naming the first refused one."""
    addresses = resolve(host, port, resolver)
    for ip in addresses:
        reason = blocked_reason(ip)
        if reason is not None:
            raise BlockedAddressError(host, f"{ip} is a {reason} address", reason=reason)
    return addresses


def check_url(url: str, resolver: Resolver = socket.getaddrinfo) -> list[IPAddress]:
    """``check_host`` for a URL's host and port."""
    u = httpx.URL(url)
    return check_host(u.host, u.port or (443 if u.scheme == "https" else 80), resolver)


class GuardedTransport(httpx.BaseTransport):
    """Checks every request's host (redirect hops included) and connects to the checked address.

    ``inner`` is the transport that really sends (an ``httpx.HTTPTransport`` by default; tests
    pass ``httpx.MockTransport``); ``resolver`` has ``socket.getaddrinfo``'s signature.
    """

    def __init__(self, *, resolver: Resolver = socket.getaddrinfo, inner: httpx.BaseTransport | None = None):
        self.resolver = resolver
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise BlockedAddressError(str(url), "only http:// and https:// URLs are fetched", reason="scheme")
        ip = check_host(url.host, url.port or (443 if url.scheme == "https" else 80), self.resolver)[0]
        extensions = dict(request.extensions)
        if url.scheme == "https":
            extensions["sni_hostname"] = url.host
        pinned = httpx.Request(request.method, url.copy_with(host=str(ip)), headers=request.headers,
                               stream=request.stream, extensions=extensions)
        return self.inner.handle_request(pinned)

    def close(self) -> None:
        self.inner.close()
