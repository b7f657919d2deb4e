"""The local catcher: what the platform sends by email and webhook is caught and can be read."""

import smtplib
import subprocess
import sys
from email.message import EmailMessage

import httpx
import pytest

from kamu_devstack.platform import free_base_port
from kamu_devstack.services import CATCHER_SMTP_OFFSET, ServiceProcess, start_catcher, wait_ready


@pytest.fixture
def catcher(state_dir):
    process = start_catcher(state_dir, free_base_port())
    try:
        wait_ready([process], timeout=30)
        yield process
    finally:
        process.stop()


def send_mail(port: int, subject: str, calendar: bool = False) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "kamu@kamu.invalid", "a@x.test", subject
    message.set_content("hello")
    if calendar:
        message.add_attachment(
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
            subtype="calendar",
            params={"method": "REQUEST"},
        )
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


def test_mail_and_webhooks_are_kept_in_order_and_listed(catcher: ServiceProcess, state_dir):
    smtp_port = catcher.port - 25 + CATCHER_SMTP_OFFSET
    send_mail(smtp_port, "first")
    send_mail(smtp_port, "second", calendar=True)
    answer = httpx.post(f"{catcher.url}/hooks/slack", json={"text": "hi"}, timeout=5)

    mails = httpx.get(f"{catcher.url}/api/mail", timeout=5).json()
    hooks = httpx.get(f"{catcher.url}/api/hooks", timeout=5).json()
    raw = httpx.get(f"{catcher.url}/api/mail/{mails[1]['id']}", timeout=5)
    page = httpx.get(catcher.url, timeout=5)

    assert answer.status_code == 204
    assert [(m["subject"], m["calendar"]) for m in mails] == [
        ("first", None),
        ("second", "REQUEST"),
    ]
    assert [(h["path"], h["body"]) for h in hooks] == [("/hooks/slack", '{"text":"hi"}')]
    assert b"METHOD:REQUEST" in raw.content
    assert "second" in page.text
    assert "/hooks/slack" in page.text
    assert sorted(p.name for p in (state_dir / "catcher" / "mail").iterdir()) == [
        "000001.eml",
        "000002.eml",
    ]


def test_what_arrived_survives_a_restart_and_numbering_continues(state_dir):
    base = free_base_port()
    for subject in ("before", "after"):
        process = start_catcher(state_dir, base)
        try:
            wait_ready([process], timeout=30)
            send_mail(base + CATCHER_SMTP_OFFSET, subject)
        finally:
            process.stop()

    names = sorted(p.name for p in (state_dir / "catcher" / "mail").iterdir())
    assert names == ["000001.eml", "000002.eml"]


def test_unknown_or_malformed_message_ids_are_404(catcher: ServiceProcess):
    for wanted in ("999999", "..%2Fsecret", "abc"):
        assert httpx.get(f"{catcher.url}/api/mail/{wanted}", timeout=5).status_code == 404


def test_the_catcher_explains_its_arguments():
    shown = subprocess.run(
        [sys.executable, "-m", "kamu_devstack.catcher", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "--smtp-port" in shown.stdout
