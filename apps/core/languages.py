"""Moroccan Darija (ary) next to Django's languages.

settings.py declares `ary` (right-to-left) in LANG_INFO and LANGUAGES, and our own
strings have a real Darija catalogue in locale/ary. Django, admin and allauth ship
no Darija catalogue; without help their strings would fall back to LANGUAGE_CODE
(French). `install_darija_fallback` makes them fall back to Arabic instead, which a
Darija reader reads; our own Darija strings still win.
"""

from __future__ import annotations

from django.utils.translation import trans_real

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
