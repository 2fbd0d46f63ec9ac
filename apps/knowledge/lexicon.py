"""Everyday vocabulary of visitors' questions, for the knowledge search (apps.knowledge.selectors) and the
built-in engine's understanding (apps.agents.builtin.nlu): what a lexical engine misses when the visitor
does not use the documents' words.

- ABBREVIATIONS: SMS writing ("rdv", "cb", "stp", "u", "xfa") read as the words they stand for;
- CONCEPTS: the same everyday thing named in the five languages ("loan car" / "véhicule de prêt" / "coche
  de cortesía" / "سيارة بديلة" / "طوموبيل ديال السلف"), merged into the selectors' SUBJECTS;
- EXTRA_STOPWORDS / EXTRA_FILLER: words of a question that say nothing of its subject ("while", "mine",
  "exactly", "is it a problem if…", "بالضبط", "نقدرو");
- PARTS_OF_DAY and COUNT_WORDS: question words answered by a kind of sentence (a time of day, a number);
- arabic_cores: an Arabic / Darija light stemmer, so verb and noun forms meet ("نتعشاو", "كتعشيو", "العشا").

Nothing here is fitted to one business: the words are those of the sectors in apps/agents/sectors/.
This module imports nothing of the project (apps.knowledge.text imports it).
"""

from __future__ import annotations

import re
from functools import lru_cache

# --- SMS abbreviations ----------------------------------------------------------------------------------

# Read whatever the page's language (no word of another language is written so).
ABBREVIATIONS_ANY = {
    "slt": "salut", "bjr": "bonjour", "bsr": "bonsoir", "stp": "svp",
    "pr": "pour", "ds": "dans", "qd": "quand", "qnd": "quand", "cmb": "combien", "cbn": "combien",
    "bcp": "beaucoup", "tjs": "toujours", "dispo": "disponible", "dispos": "disponibles", "rdv": "rendez-vous",
    "rdvs": "rendez-vous", "resa": "réservation", "aprem": "après-midi", "aprèm": "après-midi", "ajd": "aujourd'hui",
    "auj": "aujourd'hui", "dem1": "demain", "2main": "demain", "ptit": "petit", "pti": "petit", "infos": "informations",
    "pls": "please", "plz": "please", "thx": "thanks", "tmrw": "tomorrow", "tmr": "tomorrow", "2moro": "tomorrow",
    "2morrow": "tomorrow", "wat": "what", "wht": "what", "whr": "where", "abt": "about", "appt": "appointment",
    "avail": "available", "b4": "before", "ppl": "people", "wknd": "weekend", "nite": "night", "tonite": "tonight",
    "xfa": "por favor", "porfa": "por favor", "tmb": "también", "tmbn": "también", "dnd": "dónde", "cdo": "cuándo",
    "xq": "porque", "mñn": "mañana", "mñna": "mañana",
}
# Read only in a conversation of that language ("c" is French "c'est"; "u" English "you"; "q" Spanish "que").
ABBREVIATIONS = {
    "fr": {"c": "c'est", "vs": "vous", "ke": "que", "koi": "quoi", "tt": "tout", "pk": "pourquoi", "pq": "pourquoi",
           "mm": "même", "tel": "téléphone", "num": "numéro", "jsp": "je ne sais pas", "cb": "combien"},
    "en": {"u": "you", "ur": "your", "r": "are", "ya": "you", "cn": "can", "hw": "how", "hrs": "hours",
           "mins": "minutes", "tel": "phone"},
    "es": {"q": "que", "k": "que", "ke": "que", "pq": "porque", "tb": "también", "pf": "por favor", "pa": "para",
           "x": "por", "hrs": "horas", "tel": "teléfono"},
}
_TABLES = {language: {word.lower(): words for word, words in (ABBREVIATIONS_ANY | table).items()}
           for language, table in [("", {}), *ABBREVIATIONS.items()]}
