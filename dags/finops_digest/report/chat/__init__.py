"""The digest and the alert in chat: one neutral message (``messages``), formatted for each
service within its limits (``slack``, ``teams``, ``sns``), delivered once per billing day, kind and
destination (``delivery``)."""
