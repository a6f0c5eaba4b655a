"""Fetching a URL safely: public addresses only (checked after DNS and at every redirect), with limits."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlparse

from ingest.documents import IngestError
from kvisa.settings import Settings

MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class Fetched:
    """A downloaded body with what the server said about it."""

    url: str  # after redirects
    data: bytes
    content_type: str
    charset: str  # as declared in the Content-Type header; "" when none


def not_public(address: str) -> str:
    """Why an IP address is not a public one ("loopback", "private" ...), or "" when it is."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:  # ::ffff:127.0.0.1 is 127.0.0.1
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "private", "reserved", "unspecified"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:  # shared address space (100.64/10), documentation ranges and the like
        return "non-public"
    return ""


def check_host(url: str, allow_private: bool) -> None:
    """Refuse a URL whose host resolves to any address that is not public (cloud metadata at
    169.254.169.254 is link-local), unless private addresses are allowed."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise IngestError(f"{url}: not an http(s) URL")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise IngestError(f"{url}: unreachable (the host name does not resolve)") from exc
    for *_, sockaddr in infos:
        why = not_public(sockaddr[0])
        if why:
            raise IngestError(f"{url}: refused, {parsed.hostname} is a {why} address ({sockaddr[0]}); "
                              "set KVISA_ALLOW_PRIVATE_URLS=true to fetch from your own network")


def fetch(url: str, settings: Settings) -> Fetched:
    """GET the URL, following at most MAX_REDIRECTS redirects, each target checked like the first. The time
    limit covers the whole download: a server that drips bytes forever is stopped too."""
    import httpx

    deadline = time.monotonic() + settings.url_timeout_s
    try:
        with httpx.Client(timeout=settings.url_timeout_s, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                check_host(url, settings.allow_private_urls)
                with client.stream("GET", url, headers={"User-Agent": "kvisa-ingest/0.1"}) as response:
                    if response.status_code in _REDIRECTS and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    return _read(url, response, settings, deadline)
    except httpx.TimeoutException as exc:
        raise IngestError(f"{url}: timed out after {settings.url_timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise IngestError(f"{url}: unreachable ({type(exc).__name__})") from exc
    raise IngestError(f"{url}: more than {MAX_REDIRECTS} redirects")


def _read(url: str, response, settings: Settings, deadline: float) -> Fetched:
    if response.status_code >= 400:
        raise IngestError(f"{url}: server answered HTTP {response.status_code}")
    header = response.headers.get("content-type", "")
    content_type = header.split(";")[0].strip().lower()
    charset = next((p.split("=", 1)[1].strip(" \"'").lower() for p in header.split(";")[1:]
                    if p.strip().lower().startswith("charset=")), "")
    declared = int(response.headers.get("content-length") or 0)
    if declared > settings.max_bytes:
        raise too_large(url, declared, settings)
    parts, total = [], 0
    for part in response.iter_bytes():
        total += len(part)
        if total > settings.max_bytes:
            raise too_large(url, total, settings)
        if time.monotonic() > deadline:
            raise IngestError(f"{url}: timed out after {settings.url_timeout_s:g} s")
        parts.append(part)
    return Fetched(url, b"".join(parts), content_type, charset)


def too_large(name: str, size: int, settings: Settings) -> IngestError:
    return IngestError(f"{name}: {size / 2**20:.1f} MiB, over the {settings.max_file_mb:g} MiB limit")