# one pattern a language: the abbreviations as whole words (compiled once; a message is scanned once)
_PATTERNS = {language: re.compile(r"(?i)(?<![\w'’-])(" + "|".join(sorted(map(re.escape, table), key=len, reverse=True))
                                  + r")(?![\w'’-])") for language, table in _TABLES.items()}
# "cb" after "la", "en" or "par" is the bank card ("vous prenez la cb ?"), not "combien"
_CARD_CB = re.compile(r"(?i)\b(la|en|par|une|ma|the|by)\s+cb\b")
# "4" said for "for" before a determiner or a day ("how much 4 a haircut", "book 4 tuesday")
_FOR_4 = re.compile(r"(?i)(?<![\d\w])4(?=\s+(?:a|an|the|me|us|my|two|monday|tuesday|wednesday|thursday|friday|"
                    r"saturday|sunday|tomorrow|today|tonight)\b)")


def expand_abbreviations(text: str, language: str = "") -> str:
    """The message with its SMS abbreviations written out ("slt vs avez cb de chambres" → "salut vous avez
    combien de chambres"); with `language`, also that language's ambiguous ones ("c", "u", "q")."""
    if not text:
        return text
    if language not in _TABLES:
        language = ""
    table = _TABLES[language]
    text = _CARD_CB.sub(lambda match: f"{match.group(1)} carte", text) if "cb" in text.lower() else text
    if language == "en" or not language:
        text = _FOR_4.sub("for", text)

    return _PATTERNS[language].sub(lambda match: table[match.group(1).lower()], text)


# --- words that say nothing of the subject -------------------------------------------------------------

# Function words (searched nowhere): connectives, possessives, quantifiers, "still", "around".
EXTRA_STOPWORDS = set("""
plait vers environ encore toujours deja juste vraiment tres bien tout tous toute toutes beaucoup aussi meme
without while mine yours being got still around about just really very too all every also us may might
mientras mio mia mios mias suyo pueden puedes podemos podria podrian todavia aun muy todo todos toda todas
sobre alrededor tambien mucho
حوالي تقريبا ملي مني لما عندما بينما وقتما باقي مازال مزال جدا كل جميع كاع نقدرو تقدرو يقدرو يقدر كنقدرو نستطيع تستطيع
يمكنني يمكننا يمكنكم يمكن
""".split())

# Words that ask about anything ("is it a problem if…", "exactly", "give", "after"): kept out of the
# question's subject (apps.knowledge.selectors.FILLER).
EXTRA_FILLER = set("""
precisement exactement exacte exact precis precise grave probleme genant derange bother matter problem
problema importa pasa passe apres after despues
precisely exactly exact precisamente exactamente exacta concretamente بالضبط بالتحديد تحديدا مضبوط
مشكل مشكله
donnez donner donne give gives giving dan dais dar sirven sirve servez servir serve serves
تعطيو كتعطيو تعطيوني عطيو تعطي يعطي نعطيو تعطون تعطوا تناول توجد يوجد تتوفر يتوفر يتوفرون
vienen viene vienes venimos pedir demander ask need needs ahead besoin necesito necesita
المجيء المجي القدوم الذهاب الناس gens gente people
""".split())

# Phrases read as one word (or none) before the search (merged into apps.knowledge.selectors.PHRASES).
EXTRA_PHRASES = {
    "apres-midi": "apresmidi", "apres midi": "apresmidi", "en fin de journee": "soir", "bon apres midi": "",
    "en tout": "", "au total": "", "in total": "", "en total": "", "altogether": "", "في المجموع": "",
    "فالمجموع": "", "pick us up": "pickup", "pick me up": "pickup", "pick up": "pickup", "picking up": "pickup",
    "get in": "arrive", "get there": "arrive", "get here": "arrive", "get to you": "arrive",
    "walk in": "without appointment", "walk-in": "without appointment", "drop in": "without appointment",
    "sin pedir cita": "sin cita", "sans prendre rendez vous": "sans rendez vous", "sans prendre rendez-vous":
    "sans rendez-vous", "without booking": "without appointment", "sin reservar": "sin cita",
    "petit dej": "dejeuner", "p tit dej": "dejeuner", "ptit dej": "dejeuner", "bien etre": "spa",
    "se garer": "garer", "changer l'huile": "vidange", "changer l huile": "vidange",
    "changement d'huile": "vidange", "changement d huile": "vidange", "faire la vidange": "vidange",
    "car park": "parking", "parking lot": "parking", "wi fi": "wifi", "wi-fi": "wifi",
    "بعد الظهر": "الظهر", "بعد الزوال": "الظهر",
}

