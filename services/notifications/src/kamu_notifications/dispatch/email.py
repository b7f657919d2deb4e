"""Email over SMTP (aiosmtplib): text and HTML, and the meeting's iCalendar request or
cancellation both inline (``text/calendar; method=...``, which calendar clients act on) and as
an ``invite.ics`` attachment.

The Message-ID is derived from the notification (the same on every attempt).

Until the DATA command the server has nothing it could deliver: a connection, greeting,
sender or recipient that fails, or a process that dies meanwhile, leaves no message behind.
So the dispatcher's hand-over mark (``before_data``) is committed right before DATA, and only
a failure after it without the server's answer (the connection dropped, the send timed out)
leaves the message in doubt (``in-doubt``): it may have been delivered.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr, quote
from typing import Literal

import aiosmtplib
from aiosmtplib.response import SMTPResponse
from aiosmtplib.typing import Default

from kamu_notifications.content.render import Rendered
from kamu_notifications.dispatch.outcomes import SENT, SendOutcome, failed, in_doubt, retry
from kamu_notifications.settings import NotificationsSettings

BeforeData = Callable[[], Awaitable[None]]


def one_line(text: str) -> str:
    """Headers take one line: a name or subject with line breaks or controls (HR data can
    hold them) is folded to single spaces rather than refused."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def mailbox(name: str, address: str) -> str:
    """``Name <address>``. An address with a non-ASCII local part (``mia.järvinen@...``, which
    HR data may hold) cannot be written the ASCII way; it is kept as UTF-8 and the message
    then goes out with SMTPUTF8 (RFC 6531), which aiosmtplib asks for when it sees one."""
    try:
        return formataddr((one_line(name), address))
    except UnicodeEncodeError:
        return f'"{quote(one_line(name))}" <{address}>'


def build(
    settings: NotificationsSettings,
    to: tuple[str, str],
    rendered: Rendered,
    message_key: str,
    calendar: tuple[str, bytes] | None,
) -> EmailMessage:
    """The message; ``calendar`` is (iTIP method, iCalendar bytes) for meeting emails."""
    sender_name, sender = parseaddr(settings.email_from)
    domain = sender.rpartition("@")[2] or "kamu.invalid"
    message = EmailMessage()
    message["From"] = mailbox(sender_name, sender)
    message["To"] = mailbox(to[0], to[1])
    message["Subject"] = one_line(rendered.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{message_key}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Kamu-Notification-Id"] = message_key
    message.set_content(rendered.body)
    message.add_alternative(rendered.html, subtype="html")
    if calendar is not None:
        method, ics = calendar
        message.add_alternative(
            ics.decode(), subtype="calendar", params={"method": method}, cte="base64"
        )
        message.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return message


class _HandingOver(aiosmtplib.SMTP):
    """An SMTP client that calls ``before_data`` right before the DATA command (the point
    from which the server may deliver the message) and remembers that it got there."""

    def __init__(self, before_data: BeforeData | None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.before_data = before_data
        self.handed_over = False
        self.accepted = False

    async def data(
        self,
        message: str | bytes,
        /,
        *,
        timeout: float | Literal[Default.token] | None = Default.token,
    ) -> SMTPResponse:
        if self.before_data is not None:
            await self.before_data()
        self.handed_over = True
        response = await super().data(message, timeout=timeout)
        self.accepted = True
        return response


async def send(
    settings: NotificationsSettings,
    message: EmailMessage,
    before_data: BeforeData | None = None,
) -> SendOutcome:
    """Hand the message to the SMTP server: 4xx replies are transient, and so is a failure
    before DATA; one after DATA without the server's answer is in doubt. ``before_data`` is
    awaited right before DATA (an error in it leaves nothing sent and is raised)."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    client = _HandingOver(
        before_data,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=password,
        start_tls=settings.smtp_starttls,
        use_tls=settings.smtp_tls,
        timeout=settings.send_timeout_seconds,
    )
    try:
        async with client:
            await client.send_message(message)
    except aiosmtplib.SMTPNotSupported as exc:  # e.g. a UTF-8 address, a server without SMTPUTF8
        return failed(f"smtp server cannot take this message: {exc}")
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        if all(400 <= c < 500 for c in codes):
            return retry(f"recipient refused for now ({codes})")
        return failed(f"recipient refused ({codes})")
    except aiosmtplib.SMTPResponseException as exc:
        if 400 <= exc.code < 500:
            return retry(f"smtp {exc.code}")
        return failed(f"smtp {exc.code}")
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        if client.accepted:  # taken (250); only saying goodbye failed
            return SENT
        if client.handed_over:  # no answer to DATA: the server may have the message
            return in_doubt(f"smtp connection lost after the message: {type(exc).__name__}")
        return retry(f"smtp unreachable: {type(exc).__name__}")
    return SENT
