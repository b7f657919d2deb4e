"""Email over SMTP (aiosmtplib): text and HTML, and the meeting's iCalendar request or
cancellation both inline (``text/calendar; method=...``, which calendar clients act on) and as
an ``invite.ics`` attachment.

The Message-ID is derived from the notification, so a resend after a dispatcher stopped
mid-send carries the same id and mail systems can drop the duplicate.
"""

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr, quote

import aiosmtplib

from kamu_notifications.content.render import Rendered
from kamu_notifications.dispatch.outcomes import SENT, SendOutcome, failed, retry
from kamu_notifications.settings import NotificationsSettings


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


async def send(settings: NotificationsSettings, message: EmailMessage) -> SendOutcome:
    """Hand the message to the SMTP server; 4xx replies and lost connections are transient."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_starttls,
            use_tls=settings.smtp_tls,
            timeout=settings.send_timeout_seconds,
        )
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
        return retry(f"smtp unreachable: {type(exc).__name__}")
    return SENT