# --- kinds of answers ------------------------------------------------------------------------------------

# Parts of the day: the sentence giving that day's hours answers them (the clock kind of answer).
PARTS_OF_DAY = set("""
matin matinee apresmidi soir soiree nuit midi morning afternoon evening night noon tonight manana tarde noche
mediodia madrugada الصباح صباح صباحا فالصباح العشيه عشيه فالعشيه المساء مساء مساءا فالليل الليل ليلا الظهر ظهرا
فالظهر الزوال
""".split())
# "how many": answered by a sentence holding a number (the count kind of answer)
COUNT_WORDS = set("many cuantos cuantas عدد".split())
COUNT_PATTERN = re.compile(r"(?<![\w.,])\d{1,4}\s+[^\W\d_]{3,}|(?:^|\s)(?:deux|trois|quatre|cinq|six|sept|huit|"
                           r"neuf|dix|douze|two|three|four|five|six|seven|eight|nine|ten|twelve|dos|tres|cuatro|"
                           r"cinco|seis|siete|ocho|nueve|diez|doce)\s+[^\W\d_]{3,}")
# Times of day written in words the selectors' clock pattern does not hold ("منتصف الليل", "نص الليل")
CLOCK_WORDS_PATTERN = r"منتصف الليل|نص الليل|لنص الليل|منتصف النهار|الزوال|\b(?:mezzanotte|minuit|midnight)\b"
# "how long does it last?": a sentence holding a duration answers it (the duration kind of answer)
DURATION_WORDS = set("dure durent durer dura duran durar last lasts lasting يدوم كيدوم تدوم كتدوم مده المده".split())
DURATION_PATTERN = re.compile(r"(?:\d+|\b(?:un|une|deux|trois|quatre|six|douze|one|two|three|four|six|twelve|uno|una|"
                              r"dos|tres|cuatro|seis|doce|ستة|سته|ثلاثة|ثلاثه|جوج|زوج)\b)[\s-]*(?:an|ans|annee|annees|"
                              r"mois|semaines?|jours?|heures?|minutes?|years?|months?|weeks?|days?|hours?|minutes?|anos?|"
                              r"meses?|semanas?|dias?|horas?|minutos?|سنه|سنوات|اشهر|شهور|شهر|اسابيع|ايام|يوم|ساعه|"
                              r"ساعات|دقيقه|دقائق|دقايق|كيلومتر)|\bheure\b|\bhour\b|\bhora\b|ساعه")
# More words that ask where (the place kind of answer: a passage holding a street answers them).
PLACE_WORDS = set("ubicado ubicados ubicada ubicadas encuentran encuentra situado situada situee localisation "
                  "emplacement location جاي جايين".split())
# A time of day written in the question ("23h", "11pm", "22h30"): the clock kind of answer.
TIME_TERM = re.compile(r"^\d{1,2}(?:h\d{0,2}|[ap]m)$")

# --- concepts --------------------------------------------------------------------------------------------

