"""Send one kind of email for a billing day through SES, once per recipient, within SES's size
limit (attachments gzip-compressed, then linked, when too big)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from finops_digest.aws.clients import aws_client
from finops_digest.config import FinopsConfig
from finops_digest.errors import FinopsError
from finops_digest.report import emails
from finops_digest.store import delivery_record

log = logging.getLogger(__name__)

# SES SendRawEmail takes at most 50 recipients (To + Cc + Bcc) per message.
SES_MAX_RECIPIENTS = 50


class DeliveryError(FinopsError):
    """SES refused some recipients (e.g. unverified while the account is in SES's sandbox); every
    other recipient got the message. Retrying the same address cannot help, re-running the day
    after fixing it sends only to those still missing."""


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

    def build(to: Sequence[str], attached: Any, delivery: dict[str, Any]) -> bytes:
        rendered = {**context, "delivery": delivery}
        return emails.build_message(
            sender=config.ses_sender,
            recipients=to,
            subject=subject,
            text=emails.render(f"{template}.txt.j2", **rendered),
            html=emails.render(f"{template}.html.j2", **rendered),
            attachments=attached,
            headers={"X-FinOps-Billing-Date": day.isoformat(), "X-FinOps-Kind": kind},
            inline_images=inline_images,
        )

    sent: list[str] = []
    messages: list[tuple[str, int, str]] = []  # (message id, bytes, how the files travel)
    refused: dict[str, str] = {}

    def send(group: Sequence[str]) -> None:
        message, delivery = emails.fit_to_limit(
            lambda attached, delivery: build(group, attached, delivery), attachments, link
        )
        message_id = emails.send_raw(aws_client("ses"), config.ses_sender, group, message)
        delivery_record.record_sent(s3, config.archive_bucket, day, kind, list(group), message_id)
        sent.extend(group)
        messages.append((message_id, len(message), delivery["mode"]))

    for start in range(0, len(recipients), SES_MAX_RECIPIENTS):
        batch = recipients[start : start + SES_MAX_RECIPIENTS]
        try:
            send(batch)
            continue
        except ClientError as exc:
            if _error_code(exc) != "MessageRejected":
                raise
            if len(batch) == 1:
                refused[batch[0]] = _reason(exc)
                continue
        # One refused address rejects SES's whole message: each address of the batch alone, so
        # the others still get it and the refused ones are named.
        for address in batch:
            try:
                send((address,))
            except ClientError as exc:
                if _error_code(exc) != "MessageRejected":
                    raise
                refused[address] = _reason(exc)
    log.info(
        "Sent %s for %s to %d recipient(s) in %d message(s): %s",
        kind,
        day,
        len(sent),
        len(messages),
        [m[0] for m in messages],
    )
    if refused:
        log.error("SES refused the %s of %s for: %s", kind, day, refused)
        raise DeliveryError(
            f"SES refused the {kind} of {day} for {len(refused)} recipient(s): "
            + "; ".join(f"{address} ({reason})" for address, reason in sorted(refused.items()))
            + f". Sent to the {len(sent)} other(s). Expected addresses SES accepts (verified "
            "identities while the account is in SES's sandbox)."
        )
    return {
        "sent": True,
        "recipients": len(sent),
        "message_id": messages[0][0],
        "messages": len(messages),
        "bytes": max(m[1] for m in messages),
        "attachments": messages[0][2],
    }


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _reason(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Message", "") or "MessageRejected"
