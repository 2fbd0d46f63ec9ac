"""Dates as each language writes them (vocalia/formats): day before month, a 24-hour clock, Moroccan month
names in Darija. Before, Arabic and Darija got the US defaults: "12/04/2026 8 م" for 4 December, 20:00."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import formats, timezone, translation

MOMENT = datetime(2026, 12, 4, 20, 0, tzinfo=ZoneInfo("UTC"))
EXPECTED = {
    "fr": {"DATE_FORMAT": "4 décembre 2026", "DATETIME_FORMAT": "4 décembre 2026 à 20:00",
           "SHORT_DATE_FORMAT": "04/12/2026", "SHORT_DATETIME_FORMAT": "04/12/2026 20:00", "TIME_FORMAT": "20:00",
           "YEAR_MONTH_FORMAT": "décembre 2026"},
    "en": {"DATE_FORMAT": "4 December 2026", "DATETIME_FORMAT": "4 December 2026, 20:00",
           "SHORT_DATE_FORMAT": "04/12/2026", "SHORT_DATETIME_FORMAT": "04/12/2026 20:00", "TIME_FORMAT": "20:00",
           "YEAR_MONTH_FORMAT": "December 2026"},
    "es": {"DATE_FORMAT": "4 de diciembre de 2026", "DATETIME_FORMAT": "4 de diciembre de 2026, 20:00",
           "SHORT_DATE_FORMAT": "04/12/2026", "SHORT_DATETIME_FORMAT": "04/12/2026 20:00", "TIME_FORMAT": "20:00",
           "YEAR_MONTH_FORMAT": "diciembre de 2026"},
    "ar": {"DATE_FORMAT": "4 ديسمبر 2026", "DATETIME_FORMAT": "4 ديسمبر 2026، 20:00",
           "SHORT_DATE_FORMAT": "04/12/2026", "SHORT_DATETIME_FORMAT": "04/12/2026 20:00", "TIME_FORMAT": "20:00",
           "YEAR_MONTH_FORMAT": "ديسمبر 2026"},
    "ary": {"DATE_FORMAT": "4 دجنبر 2026", "DATETIME_FORMAT": "4 دجنبر 2026، 20:00",
            "SHORT_DATE_FORMAT": "04/12/2026", "SHORT_DATETIME_FORMAT": "04/12/2026 20:00", "TIME_FORMAT": "20:00",
            "YEAR_MONTH_FORMAT": "دجنبر 2026"},
}
DARIJA_MONTHS = ["يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو", "يوليوز", "غشت", "شتنبر", "أكتوبر", "نونبر",
                 "دجنبر"]


@pytest.mark.parametrize("language", list(EXPECTED))
def test_it_writes_a_fixed_datetime_as_each_language_does(language):
    with translation.override(language):
        rendered = {name: formats.date_format(MOMENT, name) for name in EXPECTED[language]}
    assert rendered == EXPECTED[language]


@pytest.mark.parametrize("language", list(EXPECTED))
def test_it_renders_the_templates_date_filters_with_these_formats(language):
    template = Template('{{ m|date:"SHORT_DATETIME_FORMAT" }}|{{ m|date:"DATE_FORMAT" }}|{{ m|date }}|{{ m|time }}')
    with translation.override(language), timezone.override(ZoneInfo("UTC")):
        rendered = template.render(Context({"m": MOMENT}))
    expected = EXPECTED[language]
    assert rendered == "|".join([expected["SHORT_DATETIME_FORMAT"], expected["DATE_FORMAT"], expected["DATE_FORMAT"],
                                 expected["TIME_FORMAT"]])


def test_it_names_the_months_in_darija_as_moroccans_write_them_in_every_form():
    with translation.override("ary"):
        for month, name in enumerate(DARIJA_MONTHS, start=1):
            moment = MOMENT.replace(month=month, day=1)
            assert [formats.date_format(moment, code) for code in ("F", "E", "N", "b")] == [name] * 4


def test_it_leaves_arabic_with_djangos_arabic_month_names():
    with translation.override("ar"):
        assert formats.date_format(MOMENT.replace(month=5), "F") == "مايو"
        assert formats.date_format(MOMENT.replace(month=8), "F") == "أغسطس"


@pytest.mark.parametrize("language, typed", [("fr", "04/12/2026"), ("en", "04/12/2026"), ("es", "4/12/2026"),
                                             ("ar", "04/12/2026"), ("ary", "4-12-2026")])
def test_it_reads_dates_typed_the_languages_way(language, typed):
    from django import forms

    with translation.override(language):
        field = forms.DateField()
        assert field.clean(typed) == MOMENT.date()
        assert field.clean("2026-12-04") == MOMENT.date()
