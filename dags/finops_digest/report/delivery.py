"""Send one kind of email for a billing day through SES, once per recipient, within SES's size
limit (attachments gzip-compressed, then linked, when too big)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from finops_digest.aws.clients import aws_client
from finops_digest.config import FinopsConfig
from finops_digest.report import emails
from finops_digest.store import delivery_record

log = logging.getLogger(__name__)


def send_once(
    config: FinopsConfig,
    recipients: Sequence[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    *,
    kind: str,
    day: date,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    inline_images: Sequence[tuple[str, bytes]] = (),
    link: Callable[[], str] | None = None,
) -> dict[str, Any]:
    """Render ``template`` (``.txt.j2`` and ``.html.j2``) and send it to the ``recipients`` that
    have not had this ``kind`` of message for ``day`` yet; record who got it."""
    if not recipients:
        log.warning("No recipients configured for the %s of %s: nothing sent", kind, day)
        return {"sent": False, "recipients": 0}
    s3 = aws_client("s3")
    # A re-run (of the task or the whole day) must not mail anyone twice for the same day.
    done = delivery_record.already_sent(s3, config.archive_bucket, day, kind)
    recipients = tuple(r for r in recipients if r not in done)
    if not recipients:
        log.info("The %s of %s already went to every recipient: not sent again", kind, day)
        return {"sent": False, "recipients": 0, "already_sent": len(done)}

    def build(attached: Any, delivery: dict[str, Any]) -> bytes:
        rendered = {**context, "delivery": delivery}
        return emails.build_message(
            sender=config.ses_sender,
            recipients=recipients,
            subject=subject,
            text=emails.render(f"{template}.txt.j2", **rendered),
            html=emails.render(f"{template}.html.j2", **rendered),
            attachments=attached,
            headers={"X-FinOps-Billing-Date": day.isoformat(), "X-FinOps-Kind": kind},
            inline_images=inline_images,
        )

    message, delivery = emails.fit_to_limit(build, attachments, link)
    message_id = emails.send_raw(aws_client("ses"), config.ses_sender, recipients, message)
    delivery_record.record_sent(s3, config.archive_bucket, day, kind, list(recipients), message_id)
    log.info(
        "Sent %s for %s to %d recipient(s), %d bytes, files %s: %s",
        kind,
        day,
        len(recipients),
        len(message),
        delivery["mode"],
        message_id,
    )
    return {
        "sent": True,
        "recipients": len(recipients),
        "message_id": message_id,
        "bytes": len(message),
        "attachments": delivery["mode"],
    }
