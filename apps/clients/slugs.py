"""A client's slug: its host name (`<slug>.<BASE_DOMAIN>`) and its schema (`c_<slug with _>`), fixed at creation.

One rule for every way a client is made (admin form, `client_create`, the command line): lowercase
letters a–z, digits and hyphens, 3 to 40 characters, a letter first, no hyphen last, not reserved.
Accented letters are folded first ("riad-fès" → "riad-fes"), as the admin's prepopulate script does.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

SLUG_MIN_LENGTH = 3
SLUG_MAX_LENGTH = 40  # Client.slug's max_length; "c_" + 40 stays well inside PostgreSQL's 63-byte names
SLUG_RE = re.compile(rf"^[a-z][a-z0-9-]{{{SLUG_MIN_LENGTH - 2},{SLUG_MAX_LENGTH - 2}}}[a-z0-9]$")
RESERVED_SLUGS = frozenset({"www", "admin", "api", "app", "static", "widget", "public", "template", "mail",
                            "staff"})


def slug_normalise(value: str) -> str:
    """Trim, lowercase and fold accents (NFKD, combining marks dropped): " Riad-Fès " → "riad-fes"."""
    decomposed = unicodedata.normalize("NFKD", value.strip().lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def slug_rules() -> str:
    return _("Use %(min)d to %(max)d characters: lowercase letters a–z, digits and hyphens, starting with a "
             "letter and not ending with a hyphen.") % {"min": SLUG_MIN_LENGTH, "max": SLUG_MAX_LENGTH}


def slug_problem(slug: str) -> str | None:
    """What is wrong with an already normalised slug, in the reader's language, or None."""
    if not SLUG_RE.match(slug):
        shown = slug if len(slug) <= SLUG_MAX_LENGTH else slug[:SLUG_MAX_LENGTH] + "…"
        return _("“%(slug)s” is not a valid slug. %(rules)s") % {"slug": shown, "rules": slug_rules()}
    if slug in RESERVED_SLUGS:
        return _("“%(slug)s” is reserved for the platform; choose another slug.") % {"slug": slug}
    if slug[2:4] == "--":  # "xn--…" is how a host name spells an international name: browsers would decode it
        return _("“%(slug)s” cannot have hyphens as its 3rd and 4th characters: host names keep that for "
                 "international names.") % {"slug": slug}
    return None
