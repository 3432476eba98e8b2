"""SES's own sandbox: an account without production access may send only to verified identities,
and one unverified recipient rejects the whole message (``MessageRejected``)."""

from __future__ import annotations

from email.utils import getaddresses

from moto.ses.exceptions import MessageRejectedError
from moto.ses.models import SESBackend

from sandbox.config import REGION, SETTINGS
from sandbox.patching import patch

_original_send_raw_email = SESBackend.send_raw_email


def install() -> None:
    """Patch moto's SES backend (idempotent)."""

    def send_raw_email(self, source, destinations, raw_data):  # noqa: ANN001
        unverified = SETTINGS.extra.get("ses_unverified_recipients", set())
        refused = sorted(
            address
            for _, address in getaddresses(list(destinations))
            if address.lower() in unverified
        )
        if refused:
            raise MessageRejectedError(
                "Email address is not verified. The following identities failed the check in "
                f"region {REGION.upper()}: {', '.join(refused)}"
            )
        return _original_send_raw_email(self, source, destinations, raw_data)

    patch(SESBackend, "send_raw_email", send_raw_email)


def refuse(addresses: list[str]) -> None:
    """Treat ``addresses`` as unverified recipients of an account still in SES's sandbox."""
    with SETTINGS.lock:
        SETTINGS.extra["ses_unverified_recipients"] = {a.lower() for a in addresses}
