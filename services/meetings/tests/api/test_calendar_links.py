"""Secret calendar feed links: what a calendar client uses, since it cannot send a token."""

import httpx
from icalendar import Calendar


def anonymous(service) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://m")


async def test_a_secret_link_serves_the_feed_until_it_is_rotated(service):
    pairing, colleague, _ = await service.pair()
    meeting = await service.schedule(pairing, colleague)
    async with service.as_(colleague) as me:
        link = (await me.get(f"/people/{colleague}/calendar-link")).json()
    async with anonymous(service) as client:
        feed = await client.get(link["url"])
        assert feed.status_code == 200
        events = Calendar.from_ical(feed.content).walk("VEVENT")
        assert [str(e["UID"]) for e in events] == [f"{meeting['id']}@kamu"]
        assert (await client.get(f"/people/{colleague}/calendar.ics")).status_code == 401
        wrong = await client.get(f"/people/{colleague}/calendar.ics?token=x{link['token'][1:]}")
        assert wrong.status_code == 404
    async with service.as_(colleague) as me:
        rotated = (await me.post(f"/people/{colleague}/calendar-link/rotate")).json()
    assert rotated["generation"] == link["generation"] + 1
    async with anonymous(service) as client:
        assert (await client.get(link["url"])).status_code == 404  # every old copy stops
        assert (await client.get(rotated["url"])).status_code == 200


async def test_a_link_opens_only_its_own_persons_feed(service):
    pairing, colleague, kamu = await service.pair()
    await service.schedule(pairing, colleague)
    async with service.as_(colleague) as me:
        link = (await me.get(f"/people/{colleague}/calendar-link")).json()
    async with anonymous(service) as client:
        other = await client.get(f"/people/{kamu}/calendar.ics?token={link['token']}")
    assert other.status_code == 404
    for outsider, roles in ((kamu, ()), ("ops", ("people-ops",))):
        async with service.as_(outsider, *roles) as o:
            assert (await o.get(f"/people/{colleague}/calendar-link")).status_code == 404
            rotate = await o.post(f"/people/{colleague}/calendar-link/rotate")
            assert rotate.status_code == 404
