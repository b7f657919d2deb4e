"""Slack, Teams and personal webhooks: JSON over HTTP POST, with the notification's id as
the idempotency key.

Personal webhooks are signed as Standard Webhooks asks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256>``) with a secret per person, derived from the
service's signing key, the person and their address (a new address is a new secret). Slack
and Teams take workflow webhooks that deliver privately to the user named in the payload.
Redirects are not followed (an address is what the person gave, nothing else).
"""

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from kamu_notifications.dispatch.outcomes import SENT, SendOutcome, failed, in_doubt, retry
from kamu_notifications.settings import NotificationsSettings

LABEL = b"kamu-notifications/webhook-secret"
TRANSIENT = {408, 425, 429}
# Failures before the request could reach the receiver: nothing was delivered.
NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
    httpx.LocalProtocolError,
)
PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, in any form the resolver accepts (``127.1``,
    ``0x7f.0.0.1``, ``[::1]``), or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global address, also when it is an IPv6 form of an IPv4 one (mapped, 6to4, Teredo,
    NAT64) that is not: those reach the IPv4 address on networks that route them."""
    if not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour]
        if address.teredo:
            embedded += list(address.teredo)
        if any(address in net for net in NAT64):
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        return all(v4.is_global for v4 in embedded if v4 is not None)
    return True


def public_host(hostname: str) -> bool:
    """Whether a webhook may be sent to this host without reaching inside the network: a
    global address, or a name that is not a local one (names are checked again, resolved,
    when sending: :func:`pinned`)."""
    host = hostname.rstrip(".").lower()
    address = _address(host)
    if address is not None:
        return is_public(address)
    return not (host == "localhost" or host.endswith(PRIVATE_SUFFIXES) or "." not in host)


@dataclass(frozen=True)
class Pinned:
    """A webhook address with its name resolved once and checked: the request goes to the
    checked address (Host header and TLS name kept), so a name re-pointed inside the network
    between the check and the connection (DNS rebinding) is not followed."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]


async def pinned(url: str) -> Pinned | SendOutcome:
    """The address to send to, or the outcome when there is none (a private address: failed;
    a name that does not resolve now: retry)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not public_host(host):
        return failed("webhook host is not public")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError:
        return failed("webhook host is not a valid name")
    except OSError:
        return retry("webhook host does not resolve")
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses or not all(is_public(a) for a in addresses):
        return failed("webhook host resolves to a private address")
    chosen = addresses[0]
    literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    headers = {"host": parts.netloc.rpartition("@")[2]}
    extensions: dict[str, Any] = {"sni_hostname": host} if parts.scheme == "https" else {}
    return Pinned(urlunsplit(parts._replace(netloc=netloc)), headers, extensions)


def signing_key(settings: NotificationsSettings) -> bytes | None:
    """The key personal webhook secrets derive from; None where none is configured (an
    RS256-only deployment without ``KAMU_WEBHOOK_SIGNING_SECRET``): no webhooks then."""
    if settings.webhook_signing_secret is not None:
        return settings.webhook_signing_secret.get_secret_value().encode()
    if settings.jwt_secret is not None:
        jwt = settings.jwt_secret.get_secret_value().encode()
        return hmac.new(jwt, LABEL, hashlib.sha256).digest()
    return None


def webhook_secret(settings: NotificationsSettings, person_id: str, url: str) -> str | None:
    """The person's secret for ``url``, as ``whsec_<base64>`` (Standard Webhooks' form)."""
    key = signing_key(settings)
    if key is None:
        return None
    mac = hmac.new(key, f"{person_id}\n{url}".encode(), hashlib.sha256)
    return "whsec_" + base64.b64encode(mac.digest()).decode()


def signed_headers(secret: str, message_id: str, body: str) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


async def post(
    client: httpx.AsyncClient,
    url: str,
    body: str,
    headers: dict[str, str],
    extensions: dict[str, Any] | None = None,
    before: Callable[[], Awaitable[None]] | None = None,
) -> SendOutcome:
    """POST the JSON ``body``; 2xx is sent, 408/425/429/5xx and failures to connect are
    transient; a request sent without an answer (it timed out, the connection dropped) is in
    doubt: the receiver may have it. ``before`` is awaited right before the request (the
    dispatcher's hand-over mark)."""
    if before is not None:
        await before()
    try:
        response = await client.post(
            url,
            content=body.encode(),
            headers={"content-type": "application/json", **headers},
            extensions=extensions or {},
        )
    except NOT_SENT as exc:
        timed_out = isinstance(exc, httpx.TimeoutException)
        return retry("timed out" if timed_out else f"unreachable: {type(exc).__name__}")
    except httpx.TimeoutException:
        return in_doubt("timed out")
    except httpx.HTTPError as exc:
        return in_doubt(f"no answer: {type(exc).__name__}")
    except (httpx.InvalidURL, ValueError) as exc:  # an address httpx cannot use: never will
        return failed(f"unusable address: {type(exc).__name__}")
    if 200 <= response.status_code < 300:
        return SENT
    if response.status_code in TRANSIENT or response.status_code >= 500:
        return retry(f"http {response.status_code}", _retry_after(response))
    return failed(f"http {response.status_code}")
