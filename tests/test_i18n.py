"""Translations are part of the feature: five catalogues, complete, placeholders intact, RTL where due."""

import re
from pathlib import Path

import polib
import pytest
from django.test import Client as HttpClient
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.mark.parametrize("language", ["fr", "es", "ar", "ary"])
def test_it_translates_every_string(language):
    po = polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))
    assert not [entry.msgid for entry in po.untranslated_entries()]
    assert not [entry.msgid for entry in po.fuzzy_entries()]
    for entry in po.translated_entries():
        expected = set(PLACEHOLDER.findall(entry.msgid))
        targets = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for target in targets:
            assert set(PLACEHOLDER.findall(target)) == expected, entry.msgid


def test_it_keeps_the_english_catalogue_in_step():
    english = {entry.msgid for entry in polib.pofile(str(ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"))}
    french = {entry.msgid for entry in polib.pofile(str(ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"))}
    assert english == french


@pytest.mark.parametrize("language, direction", [("fr", "ltr"), ("en", "ltr"), ("es", "ltr"), ("ar", "rtl"),
                                                 ("ary", "rtl")])
def test_it_sets_html_lang_and_direction(language, direction, db):
    response = HttpClient(HTTP_ACCEPT_LANGUAGE=language).get("/accounts/login/")
    assert response.status_code == 200
    assert f'<html lang="{language}" dir="{direction}">' in response.content.decode()


def test_it_speaks_darija_and_falls_back_to_arabic_for_library_strings():
    with translation.override("ary"):
        assert translation.gettext("Moroccan Darija") == "الدارجة المغربية"
        assert translation.gettext("Team") != "Team"
        # allauth ships no Darija: its strings come in Arabic, not in French (the default language)
    with translation.override("ar"):
        arabic = translation.gettext("Forgot your password?")
    with translation.override("ary"):
        assert translation.gettext("Forgot your password?") == arabic != "Forgot your password?"


@pytest.mark.django_db
def test_it_speaks_the_clients_language_on_its_host_until_someone_chooses(cast):
    http = HttpClient(HTTP_HOST="bravo.localhost", HTTP_ACCEPT_LANGUAGE="en")  # bravo's default is ar
    assert '<html lang="ar" dir="rtl">' in http.get("/accounts/login/").content.decode()
    http.cookies["django_language"] = "es"
    assert '<html lang="es" dir="ltr">' in http.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_it_prefers_the_persons_language_to_the_clients(cast):
    cast.carol.preferred_language = "fr"
    cast.carol.save(update_fields=["preferred_language"])
    http = HttpClient(HTTP_HOST="bravo.localhost")
    http.force_login(cast.carol, backend="django.contrib.auth.backends.ModelBackend")
    assert '<html lang="fr" dir="ltr">' in http.get("/").content.decode()
