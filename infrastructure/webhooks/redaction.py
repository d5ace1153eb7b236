"""What of a webhook endpoint's URL may be shown outside its admin API: scheme, host and port.

Events are read by every user of the tenant and pushed to its other endpoints, and log lines
reach whoever reads the logs; receivers put tokens in the rest of a URL (userinfo, a path such
as `/services/T0/B0/<token>`, `?key=…`), so all of that is shown as `/…`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

HIDDEN = "…"


def redacted_url(url: str) -> str:
    """`scheme://host[:port]`, with `/…` when anything followed (path, query or fragment)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket, say: nothing of it is safe to show
        return HIDDEN
    host = parts.netloc.rpartition("@")[2]  # userinfo never shows
    if not parts.scheme or not host:
        return HIDDEN
    rest = parts.path not in ("", "/") or parts.query or parts.fragment
    return f"{parts.scheme}://{host}" + ("/" + HIDDEN if rest else "")