# The same everyday thing in the five languages. A line sharing a word with one of SUBJECTS extends it;
# any other line is a new concept (merge_concepts).
CONCEPTS = [
    # garage and travel
    "voiture voitures vehicule vehicules auto autos car cars vehicle vehicles coche coches carro carros vehiculo "
    "vehiculos سياره السياره سيارات السيارات طوموبيل الطوموبيل الطوموبيلات طونوبيل",
    "pret remplacement courtoisie preter pretez pretent lend lends lending borrow loaner loan courtesy "
    "prestar prestan presta prestamo sustitucion بديله البديله بديل السلف سلف",
    "reparation reparer reparez reparent reparan reparen arreglar arreglan arreglo arreglen fixing fix repair "
    "تصليح نصلحو كتصلحو يصلح تصلحو الاصلاح",
    "batterie batteries battery batteries bateria baterias البطاريه بطاريه الباتري باطري",
    "remorquage depannage depanneuse tow towing grua remolque الدوباناج دباناج",
    "facture factures invoice invoices bill receipt factura facturas recibo فاتوره الفاتوره",
    "assurance assurances insurance seguro seguros التامين تامين لاسورونس",
    "domicile home house casa domicilio المنزل المنازل للدار",
    # where: a street's words ("¿Dónde están?" searched with "calle", "derb"…)
    "adresse address direccion rue avenue boulevard street road calle avenida derb شارع زنقه درب",
    # hotel, riad, restaurant
    "chambre chambres bedroom bedrooms room rooms cuarto cuartos dormitorio dormitorios habitacion habitaciones",
    "diner dinner cenar cenamos dinons dinez نتعشاو تتعشاو كتعشيو تعشيو وجبه وجبات العشاء",
    "piscine baigner baignade nager pool swim swimming nadar banarse سباحه السباحه نعومو نعوم العوم عوم",
    "wifi internet connexion connection conexion ويفي الويفي انترنت الانترنت",
    "chauffage chauffee chauffe heating heated heater calefaccion calentada تدفئه مدفا سخون الشوفاج",
    "hammam hamam حمام الحمام",
    "massage massages masaje masajes تدليك مساج المساج",
    "serviette serviettes towel towels toalla toallas فوطه فوط",
    "linge lessive laundry washing lavanderia غسيل الصبين",
    "enfant enfants bebe bebes kids kid child children baby babies nino ninos اطفال الاطفال طفل الدراري الولاد",
    "handicap handicape fauteuil wheelchair disabled accesible discapacidad الاعاقه كرسي",
    "fumer fumeur fumeurs smoke smoking fumar fumadores التدخين تدخين نكمي",
    "vegetarien vegetarienne vegetarian vegan vegano vegetariano نباتي نباتيه",
    "alcool alcohol vin wine vino الكحول الشراب",
    "terrasse terrace rooftop terraza السطح التراس",
    "transfert transfer transfers traslado navette shuttle النقل التوصيله",
    "proche proximite pres loin far lejos lejano walk walking pied caminar بعيد بعيده مشيا رجليك",
    # payment and booking rules
    "payer paiement carte cartes especes liquide cheque cheques virement pay payment card cards cash cheque "
    "visa mastercard pagar pago tarjeta tarjetas efectivo دفع الدفع نخلص الخلاص بطاقه "
    "البطاقه كارط الكارط الكاش كاش نقدا فيزا الفيزا الشيك شيك الشيكات الفيرمون",
    "rendez reservation reservations appointment appointments book booking bookings reserva reservas cita citas موعد "
    "الموعد رونديفو",
    "acompte arrhes deposit senal عربون عربونا تسبيق التسبيق",
    "annulation annuler cancel cancellation cancelar cancelacion الغاء الالغاء نلغي تلغي",
    "cadeau cadeaux gift gifts regalo regalos هديه هدايا الكادو كادو",
    "prix tarif tarifs rate rates fee fees frais tarifa tarifas coste costo",
    # hair and beauty
    "barbe beard barba لحيه اللحيه الدقن",
    "brushing blowdry blow secado brushing البروشينغ تجفيف سشوار",
    "maquillage makeup maquillaje مكياج المكياج الماكياج ماكياج",
    "epilation epiler waxing wax depilacion depilar cera ازاله الحلاوه الشمع",
    "sourcils eyebrow eyebrows cejas الحاجبين حواجب الحجبان",
    # fitness, real estate, legal, shop, health
    "salle gym fitness musculation gimnasio جيم",
    "coach trainer مدرب الكوتش",
    "loyer louer louons louez loue rent renting rental hire hiring alquilar alquilan alquiler alquilais كراء "
    "الكراء نكري كتكريو تكريو",
    "apartment apartments flat piso apartamento شقه الشقه الشقق",
    "comptable comptabilite accountant accounting contador contabilidad محاسب المحاسبه",
    "impots impot tax taxes impuestos ضرائب الضريبه الضرائب",
    "retour retours rembourser remboursement return returns refund reembolso devolucion استرجاع ترجيع",
    "taille tailles size sizes talla tallas مقاس المقاس القياس",
    "urgence urgences emergency emergencies urgencia urgencias الطوارئ مستعجل",
    "courriel email mail correo ايميل الايميل البريد",
]


