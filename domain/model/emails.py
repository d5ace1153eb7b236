"""Email addresses in one form, so look-alikes cannot sit next to each other (issue 19).

An address is stored and compared NFKC-normalised and lower-cased (fullwidth letters, U+FF41
on, read as their ASCII selves). Invisible characters (zero-width, bidi controls: Unicode's
format and control categories) are refused, never silently dropped; a part that mixes Latin
with Cyrillic or Greek letters (`desert` with a Cyrillic U+0435 for its `e`) is refused as a
look-alike; and the domain must be a valid IDNA name (Python's `idna` codec, IDNA 2003),
kept in its Unicode form.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NoReturn

from domain.errors import InvalidInput

_LDH = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")  # letters, digits, hyphens
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


def normalize_email(raw: str) -> str:
    """The one form an address is stored and compared in; InvalidInput (422) if it has none."""
    text = raw.strip()
    if any(unicodedata.category(ch) in ("Cf", "Cc") for ch in text):
        _refuse("must not contain invisible or control characters")
    text = unicodedata.normalize("NFKC", text).lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        _refuse("must be an email address")
    for part in (local, *domain.split(".")):
        if _mixes_look_alike_scripts(part):
            _refuse("must not mix Latin with Cyrillic or Greek letters in one part")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
        domain = ascii_domain.encode("ascii").decode("idna").lower()
    except UnicodeError:
        _refuse("the domain is not a valid international domain name")
    if not all(_LDH.match(label) for label in ascii_domain.lower().split(".")):
        _refuse("the domain is not a valid host name")
    return f"{local}@{domain}"


def comparable_email(raw: str) -> str:
    """For looking an address up (login): its stored form, or a form that matches nothing."""
    try:
        return normalize_email(raw)
    except InvalidInput:
        return raw.strip().lower()


def _mixes_look_alike_scripts(part: str) -> bool:
    scripts = {unicodedata.name(ch, "?").split(" ")[0] for ch in part if ch.isalpha()}
    return len(scripts & _CONFUSABLE_SCRIPTS) > 1


def _refuse(reason: str) -> NoReturn:
    raise InvalidInput(f"invalid email: {reason}", {"email": [reason]})
