"""Email addresses as HR data holds them: a non-ASCII local part (``mia.järvinen@...``) is sent
with SMTPUTF8; a server that cannot take it fails the delivery once, instead of retrying."""

import asyncio

import pytest
from aiosmtpd.controller import Controller

from kamu_notifications.content.render import Rendered
from kamu_notifications.dispatch import email
from kamu_notifications.domain import inbound
from kamu_notifications.settings import NotificationsSettings
from kamu_shared.testing.receivers import free_port
from kamu_shared.testing.waiting import eventually

ADDRESS = "mia.järvinen@example.org"
RENDERED = Rendered(subject="Hello", body="text", html="<p>text</p>", link=None)

pytestmark = pytest.mark.regression  # the demo's Finnish names failed before sending


async def test_an_address_with_a_non_ascii_local_part_gets_its_email(service):
    kamu = await service.person(display_name="Mia Järvinen", email=ADDRESS)
    await service.pairing_event(inbound.PairingRequested, await service.person(), kamu)

    async def arrived():
        return service.smtp.to(ADDRESS)

    (message,) = await eventually(arrived)

    async def recorded():  # the outcome is recorded a moment after the server took it
        sent = await service.events("notification-sent")
        return [e for e in sent if e["recipient_id"] == kamu and e["channel"] == "email"]

    assert message["To"].addresses[0].display_name == "Mia Järvinen"
    assert len(await eventually(recorded)) == 1


class _Accepts:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


async def test_a_server_without_smtputf8_fails_the_delivery_for_good():
    port = free_port()
    server = Controller(_Accepts(), hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    await asyncio.to_thread(server.start)
    try:
        settings = NotificationsSettings(smtp_host="127.0.0.1", smtp_port=port)
        message = email.build(settings, ("Mia", ADDRESS), RENDERED, "n-1", None)

        outcome = await email.send(settings, message)
    finally:
        await asyncio.to_thread(server.stop)

    assert outcome.result == "failed"
    assert "SMTPUTF8" in (outcome.detail or "")


def test_an_ascii_address_is_written_the_ascii_way_with_an_encoded_name():
    message = email.build(
        NotificationsSettings(), ("Mia Järvinen", "mia@example.org"), RENDERED, "n-2", None
    )

    assert message["To"] == "Mia Järvinen <mia@example.org>"
    assert b"=?utf-8?q?J=C3=A4rvinen?=" in message.as_bytes()
