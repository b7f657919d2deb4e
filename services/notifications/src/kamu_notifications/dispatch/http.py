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
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from kamu_notifications.dispatch.outcomes import SENT, SendOutcome, failed, retry
from kamu_notifications.settings import NotificationsSettings

LABEL = b"kamu-notifications/webhook-secret"
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


def public_host(hostname: str) -> bool:
    """Whether a webhook may be sent to this host without reaching inside the network: a
    global address, or a name that is not a local one (names are checked again, resolved,
    when sending: :func:`resolves_publicly`)."""
    host = hostname.rstrip(".").lower()
    address = _address(host)
    if address is not None:
        return address.is_global
    return not (host == "localhost" or host.endswith(PRIVATE_SUFFIXES) or "." not in host)


async def resolves_publicly(hostname: str, port: int) -> bool | None:
    """Whether every address the name resolves to now is global (None: it does not resolve).
    Checked right before sending, so a name re-pointed inside the network is refused."""
    if not public_host(hostname):
        return False
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except OSError:
        return None
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    return bool(addresses) and all(a.is_global for a in addresses)


TRANSIENT = {408, 425, 429}


def signing_key(settings: NotificationsSettings) -> bytes:
    if settings.webhook_signing_secret is not None:
        return settings.webhook_signing_secret.get_secret_value().encode()
    if settings.jwt_secret is not None:
        return hmac.new(
            settings.jwt_secret.get_secret_value().encode(), LABEL, hashlib.sha256
        ).digest()
    raise RuntimeError("set KAMU_WEBHOOK_SIGNING_SECRET (or KAMU_JWT_SECRET) to sign webhooks")


def webhook_secret(settings: NotificationsSettings, person_id: str, url: str) -> str:
    """The person's secret for ``url``, as ``whsec_<base64>`` (Standard Webhooks' form)."""
    mac = hmac.new(signing_key(settings), f"{person_id}\n{url}".encode(), hashlib.sha256)
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
    client: httpx.AsyncClient, url: str, body: str, headers: dict[str, str]
) -> SendOutcome:
    """POST the JSON ``body``; 2xx is sent, 408/425/429/5xx and network errors are transient."""
    try:
        response = await client.post(
            url, content=body.encode(), headers={"content-type": "application/json", **headers}
        )
    except httpx.TimeoutException:
        return retry("timed out")
    except httpx.HTTPError as exc:
        return retry(f"unreachable: {type(exc).__name__}")
    except (httpx.InvalidURL, ValueError) as exc:  # an address httpx cannot use: never will
        return failed(f"unusable address: {type(exc).__name__}")
    if 200 <= response.status_code < 300:
        return SENT
    if response.status_code in TRANSIENT or response.status_code >= 500:
        return retry(f"http {response.status_code}", _retry_after(response))
    return failed(f"http {response.status_code}")
