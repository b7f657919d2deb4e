"""A first pass through the service: a pairing request reaches the Kamu on every channel."""

from kamu_notifications.domain import inbound


async def test_a_request_reaches_the_kamu_by_email_slack_teams_webhook_and_inbox(service):
    kamu = await service.person(slack_user_id="U1", teams_user_id="T1")
    colleague = await service.person(display_name="Aino Virtanen")
    async with service.as_(kamu) as client:
        put = await client.put(
            f"/people/{kamu}/preferences",
            json={"webhook_url": f"{service.receiver.url}/hook/{kamu}"},
        )
        assert put.status_code == 200, put.text
    await service.pairing_event(inbound.PairingRequested, colleague, kamu)
    rows = await service.settled(5, kamu)
    assert {r["channel"]: r["status"] for r in rows} == {
        "email": "sent",
        "slack": "sent",
        "teams": "sent",
        "webhook": "sent",
        "inapp": "sent",
    }
    (mail,) = service.smtp.to(f"{kamu}@example.org")
    assert "Aino Virtanen" in mail["Subject"]
    async with service.as_(kamu) as client:
        inbox = (await client.get(f"/people/{kamu}/inbox")).json()
    assert inbox["items"][0]["kind"] == "pairing-requested"
