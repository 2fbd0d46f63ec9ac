"""Moroccan Darija (ary) next to Django's languages.

settings.py declares `ary` (right-to-left) in LANG_INFO and LANGUAGES, and our own
strings have a real Darija catalogue in locale/ary. Django, admin and allauth ship
no Darija catalogue; without help their strings would fall back to LANGUAGE_CODE
(French). `install_darija_fallback` makes them fall back to Arabic instead, which a
Darija reader reads; our own Darija strings still win.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils.translation import get_language_bidi, trans_real

DARIJA = "ary"
DARIJA_FALLBACK = "ar"


def install_darija_fallback() -> None:
    original = trans_real.DjangoTranslation._add_fallback
    if getattr(original, "_vocalia_darija", False):
        return

    def _add_fallback(self: trans_real.DjangoTranslation, localedirs: object = None) -> None:
        if getattr(self, "_DjangoTranslation__language", None) == DARIJA and self.domain == "django":
            self.add_fallback(trans_real.translation(DARIJA_FALLBACK))
            return
        original(self, localedirs)

    _add_fallback._vocalia_darija = True  # type: ignore[attr-defined]
    trans_real.DjangoTranslation._add_fallback = _add_fallback  # type: ignore[method-assign]


def language_name(code: str) -> str:
    """A language's name in the active language ("Moroccan Darija", "الدارجة المغربية"); an unknown code as is."""
    names = dict(settings.LANGUAGES)
    return str(names[code]) if code in names else str(code)


def language_names(codes: Iterable[str]) -> str:
    """Several languages' names, in the order given, with the active language's list separator."""
    return ("، " if get_language_bidi() else ", ").join(language_name(code) for code in codes)
