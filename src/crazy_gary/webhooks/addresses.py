"""SSRF guard: a webhook URL must resolve to public addresses only (unless the operator
allows private networks), checked when it is saved and again before every attempt; the
attempt connects to the address that was checked, so a DNS answer cannot change in between.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_SECONDS = 5.0

# Cloud metadata services that sit outside the private ranges.
METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("100.100.100.200"),
    ipaddress.ip_address("fd00:ec2::254"),
})


class UnsafeURL(ValueError):
    """The URL is not one a webhook may call; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def parse(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an http(s) URL without credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("the URL must start with http:// or https://")
    if not parts.hostname:
        raise UnsafeURL("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeURL("the URL must not carry credentials")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def is_public(address: IPAddress) -> bool:
    """Not loopback, private, link-local, reserved, multicast or a metadata service."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return not (address in METADATA_ADDRESSES or address.is_loopback or address.is_private
                or address.is_link_local or address.is_reserved or address.is_multicast
                or address.is_unspecified or not address.is_global)


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise UnsafeURL(f"the host {host!r} did not resolve within {RESOLVE_SECONDS:g}s") from None
    except (OSError, UnicodeError, ValueError) as exc:  # gaierror, an invalid IDNA label
        raise UnsafeURL(f"the host {host!r} does not resolve ({exc})") from None
    # An IPv6 scope id ("fe80::1%eth0") is not part of the address.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check(url: str, *, allow_private: bool) -> Target:
    """The URL's target if every address it resolves to may be called; else UnsafeURL."""
    scheme, host, port = parse(url)
    addresses = await resolve(host, port)
    if not addresses:
        raise UnsafeURL(f"the host {host!r} does not resolve")
    if not allow_private:
        refused = [str(a) for a in addresses if not is_public(a)]
        if refused:
            raise UnsafeURL(f"the host {host!r} resolves to a private, loopback, link-local "
                            f"or metadata address ({', '.join(refused)})")
    return Target(url=url, scheme=scheme, host=host, port=port, address=str(addresses[0]))
