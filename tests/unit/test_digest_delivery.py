"""The digest's MIME: inline images, and attachments shrinking to fit SES's size limit."""

from __future__ import annotations

import email
import email.policy
import gzip
import secrets

import boto3
import pytest

from finops_digest.report.emails import EmailTooLargeError, build_message, fit_to_limit

# Hex digits: a CSV-like body that gzip shrinks by about half, as real cost CSVs shrink more.
CSV = ("ou_breakdown.csv", b"BillingDate,OU\n" + secrets.token_hex(40_000).encode(), "text/csv")


def builder(html="<img src='cid:trend@x'>"):
    def build(attachments, delivery):
        return build_message(
            sender="finops@example.com",
            recipients=["a@example.com"],
            subject="Digest",
            text=f"files: {delivery['mode']} {delivery.get('url', '')}",
            html=html,
            attachments=attachments,
            inline_images=(("trend@x", b"\x89PNG fake"),),
        )

    return build


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_inline_images_are_related_to_the_html_and_not_attachments():
    raw, delivery = fit_to_limit(builder(), (CSV,))
    message = parse(raw)
    assert delivery == {"mode": "attached"}
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "ou_breakdown.csv"
    [image] = [p for p in message.walk() if p["Content-ID"]]
    assert image["Content-ID"] == "<trend@x>" and image.get_content_type() == "image/png"
    assert image.get_content_disposition() == "inline"


def test_too_big_goes_gzip_then_link_then_fails():
    plain = len(fit_to_limit(builder(), (CSV,))[0])
    raw, delivery = fit_to_limit(builder(), (CSV,), limit=plain - 1000)
    [attachment] = list(parse(raw).iter_attachments())
    assert delivery == {"mode": "gzip"}
    assert attachment.get_filename() == "ou_breakdown.csv.gz"
    assert gzip.decompress(attachment.get_content()) == CSV[1]

    compressed = len(raw)
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    link = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k.csv"}, ExpiresIn=7 * 24 * 3600
    )
    linked = {"url": link, "valid_until": "2025-09-22 06:00 UTC"}
    raw, delivery = fit_to_limit(builder(), (CSV,), link=lambda: linked, limit=compressed - 1000)
    assert delivery == {"mode": "link", **linked}
    assert list(parse(raw).iter_attachments()) == []
    assert link in parse(raw).get_body(("plain",)).get_content()

    with pytest.raises(EmailTooLargeError, match="SES accepts at most 100"):
        fit_to_limit(builder(), (CSV,), link=lambda: linked, limit=100)
