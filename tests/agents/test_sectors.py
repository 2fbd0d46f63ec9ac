"""Sectors (hotel / riad, hair and beauty, car repair, fitness, legal and accounting, real estate, shop…) detected
from the description in five languages, and the hours and prices typed there read into the draft agent — then
followed by its bookings (issue 10: "mardi–samedi 10h–20h, dimanche 10h–14h" became Tue–Sat 09:30–19:00 and a
Sunday booking was refused; a 12-room riad became a restaurant)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from django_tenants.utils import tenant_context

from apps.agents.configurator import SECTOR_HOURS, BusinessInfo, agent_create_from_draft, configure, detect_sector
from apps.agents.reading import WEEK, hours_read, hours_say, prices_read
from apps.agents.sectors import sector_name, sectors
from apps.agents.tools import TOOLS, ToolContext
from apps.conversations.services import conversation_start
from apps.core.errors import InvalidInput
from apps.knowledge.models import Chunk, Document
from tests.agents.test_tools import next_weekday

NEW_SECTORS = ["hotel", "car_repair", "fitness", "legal_accounting"]
LANGUAGES = ["fr", "en", "es", "ar", "ary"]

DESCRIPTIONS = [
    ("fr", "riad de 12 chambres à Marrakech", "hotel"),
    ("fr", "Riad de 12 chambres à Marrakech, petit-déjeuner sur la terrasse et transfert aéroport", "hotel"),
    ("fr", "Riad avec restaurant marocain et 9 chambres, dîner sur demande", "hotel"),
    ("en", "Boutique hotel with 20 rooms, breakfast included and airport shuttle", "hotel"),
    ("es", "Hostal familiar con 8 habitaciones y desayuno incluido en Sevilla", "hotel"),
    ("ar", "رياض تقليدي بمراكش فيه 10 غرف مع فطور الصباح والنقل من المطار", "hotel"),
    ("ary", "رياض فمراكش فيه 12 بيت، الفطور والطرانسفير من المطار", "hotel"),
    ("fr", "Salon de coiffure pour hommes et femmes : coupe, couleur, brushing", "beauty"),
    ("en", "Hair salon and barber: haircut, highlights, blow dry", "beauty"),
    ("es", "Peluquería unisex, corte de pelo y mechas", "beauty"),
    ("ar", "صالون حلاقة وتصفيف الشعر للرجال والنساء", "beauty"),
    ("ary", "كوافور ديال العيالات، تقصيص الشعر والصباغة والبراشينڭ", "beauty"),
    ("fr", "Garage automobile : vidange, pneus, freins et diagnostic électronique", "car_repair"),
    ("en", "Family-run auto repair shop: oil change, brakes, tyres and MOT", "car_repair"),
    ("es", "Taller mecánico en Valencia: cambio de aceite, neumáticos, frenos e ITV", "car_repair"),
    ("ar", "ورشة إصلاح السيارات: تغيير الزيت والفرامل والإطارات", "car_repair"),
    ("ary", "ݣاراج ديال الميكانيك فكازا: الفيدونج، البنوات والفرانات", "car_repair"),
    ("fr", "Salle de sport et musculation, cours collectifs de yoga et pilates, coach sportif", "fitness"),
    ("en", "24/7 gym with personal trainers, group classes and a free trial", "fitness"),
    ("es", "Gimnasio con clases colectivas, spinning y entrenador personal", "fitness"),
    ("ar", "نادي رياضي للياقة البدنية وكمال الأجسام مع مدرب شخصي", "fitness"),
    ("ary", "صالة ديال الرياضة: مسكولاسيون، فيتنس والكوتش، الأبونمون بثمن مزيان", "fitness"),
    ("fr", "Cabinet d'avocats en droit de la famille et droit du travail", "legal_accounting"),
    ("fr", "Cabinet d'expertise comptable : bilans, TVA, paie et création d'entreprise", "legal_accounting"),
    ("en", "Accounting firm and tax advice for small companies", "legal_accounting"),
    ("en", "Law firm: family law, divorce and immigration lawyer", "legal_accounting"),
    ("es", "Despacho de abogados y asesoría fiscal, declaración de la renta", "legal_accounting"),
    ("ar", "مكتب محاماة واستشارة قانونية في قانون الأسرة", "legal_accounting"),
    ("ar", "مكتب محاسبة وخبير محاسب للتصريح الضريبي", "legal_accounting"),
    ("ary", "مكتب ديال لافوكا والعدول، الطلاق والورث", "legal_accounting"),
    ("ary", "كونطابل للشركات الصغيرة: الضرائب والديكلاراسيون", "legal_accounting"),
    ("fr", "Agence immobilière à Rabat : vente et location d'appartements et de villas", "real_estate"),
    ("en", "Estate agent: flats and houses for sale and to let, property valuation", "real_estate"),
    ("es", "Inmobiliaria en Málaga: venta y alquiler de pisos", "real_estate"),
    ("ar", "وكالة عقارية لبيع وكراء الشقق والفيلات", "real_estate"),
    ("ary", "وكالة عقارية فالدار البيضاء: كرا وبيع الشقق والديور", "real_estate"),
    ("fr", "Boutique en ligne de cosmétiques naturels, livraison en 48h", "ecommerce"),
    ("en", "Online store selling handmade jewellery, worldwide shipping and free returns", "ecommerce"),
    ("es", "Tienda online de ropa infantil con envío gratis", "ecommerce"),
    ("ar", "متجر إلكتروني لبيع الملابس مع التوصيل والدفع عند الاستلام", "ecommerce"),
    ("ary", "حانوت أونلاين ديال الحوايج، التوصيل لكل المدن والخلاص ملي توصلك", "ecommerce"),
    ("en", "Marketing agency: SEO, social media management and web design", "professional_services"),
]


@pytest.mark.parametrize("language, description, expected", DESCRIPTIONS)
def test_it_detects_each_sector_in_five_languages(language, description, expected):
    detection = detect_sector(BusinessInfo(name="X", description=description, language=language))
    assert detection.sector == expected, detection
    assert detection.confidence > 0.4 and detection.matched


def test_a_sporty_word_is_no_riad():
    """"رياضي" (sporty) and "الرياضة" (sport) contain رياض (riad): the hotel keyword takes no suffix."""
    detection = detect_sector(BusinessInfo(name="X", description="نادي رياضي", language="ar"))
    assert "hotel" not in detection.scores


@pytest.mark.parametrize("code", NEW_SECTORS)
def test_each_new_sector_is_complete_in_five_languages(code):
    template = sectors()[code]
    assert code in SECTOR_HOURS
    for language in LANGUAGES:
        assert template["names"][language] and template["keywords"][language]
        block = template["languages"][language]
        assert block["greeting"] and block["closing"] and block["instructions"] and block["booking_policy"]
        assert len(block["faq"]) >= 6 and any(item.get("kind") == "prices" for item in block["faq"])
        assert all(template["tool_reasons"][tool][language] for tool in template["recommended_tools"])
    assert len({len(template["languages"][language]["faq"]) for language in LANGUAGES}) == 1
    with translation.override("ary"):
        assert sector_name(code) == template["names"]["ary"]


def test_a_riad_books_a_stay_not_a_table():
    draft = configure(BusinessInfo(name="Riad Yasmine", description="riad de 12 chambres à Marrakech", language="fr"))
    assert draft.detection.sector == "hotel"
    tools = [tool["name"] for tool in draft.tools]
    assert "qualify_lead" in tools and "book_appointment" not in tools
    for language in LANGUAGES:
        greeting = draft.texts[language]["greeting"]
        assert "Riad Yasmine" in greeting
    assert "séjour" in draft.texts["fr"]["greeting"] and "table" not in draft.texts["fr"]["greeting"]
    assert "stay" in draft.texts["en"]["greeting"]
    assert "check-in" in draft.texts["fr"]["instructions"] and "aéroport" in draft.texts["fr"]["instructions"]


# --- hours ----------------------------------------------------------------------------------------------------

def week(**days):
    return {day: days.get(day, []) for day in WEEK}


TUE_SAT = {day: [["10:00", "20:00"]] for day in ("tue", "wed", "thu", "fri", "sat")}
MON_FRI_9_18 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
SPLIT = [["09:00", "12:00"], ["14:00", "18:00"]]
ALL_DAY = [["00:00", "24:00"]]

HOURS = [
    ("mardi–samedi 10h–20h, dimanche 10h–14h, fermé lundi", week(**TUE_SAT, sun=[["10:00", "14:00"]])),
    ("Mardi-Samedi : 10h00 - 20h00 ; Dimanche : 10h-14h ; Lundi fermé", week(**TUE_SAT, sun=[["10:00", "14:00"]])),
    ("fermé le lundi, du mardi au samedi de 10h à 20h et le dimanche de 10h à 14h",
     week(**TUE_SAT, sun=[["10:00", "14:00"]])),
    ("du lundi au vendredi de 9h à 12h et de 14h à 18h, le samedi de 9h à 12h",
     week(mon=SPLIT, tue=SPLIT, wed=SPLIT, thu=SPLIT, fri=SPLIT, sat=[["09:00", "12:00"]])),
    ("Lun-Ven 9h-18h", week(**MON_FRI_9_18)),
    ("lundi, mercredi et vendredi 8h30-17h", week(mon=[["08:30", "17:00"]], wed=[["08:30", "17:00"]],
                                                  fri=[["08:30", "17:00"]])),
    ("Ouvert 7j/7 de 8h à 22h", week(**{day: [["08:00", "22:00"]] for day in WEEK})),
    ("tous les jours 11h-15h et 19h-23h", week(**{day: [["11:00", "15:00"], ["19:00", "23:00"]] for day in WEEK})),
    ("Ouvert 9h-18h, fermé le dimanche", week(**{day: [["09:00", "18:00"]] for day in WEEK[:6]})),
    ("fermé lundi et mardi, mercredi-dimanche 11h-23h", week(**{day: [["11:00", "23:00"]] for day in WEEK[2:]})),
    ("Réception 24h/24", week(**{day: ALL_DAY for day in WEEK})),
    ("Mon-Fri 9am-6pm", week(**MON_FRI_9_18)),
    ("Monday to Friday 9:00-17:00, Saturday 10:00-14:00, closed on Sundays",
     week(**{day: [["09:00", "17:00"]] for day in WEEK[:5]}, sat=[["10:00", "14:00"]])),
    ("9am-6pm Monday to Friday, 10am-2pm Saturday", week(**MON_FRI_9_18, sat=[["10:00", "14:00"]])),
    ("Open daily 8am–10pm", week(**{day: [["08:00", "22:00"]] for day in WEEK})),
    ("Tue-Sat 10-7", week(**{day: [["10:00", "19:00"]] for day in ("tue", "wed", "thu", "fri", "sat")})),
    ("Weekdays 8:30am to 5:30pm, weekends 10 am - 4 pm",
     week(**{day: [["08:30", "17:30"]] for day in WEEK[:5]}, sat=[["10:00", "16:00"]], sun=[["10:00", "16:00"]])),
    ("Open 24/7", week(**{day: ALL_DAY for day in WEEK})),
    ("de lunes a viernes de 9:00 a 18:00, sábados de 10 a 14 h, domingos cerrado",
     week(**MON_FRI_9_18, sat=[["10:00", "14:00"]])),
    ("Martes a sábado de 10 a 20 h; domingo de 10 a 14 h; lunes cerrado", week(**TUE_SAT, sun=[["10:00", "14:00"]])),
    ("من الاثنين إلى الجمعة من 9 إلى 18، السبت 10:00-14:00، الأحد مغلق", week(**MON_FRI_9_18,
                                                                          sat=[["10:00", "14:00"]])),
    ("من الثلاثاء إلى السبت من ١٠ إلى ٢٠، الأحد من ١٠ إلى ١٤، الاثنين مغلق", week(**TUE_SAT, sun=[["10:00", "14:00"]])),
    ("مفتوح 24/24 طيلة أيام الأسبوع", week(**{day: ALL_DAY for day in WEEK})),
    ("من التنين حتال الجمعة من 9 د الصباح حتى 7 د العشية، السبت من 10 حتى 2، الحد مسدود",
     week(**{day: [["09:00", "19:00"]] for day in WEEK[:5]}, sat=[["10:00", "14:00"]])),
    ("محلولين من الثلاثاء حتى السبت من 10 حتى 8 د الليل، والحد من 10 حتى 2، التنين سادين",
     week(**TUE_SAT, sun=[["10:00", "14:00"]])),
]


@pytest.mark.parametrize("text, expected", HOURS)
def test_it_reads_the_hours_typed(text, expected):
    assert hours_read(text) == expected


@pytest.mark.parametrize("text", ["", "riad de 12 chambres à Marrakech, vue sur mer", "We have 12 rooms and 3 suites",
                                  "check-in à partir de 14h", "12-15 minutes", "\x00\ud800", "9" * 5000])
def test_it_reads_no_hours_where_there_are_none(text):
    assert hours_read(text) is None


def test_hours_with_no_day_follow_the_sectors_usual_days():
    assert hours_read("Open 9am-5pm", open_days=["mon", "tue"]) == week(mon=[["09:00", "17:00"]],
                                                                      tue=[["09:00", "17:00"]])


def test_it_says_the_week_back_in_each_language():
    read = hours_read("mardi–samedi 10h–20h, dimanche 10h–14h, fermé lundi")
    assert hours_say(read, "en") == "Tuesday–Saturday 10:00–20:00; Sunday 10:00–14:00; Monday closed"
    assert hours_say(read, "fr") == "mardi–samedi 10:00–20:00; dimanche 10:00–14:00; lundi fermé"
    assert "مغلق" in hours_say(read, "ar") and "مسدود" in hours_say(read, "ary")
    assert "cerrado" in hours_say(read, "es")


# --- prices ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("coupe 25€, brushing 20 €, couleur à partir de 45€", ["Coupe: 25 €", "Brushing: 20 €", "Couleur: 45 €"]),
    ("haircut $30, beard trim $15 and shave $20", ["Haircut: $30", "Beard trim: $15", "Shave: $20"]),
    ("corte de pelo 18 euros; tinte desde 35€", ["Corte de pelo: 18 euros", "Tinte: 35 €"]),
    ("تقصيص الشعر 50 درهم، الحنة 100 دراهم", ["تقصيص الشعر: 50 درهم", "الحنة: 100 دراهم"]),
    ("Vidange 350 DH, parallélisme: 200dh", ["Vidange: 350 DH", "Parallélisme: 200 dh"]),
    ("25€ la coupe homme", ["Coupe homme: 25 €"]),
    ("riad de 12 chambres à Marrakech", []),
])
def test_it_reads_the_prices_typed(text, expected):
    assert [price.say() for price in prices_read(text)] == expected


def test_the_prices_typed_land_in_the_faq_in_every_language():
    draft = configure(BusinessInfo(name="Salon Lina", language="fr",
                                   description="Salon de coiffure, coupe 25€, brushing 20€, couleur 45€"))
    assert draft.prices == ["Coupe: 25 €", "Brushing: 20 €", "Couleur: 45 €"]
    assert draft.faq["fr"][0] == {"q": "Quels sont vos tarifs ?", "kind": "prices",
                                  "a": "Nos tarifs : Coupe : 25 €; Brushing : 20 €; Couleur : 45 €."}
    for language in LANGUAGES:  # the sector's "prices vary" answer gives way to the list
        prices = [item for item in draft.faq[language] if item.get("kind") == "prices"]
        assert len(prices) == 1 and "45 €" in prices[0]["a"]
    assert "How much do you charge?" == draft.faq["en"][0]["q"]
    english = configure(BusinessInfo(name="Cuts", description="Hair salon. Haircut $30, colour $80", language="en"))
    assert english.faq["en"][0]["a"] == "Our prices: Haircut: $30; Colour: $80."


# --- the draft and the agent follow the hours typed --------------------------------------------------------------

ISSUE = "Salon de coiffure à Rabat. Horaires : mardi–samedi 10h–20h, dimanche 10h–14h, fermé lundi."


def test_the_draft_keeps_the_hours_typed_not_the_sectors():
    draft = configure(BusinessInfo(name="Salon Lina", description=ISSUE, language="fr"))
    assert draft.hours_source == "typed"
    assert draft.business_hours == week(**TUE_SAT, sun=[["10:00", "14:00"]])
    hours_answer = next(item["a"] for item in draft.faq["fr"] if item["q"] == "Quels sont vos horaires ?")
    assert "dimanche 10:00–14:00" in hours_answer and "lundi fermé" in hours_answer
    assert "Sunday 10:00–14:00" in draft.texts["en"]["instructions"]
    assert not any("horaires" in warning for warning in draft.warnings)
    # the hours field, when filled, wins over the description, and is quoted as typed in the main language
    typed = configure(BusinessInfo(name="S", description=ISSUE, hours="Lun-Ven 9h-18h", language="fr"))
    assert typed.business_hours == week(**MON_FRI_9_18) and "Lun-Ven 9h-18h" in typed.texts["fr"]["instructions"]
    # nothing typed: the sector's usual hours
    usual = configure(BusinessInfo(name="S", description="Salon de coiffure", language="fr"))
    assert usual.hours_source == "sector" and usual.business_hours == SECTOR_HOURS["beauty"]


@pytest.mark.django_db
def test_the_agent_books_on_the_sunday_its_hours_allow(cast):
    """Seen: the FAQ said "dimanche 10h–14h" and the agent refused a Sunday booking."""
    draft = configure(BusinessInfo(name="Salon Lina", description=ISSUE, language="fr"))
    zone = ZoneInfo(cast.client_a.timezone)
    sunday, monday = next_weekday(6, zone), next_weekday(0, zone)
    with tenant_context(cast.client_a):
        agent = agent_create_from_draft(draft=draft, languages=["fr", "en"])
        assert agent.business_hours["sun"] == [["10:00", "14:00"]] and agent.business_hours["mon"] == []
        conversation = conversation_start(agent=agent, channel="widget_text")
        ctx = ToolContext(client=cast.client_a, agent=agent, conversation=conversation, language="fr")
        slots = TOOLS["check_availability"].handler(ctx, {"date": sunday.isoformat()})["slots"]
        assert slots and slots[0].startswith(f"{sunday}T10:00") and all(s[11:16] < "14:00" for s in slots)
        assert TOOLS["check_availability"].handler(ctx, {"date": monday.isoformat()})["slots"] == []
        booked = TOOLS["book_appointment"].handler(ctx, {"start": f"{sunday}T11:00", "name": "Salma Bennani"})
        assert booked["start"].startswith(f"{sunday}T11:00")
        with pytest.raises(InvalidInput):
            TOOLS["book_appointment"].handler(ctx, {"start": f"{monday}T11:00", "name": "Salma Bennani"})
        hours_doc = Document.objects.get(language="fr", title="Quels sont vos horaires ?")
        assert "dimanche 10:00–14:00" in Chunk.objects.filter(document=hours_doc).first().text


def test_a_chosen_sector_replaces_the_detected_one():
    info = BusinessInfo(name="Riad Yasmine", description="Maison avec restaurant et terrasse", language="fr")
    assert configure(info).detection.sector == "restaurant"
    chosen = configure(info, sector_code="hotel")
    assert (chosen.detection.sector, chosen.detection.confidence) == ("hotel", 1.0)
    assert "séjour" in chosen.texts["fr"]["greeting"]
    with pytest.raises(InvalidInput):
        configure(info, sector_code="casino")
