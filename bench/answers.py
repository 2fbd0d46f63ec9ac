"""Answer quality of the built-in engine, through the widget's HTTP API (issue 10).

    .venv/bin/python bench/answers.py

Three throw-away clients of different sectors (a dental clinic, a hair salon, a car repair shop),
each with its own documents written by hand in fr, en, es, ar and ary, and a daphne serving the
widget API. Each question is labelled with the fact its answer must hold, or with none when the
documents cannot answer it (the agent must say it does not know). Booking: a request for the next
day at a free hour, then the name and phone in one message; success when a reference comes back.

First version: 4 answerable and 2 unanswerable questions per business and language (18 a language)
and one booking per business and language — fewer than the issue's 40 a language.
Last line: {"accuracy": {…}, "wrong": {…}, "honest_miss": {…}, "booking": {…}, "p99_ms": …}
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

import _setup  # noqa: F401
from _clients import bench_client
from _setup import emit, percentile
from cryptography.fernet import Fernet
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context
from widget import ORIGIN, free_port

from apps.agents.models import WEEKDAYS, Agent
from apps.agents.tools import TOOLS
from apps.clients.models import ApiKey
from apps.knowledge.services import documents_import
from apps.widget.services import widget_origins_set
from scripts.web import listen, start_daphne

LANGUAGES = ["fr", "en", "es", "ar", "ary"]

# business -> language -> (documents [(title, text)], questions [(question, fact or None)])
BUSINESSES: dict[str, dict[str, tuple[list[tuple[str, str]], list[tuple[str, str | None]]]]] = {
    "dental": {
        "fr": ([("Horaires du cabinet", "Le cabinet est ouvert du lundi au vendredi de 8h30 à 17h30."),
                ("Tarifs", "Un détartrage coûte 400 dirhams et une consultation 250 dirhams."),
                ("Adresse", "Le cabinet se trouve 14 avenue Hassan II à Rabat."),
                ("Paiement", "Nous acceptons les espèces et les cartes bancaires, pas les chèques.")],
               [("Quels sont vos horaires ?", "17h30"), ("Combien coûte un détartrage ?", "400"),
                ("Quelle est votre adresse ?", "Hassan II"), ("Je peux payer par carte bancaire ?", "cartes bancaires"),
                ("Vous faites des cartes cadeaux ?", None), ("Vous vendez des lunettes ?", None)]),
        "en": ([("Clinic hours", "The clinic is open Monday to Friday from 8:30am to 5:30pm."),
                ("Prices", "A scale and polish costs 400 dirhams and a consultation 250 dirhams."),
                ("Address", "The clinic is at 14 Hassan II Avenue in Rabat."),
                ("Payment", "We accept cash and bank cards, not cheques.")],
               [("What are your opening hours?", "5:30pm"), ("How much does a consultation cost?", "250"),
                ("What is your address?", "Hassan II"), ("Can I pay by card?", "bank cards"),
                ("Do you sell gift cards?", None), ("Do you offer teeth whitening kits for pets?", None)]),
        "es": ([("Horario de la clínica", "La clínica abre de lunes a viernes de 8:30 a 17:30."),
                ("Precios", "Una limpieza cuesta 400 dírhams y una consulta 250 dírhams."),
                ("Dirección", "La clínica está en la avenida Hassan II 14, en Rabat."),
                ("Pago", "Aceptamos efectivo y tarjetas bancarias, no cheques.")],
               [("¿Cuál es el horario?", "17:30"), ("¿Cuánto cuesta una consulta?", "250"),
                ("¿Cuál es la dirección?", "Hassan II"), ("¿Puedo pagar con tarjeta?", "tarjetas"),
                ("¿Venden tarjetas regalo?", None), ("¿Tienen servicio de guardería?", None)]),
        "ar": ([("أوقات العمل", "العيادة مفتوحة من الاثنين إلى الجمعة من الساعة 8:30 إلى 17:30."),
                ("الأسعار", "تنظيف الأسنان بـ 400 درهم والاستشارة بـ 250 درهما."),
                ("العنوان", "توجد العيادة في 14 شارع الحسن الثاني بالرباط."),
                ("الدفع", "نقبل الدفع نقدا وبالبطاقات البنكية، ولا نقبل الشيكات.")],
               [("ما هي أوقات العمل؟", "17:30"), ("كم سعر الاستشارة؟", "250"), ("ما هو عنوان العيادة؟", "الحسن الثاني"),
                ("هل يمكنني الدفع بالبطاقة؟", "البطاقات البنكية"), ("هل تبيعون بطاقات الهدايا؟", None),
                ("هل لديكم خدمة توصيل الأدوية؟", None)]),
        "ary": ([("الوقت ديال الخدمة", "العيادة محلولة من الاثنين حتى الجمعة من 8:30 حتى 17:30."),
                 ("الأثمنة", "التنظيف ديال السنان ب 400 درهم والكونسلطاسيون ب 250 درهم."),
                 ("العنوان", "العيادة كاينة ف 14 شارع الحسن الثاني فالرباط."),
                 ("الخلاص", "كنقبلو الكاش والكارط البنكية، ماكنقبلوش الشيك.")],
                [("امتى كتحلو؟", "17:30"), ("شحال الكونسلطاسيون؟", "250"), ("فين كاينة العيادة؟", "الحسن الثاني"),
                 ("واش نقدر نخلص بالكارط؟", "الكارط"), ("واش كتبيعو كارطات ديال الكادو؟", None),
                 ("واش عندكم الباركينغ ديال الطوموبيلات الكبار؟", None)]),
    },
    "salon": {
        "fr": ([("Horaires", "Le salon est ouvert du mardi au samedi de 10h à 20h."),
                ("Prix", "Une coupe femme coûte 180 dirhams, une coupe homme 90 dirhams."),
                ("Adresse", "Le salon est au 3 rue Ibn Battouta à Casablanca."),
                ("Produits", "Nous utilisons des produits sans sulfate.")],
               [("Vous êtes ouverts à quelle heure ?", "10h"), ("Combien coûte une coupe homme ?", "90"),
                ("Où se trouve le salon ?", "Ibn Battouta"), ("Quels produits utilisez-vous ?", "sans sulfate"),
                ("Vous faites des tatouages ?", None), ("Vous avez une piscine ?", None)]),
        "en": ([("Opening hours", "The salon is open Tuesday to Saturday from 10am to 8pm."),
                ("Prices", "A women's haircut costs 180 dirhams, a men's haircut 90 dirhams."),
                ("Address", "The salon is at 3 Ibn Battouta Street in Casablanca."),
                ("Products", "We use sulfate-free products.")],
               [("When are you open?", "10am"), ("How much is a men's haircut?", "90"),
                ("Where is the salon?", "Ibn Battouta"), ("What products do you use?", "sulfate-free"),
                ("Do you do tattoos?", None), ("Do you have a swimming pool?", None)]),
        "es": ([("Horario", "El salón abre de martes a sábado de 10 a 20 h."),
                ("Precios", "Un corte de mujer cuesta 180 dírhams, un corte de hombre 90 dírhams."),
                ("Dirección", "El salón está en la calle Ibn Battouta 3, en Casablanca."),
                ("Productos", "Usamos productos sin sulfatos.")],
               [("¿Qué horario tienen?", "10 a 20"), ("¿Cuánto cuesta un corte de hombre?", "90"),
                ("¿Dónde está el salón?", "Ibn Battouta"), ("¿Qué productos usan?", "sin sulfatos"),
                ("¿Hacen tatuajes?", None), ("¿Tienen piscina?", None)]),
        "ar": ([("أوقات العمل", "الصالون مفتوح من الثلاثاء إلى السبت من الساعة 10 إلى الساعة 20."),
                ("الأسعار", "قصة الشعر للنساء بـ 180 درهما وللرجال بـ 90 درهما."),
                ("العنوان", "يقع الصالون في 3 شارع ابن بطوطة بالدار البيضاء."),
                ("المنتجات", "نستعمل منتجات خالية من السلفات.")],
               [("ما هي أوقات العمل؟", "20"), ("كم سعر قصة الشعر للرجال؟", "90"), ("أين يقع الصالون؟", "ابن بطوطة"),
                ("ما هي المنتجات التي تستعملونها؟", "السلفات"), ("هل تقومون بالوشم؟", None),
                ("هل لديكم مسبح؟", None)]),
        "ary": ([("الوقت ديال الخدمة", "الصالون محلول من التلات حتى السبت من 10 حتى 20."),
                 ("الأثمنة", "الحسانة ديال العيالات ب 180 درهم وديال الرجال ب 90 درهم."),
                 ("العنوان", "الصالون كاين ف 3 زنقة ابن بطوطة فكازا."),
                 ("البرودوي", "كنخدمو ببرودوي بلا سولفات.")],
                [("امتى كتحلو؟", "10"), ("شحال الحسانة ديال الرجال؟", "90"), ("فين كاين الصالون؟", "ابن بطوطة"),
                 ("شنو البرودوي لي كتخدمو بيه؟", "سولفات"), ("واش كديرو الوشم؟", None),
                 ("واش عندكم البيسين؟", None)]),
    },
    "garage": {
        "fr": ([("Horaires", "Le garage est ouvert du lundi au samedi de 8h à 19h."),
                ("Vidange", "Une vidange complète coûte 350 dirhams, pièces comprises."),
                ("Adresse", "Le garage est situé 45 boulevard Zerktouni à Marrakech."),
                ("Garantie", "Nos réparations sont garanties six mois.")],
               [("Quels sont vos horaires ?", "19h"), ("Combien coûte une vidange ?", "350"),
                ("Où est le garage ?", "Zerktouni"), ("Vos réparations sont garanties ?", "six mois"),
                ("Vous vendez des vélos ?", None), ("Vous louez des camping-cars ?", None)]),
        "en": ([("Opening hours", "The garage is open Monday to Saturday from 8am to 7pm."),
                ("Oil change", "A full oil change costs 350 dirhams, parts included."),
                ("Address", "The garage is at 45 Zerktouni Boulevard in Marrakech."),
                ("Warranty", "Our repairs come with a six-month warranty.")],
               [("What are your opening hours?", "7pm"), ("How much is an oil change?", "350"),
                ("Where is the garage?", "Zerktouni"), ("Do your repairs have a warranty?", "six-month"),
                ("Do you sell bicycles?", None), ("Do you rent camper vans?", None)]),
        "es": ([("Horario", "El taller abre de lunes a sábado de 8 a 19 h."),
                ("Cambio de aceite", "Un cambio de aceite completo cuesta 350 dírhams, piezas incluidas."),
                ("Dirección", "El taller está en el bulevar Zerktouni 45, en Marrakech."),
                ("Garantía", "Nuestras reparaciones tienen una garantía de seis meses.")],
               [("¿Cuál es su horario?", "8 a 19"), ("¿Cuánto cuesta un cambio de aceite?", "350"),
                ("¿Dónde está el taller?", "Zerktouni"), ("¿Las reparaciones tienen garantía?", "seis meses"),
                ("¿Venden bicicletas?", None), ("¿Alquilan autocaravanas?", None)]),
        "ar": ([("أوقات العمل", "المرآب مفتوح من الاثنين إلى السبت من الساعة 8 إلى الساعة 19."),
                ("تغيير الزيت", "تغيير الزيت الكامل بـ 350 درهما مع قطع الغيار."),
                ("العنوان", "يقع المرآب في 45 شارع الزرقطوني بمراكش."),
                ("الضمان", "إصلاحاتنا مضمونة لمدة ستة أشهر.")],
               [("ما هي أوقات العمل؟", "19"), ("كم سعر تغيير الزيت؟", "350"), ("أين يقع المرآب؟", "الزرقطوني"),
                ("هل الإصلاحات مضمونة؟", "ستة أشهر"), ("هل تبيعون الدراجات؟", None),
                ("هل تؤجرون الشاحنات؟", None)]),
        "ary": ([("الوقت ديال الخدمة", "الكراج محلول من الاثنين حتى السبت من 8 حتى 19."),
                 ("الفيدونج", "الفيدونج كامل ب 350 درهم مع البياسات."),
                 ("العنوان", "الكراج كاين ف 45 شارع الزرقطوني فمراكش."),
                 ("الضمانة", "الإصلاحات ديالنا مضمونة ستة شهور.")],
                [("امتى كتحلو؟", "19"), ("شحال الفيدونج؟", "350"), ("فين كاين الكراج؟", "الزرقطوني"),
                 ("واش الإصلاحات مضمونة؟", "ستة شهور"), ("واش كتبيعو البشكليطات؟", None),
                 ("واش كتكريو الكاميوات؟", None)]),
    },
}
# a different hour per language: each books the same business's next day
BOOKING = {"fr": "Je voudrais un rendez-vous demain à 10h", "en": "I'd like to book an appointment tomorrow at 2pm",
           "es": "Quisiera una cita mañana a las 12", "ar": "أريد حجز موعد غدا الساعة 4 مساء",
           "ary": "بغيت ناخد موعد غدوة مع 8 الصباح"}
CONTACT = "Salma Bennani, 0661234567"


def dont_know(language: str) -> list[str]:
    with translation.override(language):
        return [_("I don't have that information. I can put you in touch with our team, arrange a callback "
                  "or take a message: what would you prefer?"),
                _("I don't have that information. Would you like me to put you in touch with our team?"),
                _("I don't have that information, sorry.")]


def main() -> None:
    import contextlib

    import httpx

    results: dict[str, dict[str, int]] = {lang: {"asked": 0, "answerable": 0, "correct": 0, "wrong": 0,
                                                 "unanswerable": 0, "honest": 0, "bookings": 0, "booked": 0}
                                          for lang in LANGUAGES}
    samples: list[float] = []
    failures: list[str] = []
    with contextlib.ExitStack() as stack:
        keys = {}
        for business, by_language in BUSINESSES.items():
            client = stack.enter_context(bench_client(f"bench-answers-{business}"))
            widget_origins_set(client=client, origins=[ORIGIN])
            with tenant_context(client):
                Agent.objects.create(name=business, languages=LANGUAGES, default_language="fr", tools=list(TOOLS),
                                     texts={"fr": {"greeting": "Bonjour !", "closing": "Au revoir"}},
                                     handover_phone="+212500000000",
                                     business_hours={day: [["08:00", "20:00"]] for day in WEEKDAYS})
                for language, (documents, _questions) in by_language.items():
                    documents_import(rows=[{"title": title, "text": text} for title, text in documents],
                                     language=language)
            keys[business] = ApiKey.objects.get(client=client, kind=ApiKey.Kind.PUBLISHABLE,
                                                revoked_at__isnull=True).lookup
        port = free_port()
        env = dict(os.environ, WIDGET_VISITOR_MESSAGES_PER_MINUTE="100000000", LOG_LEVEL="WARNING",
                   DJANGO_SETTINGS_MODULE="vocalia.settings", DEBUG="false", SECRET_KEY="bench-" + "x" * 50,
                   FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(), ALLOWED_HOSTS="127.0.0.1,localhost")
        listening = listen("127.0.0.1", port)
        servers = start_daphne(listening, 1, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(listening.close)
        stack.callback(lambda: [server.terminate() for server in servers])
        base = f"http://127.0.0.1:{port}"
        for _attempt in range(300):
            try:
                httpx.get(base + "/widget/v1/config", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30) as http:
            def open_conversation(key: str, language: str) -> dict[str, str]:
                headers = {"X-Vocalia-Key": key, "Origin": ORIGIN, "Accept": "application/json"}
                response = http.post("/widget/v1/conversations", json={"language": language, "visitor": "bench"},
                                     headers=headers)
                response.raise_for_status()
                return headers | {"X-Vocalia-Token": response.json()["token"]}

            def ask(headers: dict[str, str], text: str) -> str:
                started = time.perf_counter()
                response = http.post("/widget/v1/messages", json={"text": text}, headers=headers)
                samples.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                return str(response.json().get("reply", ""))

            for business, by_language in BUSINESSES.items():
                for language, (_documents, questions) in by_language.items():
                    row = results[language]
                    misses = dont_know(language)
                    for question, fact in questions:
                        reply = ask(open_conversation(keys[business], language), question)
                        row["asked"] += 1
                        honest = any(miss in reply for miss in misses)
                        if fact is None:
                            row["unanswerable"] += 1
                            row["honest"] += honest
                            row["wrong"] += not honest
                            if not honest:
                                failures.append(f"{business}/{language} {question!r} -> {reply[:100]!r}")
                        else:
                            row["answerable"] += 1
                            correct = fact in reply
                            row["correct"] += correct
                            row["wrong"] += not correct and not honest
                            if not correct:
                                failures.append(f"{business}/{language} {question!r} [{fact}] -> {reply[:100]!r}")
                    headers = open_conversation(keys[business], language)
                    replies = [ask(headers, BOOKING[language])]
                    for _turn in range(3):
                        if "RDV-" in replies[-1]:
                            break
                        replies.append(ask(headers, CONTACT if len(replies) == 1 else "1"))
                    row["bookings"] += 1
                    row["booked"] += "RDV-" in replies[-1]
                    if "RDV-" not in replies[-1]:
                        failures.append(f"{business}/{language} booking -> {[r[:80] for r in replies]!r}")

    def share(part: int, whole: int) -> float:
        return round(part / whole, 3) if whole else 0.0

    figures: dict[str, Any] = {
        "accuracy": {lang: share(r["correct"], r["answerable"]) for lang, r in results.items()},
        "wrong": {lang: share(r["wrong"], r["asked"]) for lang, r in results.items()},
        "honest_miss": {lang: share(r["honest"], r["unanswerable"]) for lang, r in results.items()},
        "booking": {lang: share(r["booked"], r["bookings"]) for lang, r in results.items()},
        "p99_ms": round(percentile(samples, 99), 1) if samples else 0.0}
    for failure in failures:
        print("miss:", failure)
    for lang, r in results.items():
        print(f"{lang}: {r['asked']} questions, accuracy {figures['accuracy'][lang]}, wrong {figures['wrong'][lang]}, "
              f"honest miss {figures['honest_miss'][lang]}, booking {r['booked']}/{r['bookings']}")
    emit(figures)


if __name__ == "__main__":
    main()