def merge_concepts(subjects: list[str], concepts: list[str], normalise: object) -> list[str]:
    """`subjects` (lines of words) with `concepts` merged in: a concept sharing a word with a line extends
    that line, any other concept is a new line. The order of `subjects` is kept (its indices are used)."""
    merged = list(subjects)
    owner: dict[str, int] = {}
    for index, line in enumerate(merged):
        for word in line.split():
            owner.setdefault(normalise(word), index)  # type: ignore[operator]
    for concept in concepts:
        words = concept.split()
        index = next((owner[normalise(word)] for word in words if normalise(word) in owner), None)  # type: ignore[operator]
        if index is None:
            merged.append(concept)
            index = len(merged) - 1
        else:
            known = set(merged[index].split())
            extra = [word for word in words if word not in known]
            if extra:
                merged[index] = f"{merged[index]} {' '.join(extra)}"
        for word in words:
            owner.setdefault(normalise(word), index)  # type: ignore[operator]
    return merged


# --- Arabic and Darija light stemming --------------------------------------------------------------------

_ARTICLES = ("وبال", "وال", "فال", "بال", "كال", "لل", "ال")
_VERB_PREFIXES = ("كن", "كت", "كي", "تي", "غادي ")
_SUFFIXES = ("تهم", "تها", "ونا", "ين", "ون", "ات", "وا", "ها", "هم", "كم", "نا", "و", "ي", "ه")
_WEAK_END = re.compile(r"[اىيوء]+$")


@lru_cache(maxsize=65536)
def arabic_cores(word: str) -> frozenset[str]:
    """The light stems of an Arabic-script word (normalised): without the conjunction, article or
    preposition it opens with, a verb's person and tense ("كت", "ن", "ت"), one ending ("ين", "ون", "ات",
    "و", "ها"…), and with its last weak letter written one way: "نتعشاو", "كتعشيو" and "العشا" all give
    "عشي"; "السيارات" and "سيارة" give "سيار". Stems shorter than three letters are not given."""
    if not word or not ("\u0600" <= word[0] <= "\u06ff") or len(word) < 3:
        return frozenset()
    forms: set[str] = set()
    bases = {word}
    if word[0] in "وف" and len(word) > 4:
        bases.add(word[1:])
    for base in list(bases):
        for article in _ARTICLES:
            if base.startswith(article) and len(base) - len(article) >= 3:
                bases.add(base[len(article):])
                break
        for prefix in _VERB_PREFIXES:
            if base.startswith(prefix) and len(base) - len(prefix) >= 3:
                bases.add(base[len(prefix):])
                break
    for base in list(bases):
        if base[0] in "نتي" and len(base) >= 5:  # a verb's person ("نتعشاو"), and form V's "ت" after it
            bases.add(base[1:])
            if base[1] == "ت" and len(base) >= 6:
                bases.add(base[2:])
    for base in bases:
        stripped = [base]
        for suffix in _SUFFIXES:
            if base.endswith(suffix) and len(base) - len(suffix) >= 3:
                stripped.append(base[: -len(suffix)])
                break
        for form in stripped:
            core = _WEAK_END.sub("", form)
            core = core + "ي" if core != form else core
            if len(core) >= 3:
                forms.add(core)
    return frozenset(forms)
