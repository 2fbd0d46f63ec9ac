"""Language understanding for the built-in engine: language, intents and slots, in fr, en, es, ar, ary.

Deterministic and fast: normalised text (apps.knowledge.text.normalise: lower case, no Latin
accents, Arabic letter variants unified) matched against small lexicons. Darija is told from
Arabic by its own words (واش، بغيت، ديال، شحال، دابا…).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from apps.knowledge.text import normalise as _normalise_for_search


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Search normalisation, plus hyphens and apostrophes as spaces ("rendez-vous", "aujourd'hui").
    Cached: the lexicons' words are normalised on every message."""
    return _SPACES.sub(" ", _SEPARATORS.sub(" ", _normalise_for_search(text))).strip()


_SPACES, _SEPARATORS = re.compile(r"\s+"), re.compile(r"[-'’`]")


@lru_cache(maxsize=4096)
def _word(phrase: str, spaces_only: bool = False) -> re.Pattern[str]:
    """The phrase (normalised) as a whole word or words: compiled once (the lexicons hold more phrases than
    the `re` module's cache, which recompiled them on every message)."""
    edge = r"\s" if spaces_only else r"\W"
    return re.compile(rf"(^|{edge}){re.escape(normalise(phrase))}($|{edge})")

LATIN_STOPWORDS = {
    "fr": {"le", "la", "les", "de", "des", "du", "je", "vous", "est", "et", "un", "une", "pour", "pas", "que",
           "bonjour", "merci", "rendez", "voudrais", "quel", "quels", "quelle", "avez", "ouvert", "combien",
           "au", "aux", "ce", "mon", "ma", "mes", "nous", "suis", "sur", "avec", "dans", "c", "j", "l", "d",
           "demain", "oui", "non", "bien", "tres", "prix", "heure", "heures", "samedi", "lundi", "ou", "peut",
           "peux", "etes", "faites", "vos", "votre", "est ce", "coute", "quand", "jusqu", "il", "on", "se", "y",
           "sont", "faire", "venir", "chez", "aussi", "ouverts", "dimanche", "mardi", "jeudi", "soir"},
    "en": {"the", "a", "an", "is", "are", "i", "you", "and", "to", "of", "for", "do", "does", "what", "when",
           "hello", "hi", "thanks", "thank", "please", "my", "can", "book", "appointment", "open", "how", "much",
           "would", "like", "with", "tomorrow", "yes", "no", "your", "it", "in", "on", "at", "me", "need",
           "where", "there", "cost", "costs", "price", "have", "get", "any", "until", "time", "free", "we", "our",
           "sunday", "saturday", "monday", "which", "many", "from", "this", "that", "will", "be"},
    "es": {"el", "la", "los", "las", "de", "del", "y", "que", "un", "una", "para", "por", "es", "hola",
           "gracias", "quiero", "quisiera", "cita", "cuanto", "cuesta", "abierto", "mi", "me", "con", "en",
           "manana", "si", "usted", "tienen", "horario", "reservar", "puedo", "al", "lo", "su", "hay", "buenos",
           "donde", "esta", "estan", "cuando", "hasta", "hacen", "venden", "precio", "cual", "como", "sus",
           "domingo", "sabado", "lunes", "abren", "vale", "gratis", "se", "pueden", "tengo", "necesito"},
}
DARIJA_MARKERS = {"واش", "بغيت", "بغيتي", "ديال", "شحال", "دابا", "كيفاش", "فين", "شنو", "علاش", "مزيان",
                  "بزاف", "غادي", "واخا", "كاين", "كاينه", "ماشي", "عندكم", "نديرو", "نبغي", "ليوم", "غدوه",
                  "سميتي", "ديالي", "ديالكم", "حتى", "هادشي", "بلا", "لابس", "الله يخليك", "عافاك", "صافي",
                  "شكون", "امتى", "فوقاش", "نقدر", "كنبغي", "بغينا", "خاصني", "خصني", "لا لا", "اه", "ايه"}
# Darija words that MSA writes too ("حتى" until, "عندكم" at yours, "بلا" without): half a marker each, so
# "هل يمكننا البقاء حتى الساعة الواحدة؟" stays MSA and is answered in MSA.
SHARED_MARKERS = {"حتى", "عندكم", "بلا", "اه"}
MSA_MARKERS = {"هل", "ماذا", "أريد", "اريد", "لديكم", "لدي", "يمكنني", "أود", "اود", "التي", "الذي", "هذا", "هذه",
               "ليس", "لماذا", "متى", "أين", "كيف", "سوف", "حضرتك", "نريد", "ما هي", "ما هو", "يجب", "يمكن"}
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def detect_language(text: str, fallback: str = "fr") -> tuple[str, float]:
    """(language, confidence 0-1) among fr, en, es, ar, ary."""
    raw = text or ""
    letters = [ch for ch in raw if ch.isalpha()]
    if not letters:
        return fallback, 0.0
    arabic_share = sum(1 for ch in letters if ARABIC_SCRIPT.match(ch)) / len(letters)
    words = re.findall(r"\w+", normalise(raw))
    if arabic_share > 0.5:
        text_norm = " ".join(words)
        darija = sum(0.5 if marker in SHARED_MARKERS else 1 for marker in DARIJA_MARKERS
                     if _word(marker, True).search(text_norm))
        msa = sum(1 for marker in MSA_MARKERS if _word(marker, True).search(text_norm))
        if darija >= 1 and darija >= msa:
            return "ary", min(1.0, 0.6 + 0.2 * darija)
        if msa:
            return "ar", min(1.0, 0.6 + 0.2 * msa)
        if fallback not in {"ar", "ary"}:  # Arabic script typed on a Latin-language conversation
            return "ar", 0.9
        return ("ary" if fallback == "ary" else "ar"), 0.6
    # a word several languages share ("de", "on", "no") counts for each of them by a share
    scores = dict.fromkeys(LATIN_STOPWORDS, 0.0)
    for word in words:
        owners = [lang for lang, stop in LATIN_STOPWORDS.items() if word in stop]
        for lang in owners:
            scores[lang] += 1 / len(owners)
    best = max(scores, key=lambda lang: (scores[lang], lang == fallback))
    total = sum(scores.values())
    if not total:
        return (fallback if fallback in scores else "fr"), 0.0
    return best, round(scores[best] / total, 3)


# --- intents -------------------------------------------------------------------------------------------

INTENTS: dict[str, dict[str, list[str]]] = {
    "greet": {
        "fr": ["bonjour", "bonsoir", "salut", "coucou"], "en": ["hello", "hi", "hey", "good morning",
                                                                 "good afternoon", "good evening"],
        "es": ["hola", "buenos dias", "buenas tardes", "buenas noches"],
        "ar": ["مرحبا", "السلام عليكم", "اهلا", "صباح الخير", "مساء الخير"],
        "ary": ["السلام", "سلام", "مرحبا", "اهلا", "صباح الخير", "مساء الخير", "لباس"]},
    "thanks": {
        "fr": ["merci"], "en": ["thanks", "thank you", "cheers"], "es": ["gracias"],
        "ar": ["شكرا", "جزاك الله"], "ary": ["شكرا", "الله يخليك", "بارك الله فيك", "تبارك الله"]},
    "bye": {
        "fr": ["au revoir", "bonne journee", "bonne soiree", "a bientot", "c est tout", "rien d autre"],
        "en": ["bye", "goodbye", "that s all", "nothing else", "have a nice day"],
        "es": ["adios", "hasta luego", "eso es todo", "nada mas", "chao"],
        "ar": ["مع السلامه", "الى اللقاء", "هذا كل شيء", "لا شيء اخر"],
        "ary": ["بسلامه", "مع السلامه", "صافي هادشي", "هادشي لي كان", "الله يعاونك"]},
    "book": {
        "fr": ["rendez vous", "rdv", "reserver", "reservation", "prendre un creneau", "disponibilite", "dispo",
               "dispos", "reservez",
               "disponible", "creneau", "une table", "consultation", "visite", "passer vous voir"],
        "en": ["appointment", "book", "booking", "reserve", "reservation", "schedule a", "availability",
               "available", "slot", "a table", "visit", "come in", "consultation"],
        "es": ["cita", "reservar", "reserva", "disponibilidad", "disponible", "hueco", "una mesa", "consulta",
               "visita", "agendar", "reservame", "reserveme", "reservenme", "apuntame", "apunteme"],
        "ar": ["موعد", "موعدا", "حجز", "احجز", "حجزا", "متاح", "طاوله", "زياره", "استشاره"],
        "ary": ["موعد", "رونديفو", "نحجز", "حجز", "نجي عندكم", "طابله", "وقت فارغ", "نخد موعد", "ناخد موعد",
                "نحجزو", "نريزيرفي", "بلاصه", "شي بلاصه", "نجي", "نجيو", "ندوز"]},
    "cancel": {
        "fr": ["annuler", "annulation", "decommander"], "en": ["cancel", "cancellation"],
        "es": ["cancelar", "anular", "cancelacion"], "ar": ["الغاء", "الغي", "الغ"],
        "ary": ["نلغي", "الغاء", "نحيد الموعد", "ماغاديش نجي"]},
    "reschedule": {
        "fr": ["deplacer", "decaler", "changer mon rendez vous", "reporter", "modifier mon rendez vous"],
        "en": ["reschedule", "move my appointment", "change my appointment", "postpone"],
        "es": ["cambiar mi cita", "mover mi cita", "aplazar", "reprogramar", "cambiar la cita"],
        "ar": ["تغيير الموعد", "تاجيل", "تعديل الموعد"],
        "ary": ["نبدل الموعد", "نأخر الموعد", "نبدل الوقت", "نخر الموعد"]},
    "lead": {
        "fr": ["devis", "tarif pour", "acheter", "achat", "projet", "budget", "proposition", "intéresse",
               "interesse", "offre", "souscrire", "contrat", "renover", "louer", "vendre", "estimation"],
        "en": ["quote", "quotation", "buy", "purchase", "project", "budget", "proposal", "interested",
               "pricing for", "offer", "sign up", "contract", "renovate", "rent", "sell", "estimate"],
        "es": ["presupuesto", "comprar", "compra", "proyecto", "propuesta", "interesado", "interesada",
               "oferta", "contratar", "contrato", "alquilar", "vender", "reformar", "cotizacion"],
        "ar": ["عرض سعر", "شراء", "اشتري", "مشروع", "ميزانيه", "مهتم", "عقد", "استئجار", "بيع", "تقدير"],
        "ary": ["دوفي", "نشري", "نشريو", "مشروع", "ميزانيه", "باغي نكري", "نكري", "نبيع", "مهتم", "عرض"]},
    "ticket": {
        "fr": ["probleme", "panne", "ne marche pas", "ne fonctionne pas", "plainte", "reclamation", "casse",
               "pas recu", "erreur", "rembourse", "fuite", "defectueux", "en retard"],
        "en": ["problem", "issue", "broken", "not working", "doesn t work", "complaint", "never arrived",
               "didn t receive", "error", "refund", "leak", "defective", "damaged", "late"],
        "es": ["problema", "averia", "no funciona", "queja", "reclamacion", "roto", "no he recibido",
               "no llego", "error", "reembolso", "fuga", "defectuoso", "retraso"],
        "ar": ["مشكله", "عطل", "لا يعمل", "شكوى", "مكسور", "لم يصل", "لم استلم", "خطا", "استرجاع", "تسرب"],
        "ary": ["مشكل", "مشكله", "خاسر", "ماخدامش", "ما خدامش", "شكايه", "مهرس", "ماوصلنيش", "ما وصلنيش",
                "غلط", "ترجعو لي", "كيقطر"]},
    "callback": {
        "fr": ["rappeler", "rappelez", "me rappeler", "rappel"], "en": ["call me back", "callback", "call back",
                                                                         "ring me"],
        "es": ["llamarme", "llamenme", "devolver la llamada", "me llamen", "me llame"],
        "ar": ["اتصلوا بي", "اتصل بي", "معاوده الاتصال", "عاود الاتصال"],
        "ary": ["عيطو ليا", "عيط ليا", "تعيطو ليا", "عاودو عيطو"]},
    "human": {
        "fr": ["un humain", "une personne", "un conseiller", "quelqu un", "parler a", "un agent", "standard",
               "une vraie personne", "le responsable"],
        "en": ["a human", "a person", "real person", "someone", "speak to", "talk to", "an agent", "operator",
               "representative", "the manager"],
        "es": ["una persona", "un humano", "alguien", "hablar con", "un agente", "operador", "el encargado",
               "el responsable"],
        "ar": ["شخص", "انسان", "موظف", "التحدث مع", "المسؤول", "مدير"],
        "ary": ["شي واحد", "بنادم", "نهضر مع", "نتكلم مع", "المسؤول", "شي حد", "موظف"]},
    "yes": {
        "fr": ["oui", "ok", "d accord", "parfait", "c est bon", "volontiers", "ca marche", "exact"],
        "en": ["yes", "yeah", "yep", "ok", "okay", "sure", "sounds good", "perfect", "correct"],
        "es": ["si", "vale", "de acuerdo", "perfecto", "claro", "ok", "correcto"],
        "ar": ["نعم", "اجل", "حسنا", "موافق", "تمام"],
        "ary": ["اه", "ايه", "واخا", "مزيان", "صافي", "تمام", "ايوا"]},
    "no": {
        "fr": ["non", "pas du tout", "aucun"], "en": ["no", "nope", "not really", "none"],
        "es": ["no", "para nada", "ninguno"], "ar": ["لا", "كلا"], "ary": ["لا", "لالا", "والو", "ماشي"]},
}
_INTENT_PATTERNS = {
    intent: {lang: re.compile(r"(^|\W)(" + "|".join(re.escape(normalise(word)) for word in words) + r")($|\W)")
             for lang, words in by_lang.items()}
    for intent, by_lang in INTENTS.items()
}
QUESTION_WORDS = {
    "fr": ["quel", "quelle", "quels", "quelles", "combien", "comment", "ou", "quand", "est ce", "pourquoi", "avez"],
    "en": ["what", "which", "how", "where", "when", "why", "do you", "is there", "are you", "can i"],
    "es": ["que", "cual", "cuanto", "cuanta", "como", "donde", "cuando", "por que", "tienen", "hay"],
    "ar": ["ما", "ماذا", "كم", "كيف", "اين", "متى", "لماذا", "هل"],
    "ary": ["شنو", "اشنو", "شحال", "كيفاش", "فين", "امتى", "علاش", "واش", "كاين"],
}


def intents(text: str, language: str) -> set[str]:
    norm = normalise(text)
    found = set()
    for intent, by_lang in _INTENT_PATTERNS.items():
        languages = [language] + [lang for lang in by_lang if lang != language]
        for lang in languages[:1] + (["ar"] if language == "ary" else ["ary"] if language == "ar" else []):
            pattern = by_lang.get(lang)
            if pattern is not None and pattern.search(norm):
                found.add(intent)
    return found


_GREET_PHRASES = {normalise(word) for words in INTENTS["greet"].values() for word in words} | {
    "bonjour madame", "bonjour monsieur", "hola buenas", "buenas", "hello there", "hi there", "وعليكم السلام",
    "السلام عليكم ورحمه الله"}


def without_greeting(text: str) -> str:
    """The message without the greeting that opens it ("Bonjour, quels sont vos horaires ?" gives
    "quels sont vos horaires ?"); the whole message when it does not open with one."""
    words = (text or "").split()
    for count in range(min(5, len(words)), 0, -1):
        head = normalise(" ".join(words[:count]).strip(" ,.!¡?¿;:،؛-"))
        if head in _GREET_PHRASES:
            return " ".join(words[count:]).lstrip(" ,.!;:،؛-").strip()
    return (text or "").strip()


# Words that name a booking or a cancellation without asking for one ("available", "consultation",
# "cancellation"): alone in a question, they ask about the business, not for the flow.
WEAK_INTENT_WORDS = {
    "book": ["disponibilite", "disponible", "disponibles", "creneau", "dispo", "dispos", "consultation", "visite",
             "availability", "available", "slot", "visit", "disponibilidad", "hueco", "consulta", "visita", "متاح",
             "زياره", "استشاره", "وقت فارغ", "reservation", "reserva", "booking", "حجز", "بلاصه", "شي بلاصه", "نجي",
             "نجيو", "ندوز"],
    "cancel": ["annulation", "cancellation", "cancelacion", "الغاء"],
}
# A question about a rule, a price or a delay ("what is your cancellation policy?", "Combien coûte une
# consultation ?") is a question for the documents, whatever flow its words name.
INFO_MARKERS = ["politique", "conditions", "frais", "delai", "combien", "coute", "coutent", "prix", "tarif",
                "tarifs", "policy", "fee", "fees", "cost", "costs", "how much", "price", "terms", "rules",
                "charge", "politica", "condiciones", "cuanto", "cuesta", "cuestan", "precio", "tarifa",
                "سياسه", "شروط", "رسوم", "كم", "سعر", "ثمن", "شحال", "بشحال", "تمن", "التمن", "الثمن", "قانون",
                # a deposit is a rule of booking, not a booking ("Faut-il verser un acompte pour réserver ?")
                "acompte", "arrhes", "deposit", "anticipo", "senal", "عربون", "عربونا", "تسبيق",
                # when and how one pays ("¿Se paga al reservar o al llegar?", "نخلصو ملي نحجزو ولا ملي نجيو؟")
                "payer", "paye", "paie", "payez", "paiement", "regler", "reglement", "pay", "paid", "payment",
                "pagar", "paga", "pago", "pagamos", "se paga", "ندفع", "الدفع", "يدفع", "ادفع", "نخلص", "نخلصو",
                "الخلاص", "كنخلصو"]
# Whether a booking is needed at all ("do I need to book ahead?", "faut-il réserver ?", "واش خاص نحجز؟") is a
# question about a rule, not a request for a slot.
INFO_MARKERS += ["need to book", "have to book", "book ahead", "booking required", "necessary", "mandatory",
                 "required", "walk in", "faut il reserver", "doit on reserver", "faut il prendre", "obligatoire",
                 "necessaire", "hay que reservar", "hace falta", "es necesario", "obligatorio", "necesito reservar",
                 "لازم", "ضروري", "خاص نحجز", "خاصني نحجز", "واش خاص", "هل يجب"]
_INFO_RE = re.compile(r"(^|\W)(" + "|".join(re.escape(normalise(w)) for w in INFO_MARKERS) + r")($|\W)")
# A question about the rule of a cancellation or a change ("puedo cancelar gratis?", "until when can I
# cancel?", "واش نقدر نلغي الحجز فابور؟"): answered from the documents; "I want to cancel my booking" is not
# a question and "can I cancel my appointment RDV-…?" names the visitor's own booking.
RULE_MARKERS = ["gratuit", "gratuite", "gratuitement", "gratis", "gratuito", "gratuita", "free", "for free",
                "sans frais", "jusqu a quand", "until when", "how late", "how long before", "how far in advance",
                "hasta cuando", "con cuanta antelacion", "a l avance", "in advance", "con antelacion", "delai",
                "deadline", "plazo", "فابور", "مجانا", "مجاني", "بالمجان", "بلا خلاص", "بدون رسوم", "حتى امتى",
                "حتى لامتى", "حتى متى", "الى متى", "قبل كم", "مسبقا"]
_RULE_RE = re.compile(r"(^|\W)(" + "|".join(re.escape(normalise(w)) for w in RULE_MARKERS) + r")($|\W)")
# The visitor's own thing ("my car", "mon rendez-vous", "سيارتي"…): a problem named with it is theirs.
FIRST_PERSON = {"fr": ["je", "j", "mon", "ma", "mes", "me", "m", "moi", "nous", "notre", "nos"],
                "en": ["i", "my", "me", "mine", "we", "our", "us"],
                "es": ["mi", "mis", "me", "yo", "tengo", "nuestro", "nuestra", "nos"],
                "ar": ["لدي", "عندي", "انا", "لي", "نحن"], "ary": ["ديالي", "عندي", "ليا", "انا", "حنا", "ديالنا"]}
# Asking whether the business offers a service ("do you tow…?", "vous faites…?", "هل تقومون…"):
SERVICE_QUESTION = re.compile(r"^(do you|can you|are you|vous|est ce que vous|faites vous|hacen|ofrecen|"
                              r"tienen|ustedes|هل ت|هل يمكنكم|واش ك|واش ت)")


def _strong(intent: str, norm: str) -> bool:
    """Whether the intent is named by one of its words that asks for the flow (not a weak one)."""
    weak = {normalise(w) for w in WEAK_INTENT_WORDS.get(intent, [])}
    for by_lang in INTENTS[intent].values():
        for word in by_lang:
            if normalise(word) not in weak and _word(word).search(norm):
                return True
    return False


# "sans rendez-vous", "without an appointment", "sin cita", "بدون موعد", "بلا موعد": about coming without one
_WITHOUT_RE = re.compile(r"(^|\W)(sans|without|sin|بدون|بلا|من غير)\s+(prendre |avoir |pedir |tener |hacer |making |"
                         r"having |taking |booking |ما |)?(un |une |an |a |una |)?(rendez vous|rdv|"
                         r"reservation|appointment|booking|cita|reserva|موعد|رونديفو|حجز)($|\W)")


# "is that a problem?", "ça pose problème ?", "¿hay problema?", "واش مشكل؟": a question about a rule
_WORRY_RE = re.compile(r"(^|\W)(is (that|it|this) (a )?problem|any problem|a problem|(c est|ca pose|est ce) (un )?"
                       r"probleme|pas de probleme|un probleme|hay (algun )?problema|algun problema|es un problema|"
                       r"واش مشكل|واش كاين شي مشكل|شي مشكل|هل هناك مشكله|هل في ذلك مشكله|مشكل)\W*$")


# "is it a problem if…", "c'est grave si…", "¿pasa algo si…?", "واش مشكل إلا…": a worry about a rule, anywhere
_WORRY_IF_RE = re.compile(r"(^|\W)((is|would) (it|that|this) (be )?(a )?problem|is it ok(ay)? if|does it matter|"
                          r"(c est|ce serait|est ce) (grave|genant|un probleme)|ca pose (un )?probleme|ca derange|"
                          r"(hay|habria) (algun )?problema si|pasa algo si|importa si|es un problema si|"
                          r"واش مشكل|واش كاين شي مشكل|واش كاين مشكل|هل هناك مشكله|هل من مشكله)(\W|$)")
# "can we still check in?", "c'est possible ?", "¿se puede…?", "واش نقدرو…": asking whether one may
_PERMISSION_RE = re.compile(r"(^|\W)(can (i|we)|could (i|we)|is it possible|c est possible|est ce possible|"
                            r"on peut|je peux|peut on|puis je|pouvons nous|se puede|puedo|podemos|es posible|"
                            r"ممكن|يمكن|نقدر|نقدرو|هل يمكن)(\W|$)")
# Ticket words that name a delay or a problem without reporting a fault ("late", "en retard", "problema")
_WEAK_TICKET = {normalise(word) for word in ["late", "en retard", "retard", "retraso", "problem", "issue",
                                              "probleme", "problema", "مشكل", "مشكله"]}


def _asks_a_rule(norm: str) -> bool:
    """A question that asks whether something is allowed or a problem, naming no fault: "We land late, can
    we still check in?", "is it a problem if I pay by cheque?"."""
    if _WORRY_IF_RE.search(norm):
        return True
    if not _PERMISSION_RE.search(norm):
        return False
    return not any(normalise(word) not in _WEAK_TICKET and _word(word).search(norm)
                   for by_lang in INTENTS["ticket"].values() for word in by_lang)


def _own(norm: str, language: str) -> bool:
    """Whether the message speaks of the visitor's own thing or self ("my car", "ma voiture", "سيارتي")."""
    words = FIRST_PERSON.get(language, [])
    if any(_word(word).search(norm) for word in words):
        return True
    return language in {"ar", "ary"} and bool(re.search(r"\w{3,}ي($|\W)", norm))


# "If I cancel the day before, what do I pay?", "si je fais réparer chez vous, le diag est remboursé ?",
# "إذا ألغيت…": a question about what would happen asks for a rule, it opens no flow.
_IF_RE = re.compile(r"(^|\W)(if|si|اذا|لو|ايلا|يلا)\s+\w")
# Late for one's appointment ("jsuis en retard de 20 min pour mon rdv c grave ?"): a rule, no complaint.
_LATE_RE = re.compile(r"(^|\W)(retard|late|tarde|retraso|تاخر|ساتاخر|متاخر|متاخره|نتعطل|تعطلت)($|\W)")


def refine_intents(found: set[str], text: str, language: str, *, has_when: bool) -> set[str]:
    """Drop the flows a question only mentions: a question about a rule or a price opens none, a
    booking word after "without" opens none, and a weak word ("available", "cancellation") opens its
    flow only with a day or a time, or outside a question."""
    norm = normalise(text)
    if "ticket" in found and is_question(text, language) and _WORRY_RE.search(norm):
        found = found - {"ticket"}  # "Llegamos tarde, ¿hay problema?" asks whether it is one, it reports none
    if "ticket" in found and is_question(text, language) and _asks_a_rule(norm):
        found = found - {"ticket"}  # "is it a problem if we arrive after 10pm?" asks about a rule, reports nothing
    if "ticket" in found and is_question(text, language) and SERVICE_QUESTION.search(norm) and not _own(norm, language):
        found = found - {"ticket"}  # "Do you tow broken-down cars?" asks about a service, it reports nothing
    if is_question(text, language) and (_IF_RE.search(norm) or _LATE_RE.search(norm)) and not REFERENCE_RE.search(text):
        found = found - {"ticket", "callback"} - (set() if has_when else {"book", "cancel", "reschedule"})
    if not found & {"book", "cancel", "reschedule"}:
        return found
    question = is_question(text, language)
    refined = set(found)
    if "book" in refined and _WITHOUT_RE.search(norm):
        refined.discard("book")
    if question and _INFO_RE.search(norm):
        return refined - {"book", "cancel", "reschedule"}
    if question and refined & {"cancel", "reschedule"} and _RULE_RE.search(norm) and not REFERENCE_RE.search(text):
        refined -= {"cancel", "reschedule"}
    for intent in ("book", "cancel"):
        if intent in refined and question and not has_when and not _strong(intent, norm):
            refined.discard(intent)
    return refined


_MESSAGE_RE = re.compile(r"(^|\W)(un message|a message|message|mensaje|un mensaje|رساله|ميساج|مساج)($|\W)")


# Words that ask about the opening hours ("vous êtes ouverts samedi à 15h ?"), not for a time.
_HOURS_RE = re.compile(r"(^|\W)(ouvert|ouverts|ouverte|ouvrez|ferme|fermez|fermes|open|opens|closed|close|abren|"
                       r"abierto|abiertos|cierran|cerrado|horaires?|hours|horario|مفتوح|مفتوحين|تفتحون|مغلق|محلول|"
                       r"محلولين|كتحلو|مسدود|كتسدو)($|\W)")


def _any(words: str) -> re.Pattern[str]:
    return re.compile(r"(^|\W)(" + "|".join(re.escape(normalise(w)) for w in words.split("|")) + r")($|\W)")


# Wanting ("je voudrais", "بغيت"), coming ("passer", "come by", "نجي") and room ("de la place", "sitio",
# "بلاصة") said with a day: the visitor asks for a slot without a booking word.
_WANT_RE = _any("voudrais|veux|voulais|aimerais|souhaite|souhaiterais|want|would like|d like|wanna|quiero|quisiera|"
                "gustaria|queria|اريد|اود|ارغب|نريد|بغيت|باغي|باغيه|بغينا|نبغي")
_COME_RE = _any("venir|passer|viens|come|come by|come in|drop by|drop in|fit me in|pop in|ir|pasar|pasarme|venir|"
                "القدوم|الحضور|اتي|اجي|نجي|نجيو|ندوز|نفوت")
_ROOM_RE = _any("place|de la place|space|spot|opening|room for me|sitio|hueco|lugar|مكان|مكان شاغر|بلاصه|شي بلاصه")


def asks_for_a_time(text: str, language: str, today: date) -> bool:
    """A message naming a day and nothing about hours, prices or rules that asks for a slot without a booking
    word: a question with a time of day ("je peux passer vendredi à 15h ?", "واش عندكم شي بلاصة نهار الخميس
    مع الخمسة ديال العشية؟"), a wish or a visit with a time ("Je voudrais venir lundi à 10h30", "I want to
    come on December 10th at 10:45 am"), or room or a visit with a part of the day ("vous avez de la place
    demain matin ?")."""
    norm = normalise(text)
    if _INFO_RE.search(norm) or _HOURS_RE.search(norm) or _RULE_RE.search(norm):
        return False
    if extract_day(text, today) is None:
        return False
    if extract_time(text) is not None:
        return is_question(text, language) or bool(_WANT_RE.search(norm) and _COME_RE.search(norm))
    return bool(extract_period(text)) and bool(_ROOM_RE.search(norm) or _COME_RE.search(norm))


def wants_message(text: str) -> bool:
    """The visitor chooses to leave a message ("un message", "a message", "رسالة")."""
    return bool(_MESSAGE_RE.search(normalise(text)))


def is_question(text: str, language: str) -> bool:
    norm = normalise(text)
    if "?" in text or "؟" in text:
        return True
    return any(_word(word).search(norm) for word in QUESTION_WORDS[language])


# --- slots ---------------------------------------------------------------------------------------------

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE_RE = re.compile(r"(?<![\w+])(\+?\d[\d .()-]{7,17}\d)(?!\w)")
REFERENCE_RE = re.compile(r"\b(RDV-[A-Z0-9]{6})\b", re.I)
NAME_PATTERNS = {
    "fr": [r"je m appelle ([\w' -]{2,40})", r"mon nom est ([\w' -]{2,40})", r"c est ([\w' -]{2,40}) a l appareil",
           r"moi c est ([\w' -]{2,40})", r"au nom de ([\w' -]{2,40})"],
    "en": [r"my name is ([\w' -]{2,40})", r"i am ([A-Z][\w'-]+(?: [A-Z][\w'-]+)?)", r"this is ([\w' -]{2,40})",
           r"name s ([\w' -]{2,40})", r"under the name ([\w' -]{2,40})"],
    "es": [r"me llamo ([\w' -]{2,40})", r"mi nombre es ([\w' -]{2,40})", r"soy ([\w' -]{2,40})",
           r"a nombre de ([\w' -]{2,40})"],
    "ar": [r"اسمي ([\w -]{2,40})", r"انا ([\w -]{2,40})", r"باسم ([\w -]{2,40})"],
    "ary": [r"سميتي ([\w -]{2,40})", r"اسمي ([\w -]{2,40})", r"انا ([\w -]{2,40})", r"باسم ([\w -]{2,40})",
            r"سميتي هي ([\w -]{2,40})"],
}
_NAME_STOP = {"fr": {"et", "mon", "je", "au", "pour", "merci", "telephone", "numero"},
              "en": {"and", "my", "for", "thanks", "phone", "number", "interested", "looking", "calling"},
              "es": {"y", "mi", "para", "gracias", "telefono", "numero", "interesado", "interesada"},
              "ar": {"و", "رقم", "هاتفي", "مهتم"}, "ary": {"و", "نمرتي", "رقم", "بغيت", "باغي"}}


def extract_email(text: str) -> str:
    match = EMAIL_RE.search(text)
    return match.group(0) if match else ""


def extract_phone(text: str) -> str:
    source = (text or "").translate(ARABIC_DIGITS)
    email = extract_email(source)
    match = PHONE_RE.search(source.replace(email, " ") if email else source)
    if not match:
        return ""
    digits = re.sub(r"[^\d+]", "", match.group(1))
    return digits if 8 <= len(digits.lstrip("+")) <= 15 else ""


def extract_reference(text: str) -> str:
    match = REFERENCE_RE.search(text or "")
    return match.group(1).upper() if match else ""


def _light(text: str) -> str:
    """Lower case and apostrophes/hyphens as spaces, but accents kept (names keep their spelling)."""
    return re.sub(r"\s+", " ", re.sub(r"[-'’`]", " ", unicodedata.normalize("NFC", text or "").lower())).strip()


def extract_name(text: str, language: str) -> str:
    candidates = [_light(text), normalise(text), (text or "").strip()]
    for pattern in NAME_PATTERNS[language]:
        for source in candidates:
            match = re.search(pattern, source, re.I)
            if match:
                words = []
                for word in match.group(1).strip(" .,!").split():
                    if word.lower() in _NAME_STOP[language] or any(ch.isdigit() for ch in word):
                        break
                    words.append(word)
                if words:
                    original = re.search(re.escape(" ".join(words)), text or "", re.I)
                    name = original.group(0) if original else " ".join(words)
                    return name.title() if name.islower() and not ARABIC_SCRIPT.search(name) else name
    return ""


def bare_name(text: str) -> str:
    """A reply that is only a name ('Marie Dupont') when the agent just asked for one."""
    if extract_ordinal(text) is not None or any(intents(text, lang) for lang in ("fr", "en", "es", "ar", "ary")):
        return ""
    cleaned = (text or "").strip(" .!")
    words = cleaned.split()
    if 1 <= len(words) <= 4 and all(re.fullmatch(r"[^\W\d_][\w'-]*", w) for w in words):
        return cleaned.title() if cleaned.islower() and not ARABIC_SCRIPT.search(cleaned) else cleaned
    return ""


_CURRENCIES = {"eur": "EUR", "euro": "EUR", "euros": "EUR", "€": "EUR", "usd": "USD", "dollar": "USD",
               "dollars": "USD", "$": "USD", "mad": "MAD", "dh": "MAD", "dhs": "MAD", "dirham": "MAD",
               "dirhams": "MAD", "درهم": "MAD", "دراهم": "MAD", "يورو": "EUR", "اورو": "EUR", "دولار": "USD",
               "£": "GBP", "gbp": "GBP", "ريال": "SAR", "sar": "SAR", "aed": "AED"}
_MULTIPLIERS = {"k": 1000, "mille": 1000, "mil": 1000, "thousand": 1000, "الف": 1000, "ألف": 1000, "million": 10**6,
                "millions": 10**6, "millones": 10**6, "مليون": 10**6}
_AMOUNT_RE = re.compile(r"(\d+(?:[ .,]\d{3})*(?:[.,]\d+)?)\s*(k|mille|mil|thousand|الف|million|millions|millones|"
                        r"مليون)?\s*(€|\$|£|eur|euros?|usd|dollars?|mad|dhs?|dirhams?|درهم|دراهم|يورو|اورو|دولار|"
                        r"ريال|sar|aed|gbp)?", re.I)


def extract_budget(text: str) -> tuple[Decimal | None, str]:
    source = normalise(text).translate(ARABIC_DIGITS)
    source = re.sub(r"([€$£])\s*(\d)", r"\2 \1", source)
    best: tuple[Decimal | None, str] = (None, "")
    for match in _AMOUNT_RE.finditer(source):
        number, multiplier, currency = match.groups()
        digits = number.replace(" ", "")
        if re.fullmatch(r"\d{1,3}([.,]\d{3})+", digits):
            digits = re.sub(r"[.,]", "", digits)
        try:
            value = Decimal(digits.replace(",", "."))
        except Exception:
            continue
        value *= _MULTIPLIERS.get((multiplier or "").lower(), 1)
        if currency or multiplier or value >= 100:
            if best[0] is None or currency:
                best = (value, _CURRENCIES.get((currency or "").lower(), ""))
    return best


_TIMELINE_UNITS = {
    "day": ["jour", "jours", "day", "days", "dia", "dias", "يوم", "ايام", "أيام"],
    "week": ["semaine", "semaines", "week", "weeks", "semana", "semanas", "اسبوع", "اسابيع", "سيمانه", "سيمانات",
             "جمعه", "جمعات"],
    "month": ["mois", "month", "months", "mes", "meses", "شهر", "شهور", "اشهر"],
    "year": ["an", "ans", "annee", "year", "years", "ano", "anos", "سنه", "سنوات", "عام"],
}
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_WORD_NUMBERS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "six": 6, "one": 1, "two": 2, "three": 3,
                 "four": 4, "six_": 6, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "seis": 6, "واحد": 1,
                 "جوج": 2, "زوج": 2, "اثنين": 2, "ثلاثه": 3, "تلاته": 3, "ربعه": 4, "سته": 6, "سته_": 6}
_TIMELINE_PHRASES = {
    7: ["cette semaine", "this week", "esta semana", "هذا الاسبوع", "هاد السيمانه", "هاد الجمعه"],
    14: ["semaine prochaine", "next week", "la semana que viene", "proxima semana", "الاسبوع القادم",
         "السيمانه الجايه", "الجمعه الجايه"],
    30: ["ce mois", "this month", "este mes", "هذا الشهر", "هاد الشهر", "rapidement", "vite", "urgent", "asap",
         "as soon as possible", "lo antes posible", "urgente", "في اقرب وقت", "دغيا", "بالزربه", "مستعجل"],
    60: ["mois prochain", "next month", "el mes que viene", "proximo mes", "الشهر القادم", "الشهر الجاي"],
    180: ["cette annee", "this year", "este ano", "هذا العام", "هاد العام", "هاد السنه"],
    365: ["l annee prochaine", "next year", "el ano que viene", "العام القادم", "العام الجاي"],
}


# at most four digits, starting a run of digits: `\d+` retried at every digit of a 4000-digit message took
# seconds (issue 8); a longer timeline is refused by lead_qualify anyway
_TIMELINE_PATTERNS = {
    unit: re.compile(r"(?<!\d)(\d{1,4}|" + "|".join(w for w in _WORD_NUMBERS if not w.endswith("_")) + r")\s*("
                     + "|".join(re.escape(normalise(w)) for w in words) + r")\b")
    for unit, words in _TIMELINE_UNITS.items()}


def extract_timeline_days(text: str) -> int | None:
    norm = normalise(text).translate(ARABIC_DIGITS)
    for unit, pattern in _TIMELINE_PATTERNS.items():
        match = pattern.search(norm)
        if match:
            amount = int(match.group(1)) if match.group(1).isdigit() else _WORD_NUMBERS[match.group(1)]
            return amount * _UNIT_DAYS[unit]
    for days, phrases in sorted(_TIMELINE_PHRASES.items()):
        if any(_word(p).search(norm) for p in phrases):
            return days
    return None


_DECISION_YES = ["je decide", "c est moi qui decide", "je suis le gerant", "je suis la gerante", "je suis le patron",
                 "je suis la patronne", "je suis le proprietaire", "je suis le directeur", "je suis la directrice",
                 "i decide", "i m the owner", "i am the owner", "i m the decision maker", "i am the decision maker",
                 "i m the manager", "i am the manager", "i m the ceo", "yo decido", "soy el dueno", "soy la duena",
                 "soy el gerente", "soy la gerente", "soy el director", "soy quien decide", "انا المدير",
                 "انا صاحب", "انا من يقرر", "انا المسؤول", "انا مول", "انا لي كنقرر", "انا اللي كنقرر",
                 "انا المسير"]
_DECISION_NO = ["pas moi qui decide", "mon patron", "mon responsable", "ma direction", "not me who decides",
                "my boss", "my manager", "no decido yo", "mi jefe", "mi jefa", "مديري", "ليس انا", "ماشي انا",
                "الباطرون", "المدير ديالي"]


def extract_decision_maker(text: str) -> bool | None:
    norm = normalise(text)
    if any(phrase in norm for phrase in _DECISION_NO):
        return False
    if any(phrase in norm for phrase in _DECISION_YES):
        return True
    return None


# --- dates and times -----------------------------------------------------------------------------------

WEEKDAY_WORDS = [
    ["lundi", "monday", "lunes", "الاثنين", "الاتنين", "التنين", "اثنين", "تنين"],
    ["mardi", "tuesday", "martes", "الثلاثاء", "الثلاث", "التلات", "ثلاثاء"],
    ["mercredi", "wednesday", "miercoles", "الاربعاء", "الاربع", "لاربع", "اربعاء"],
    ["jeudi", "thursday", "jueves", "الخميس", "لخميس", "خميس"],
    ["vendredi", "friday", "viernes", "الجمعه", "جمعه"],
    ["samedi", "saturday", "sabado", "السبت", "سبت"],
    ["dimanche", "sunday", "domingo", "الاحد", "لحد", "الحد", "احد"],
]
RELATIVE_DAYS = [
    (2, ["apres demain", "apres-demain", "day after tomorrow", "pasado manana", "بعد غد", "بعد غدا", "بعد غدوه"]),
    (0, ["aujourd hui", "aujourd'hui", "ce jour", "today", "hoy", "اليوم", "ليوم", "دابا"]),
    (1, ["demain", "tomorrow", "manana", "غدا", "غدوه", "غذا"]),
]
PERIODS = {
    "morning": ["matin", "matinee", "morning", "por la manana", "de la manana", "صباح", "الصباح", "فالصباح",
                "الصباحيه"],
    "afternoon": ["apres midi", "apres-midi", "aprem", "afternoon", "tarde", "بعد الظهر", "العشيه", "فالعشيه", "مساء",
                  "soir", "soiree", "evening", "tonight", "night", "noche", "الليل", "فالليل", "ليلا", "المساء"],
}
_TIME_PATTERNS = [
    re.compile(r"(?<!\d)(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a m|p m)\b"),
    re.compile(r"(?<!\d)(\d{1,2})\s*(?:h|:|heures?)\s*(\d{2})?(?!\d)"),
    # the word before the hour is a word of its own: "para 2 personas", "cita 5" hold no time
    re.compile(r"(?<!\w)(?:a las|a la|at|vers|a|الساعه|ساعه|مع|علي|ف|في)\s+(\d{1,2})(?:[:.](\d{2}))?(?!\d)"),
]
_DATE_RE = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?(?!\d)")
_MONTH_WORDS = [
    ["janvier", "january", "enero", "يناير", "جانفي", "يناير"], ["fevrier", "february", "febrero", "فبراير"],
    ["mars", "march", "marzo", "مارس"], ["avril", "april", "abril", "ابريل"], ["mai", "may", "mayo", "مايو", "ماي"],
    ["juin", "june", "junio", "يونيو", "يونيه"], ["juillet", "july", "julio", "يوليو", "يوليوز"],
    ["aout", "august", "agosto", "اغسطس", "غشت"], ["septembre", "september", "septiembre", "سبتمبر", "شتنبر"],
    ["octobre", "october", "octubre", "اكتوبر"], ["novembre", "november", "noviembre", "نوفمبر", "نونبر"],
    ["decembre", "december", "diciembre", "ديسمبر", "دجنبر"],
]


_MONTH_PATTERNS = [
    (index, re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th|er)?\s*(?:de\s+|of\s+)?({months})(?:\W|$)"),
     re.compile(rf"(?:^|\W)(?:{months})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d|\s*[:h])"))
    for index, months in ((index, "|".join(re.escape(normalise(word)) for word in words))
                          for index, words in enumerate(_MONTH_WORDS, start=1))]


def extract_day(text: str, today: date) -> date | None:
    norm = normalise(text).translate(ARABIC_DIGITS)
    for offset, words in RELATIVE_DAYS:
        if any(_word(w).search(norm) for w in words):
            if offset == 1 and re.search(r"por la manana|de la manana", norm) and "manana" not in norm.replace(
                    "por la manana", "").replace("de la manana", ""):
                continue
            return today + timedelta(days=offset)
    match = _DATE_RE.search(norm)
    if match:
        day, month = int(match.group(1)), int(match.group(2))
        year = int(match.group(3)) if match.group(3) else today.year
        year = year + 2000 if year < 100 else year
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
        if found:
            return found if found >= today or match.group(3) else date(year + 1, month, day)
    for month_index, day_first, month_first in _MONTH_PATTERNS:
        found_day = day_first.search(norm) or month_first.search(norm)
        if found_day:
            try:
                candidate = date(today.year, month_index, int(found_day.group(1)))
            except ValueError:
                continue
            return candidate if candidate >= today else candidate.replace(year=today.year + 1)
    for weekday, words in enumerate(WEEKDAY_WORDS):
        if any(_word(w).search(norm) for w in words):
            # "mardi" said on a Tuesday means next Tuesday
            return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return None


_HOUR_WORDS = {
    1: ["une", "one", "una", "الواحده", "وحده"], 2: ["deux", "two", "dos", "الثانيه", "جوج", "الجوج"],
    3: ["trois", "three", "tres", "الثالثه", "التالته", "تلاته", "الثلاثه"],
    4: ["quatre", "four", "cuatro", "الرابعه", "ربعه", "الربعه"],
    5: ["cinq", "five", "cinco", "الخامسه", "خمسه", "الخمسه"], 6: ["six", "seis", "السادسه", "سته", "السته"],
    7: ["sept", "seven", "siete", "السابعه", "سبعه", "السبعه"],
    8: ["huit", "eight", "ocho", "الثامنه", "التامنه", "تمنيه", "التمنيه"],
    9: ["neuf", "nine", "nueve", "التاسعه", "تسعه", "التسعه"], 10: ["dix", "ten", "diez", "العاشره", "عشره", "العشره"],
    11: ["onze", "eleven", "once", "الحاديه عشر", "الحاديه عشره", "حداش", "الحداش"],
    12: ["douze", "twelve", "doce", "الثانيه عشر", "الثانيه عشره", "طناش", "الطناش"],
}
_HOUR_WORD = {normalise(word): hour for hour, words in _HOUR_WORDS.items() for word in words}
_HOUR_ALTERNATION = "|".join(sorted(map(re.escape, _HOUR_WORD), key=len, reverse=True))
# An hour in words counts after a word that introduces a time ("à", "at", "a las", "الساعة", "مع", "half past")
# or before one that follows it ("heures", "o'clock", "et demie", "y media", "ونص").
_FRACTION_WORDS = (r"et demie?|et quart|moins le quart|y media|y cuarto|menos cuarto|and a half|thirty|fifteen|"
                   r"forty five|trente|quinze|quarante cinq|treinta|quince|ونص|و نص|والنصف|و النصف|وربع|و ربع|"
                   r"والربع|و الربع|الا ربع|الا الربع|قل ربع|غير ربع")
_HOUR_WORD_RE = re.compile(
    r"(?:(?<=\ba )|(?<=\bat )|(?<=\bvers )|(?<=\blas )|(?<=\bla )|(?<=\bpast )|(?<=\bto )|(?<=\bhalf )|"
    r"(?<=الساعه )|(?<=ساعه )|(?<=مع ))(" + _HOUR_ALTERNATION + r")(?=$|\W)"
    r"|(" + _HOUR_ALTERNATION + r")(?=\s+(?:heures?|o clock|h\b|" + _FRACTION_WORDS + r"))")
_NOON_RE = re.compile(r"(?<!apres )\bmidi\b|\bnoon\b|\bmidday\b|\bmediodia\b|(?<!بعد )الظهر|منتصف النهار|لقايله")
_MIDNIGHT_RE = re.compile(r"\bminuit\b|\bmidnight\b|\bmedianoche\b|منتصف الليل")
_H = r"(?<![\d:])(\d{1,2})\s*(?:h|heures?|o clock)?\s*"
# (pattern, minutes, hours to add): "dix heures moins le quart" is 9:45, "quarter to five" 4:45.
_FRACTIONS = [
    (re.compile(_H + r"(?:et demie?|y media|and a half|thirty|trente|treinta|ونص|و نص|و النصف|والنصف)(?!\w)"), 30, 0),
    (re.compile(_H + r"(?:et quart|y cuarto|fifteen|quinze|quince|وربع|و ربع|و الربع|والربع)(?!\w)"), 15, 0),
    (re.compile(_H + r"(?:forty five|quarante cinq)(?!\w)"), 45, 0),
    (re.compile(_H + r"(?:moins le quart|menos cuarto|الا ربع|الا الربع|قل ربع|غير ربع)(?!\w)"), 45, -1),
    (re.compile(r"\bhalf past (\d{1,2})(?!\d)"), 30, 0), (re.compile(r"\bquarter past (\d{1,2})(?!\d)"), 15, 0),
    (re.compile(r"\bquarter to (\d{1,2})(?!\d)"), 45, -1), (re.compile(r"\bhalf (\d{1,2})(?![\d:])"), 30, 0),
]
_MORNING = ["matin", "matinee", "morning", "por la manana", "de la manana", "صباحا", "صباح", "الصباح", "فالصباح",
            "am"]


def _fraction(match: re.Match[str], minutes: int, shift: int) -> str:
    hour = (int(match.group(1)) + shift) % 24
    return f" {hour}:{minutes:02d} "


def _hours_in_words(norm: str) -> str:
    """ "à huit heures", "at eight", "الساعة الثامنة" with the hour in digits; "10 ونص", "dix heures et
    demie", "half past ten", "ten thirty" as 10:30; "quarter to five", "cinq heures moins le quart",
    "الخامسة إلا ربع" as 4:45; noon and midnight as 12:00 and 0:00 ("midi et demi" is 12:30)."""
    norm = _HOUR_WORD_RE.sub(lambda match: str(_HOUR_WORD[match.group(1) or match.group(2)]), norm)
    norm = _MIDNIGHT_RE.sub(" 0 h ", _NOON_RE.sub(" 12 h ", norm))
    for pattern, minutes, shift in _FRACTIONS:
        norm = pattern.sub(lambda match, minutes=minutes, shift=shift: _fraction(match, minutes, shift), norm)
    return norm


_MORNING_RE = re.compile(r"(?:^|\W)(?:" + "|".join(re.escape(normalise(word)) for word in _MORNING) + r")(?:$|\W)")
_AFTERNOON_WORDS = [normalise(word) for word in PERIODS["afternoon"]] + ["ظهرا"]


def extract_time(text: str) -> time | None:
    """The time of day a message asks for. An hour from 1 to 7 with no "am", "pm" or part of the day is
    the afternoon (business hours: "à 3" is 15:00); "du matin", "in the morning", "صباحا" keep it."""
    norm = _hours_in_words(normalise(text).translate(ARABIC_DIGITS))
    for pattern in _TIME_PATTERNS:
        match = pattern.search(norm)
        if not match:
            continue
        hour = int(match.group(1))
        minute = int(match.group(2) or 0) if match.lastindex and match.lastindex >= 2 and match.group(2) else 0
        suffix = match.group(3) if match.lastindex and match.lastindex >= 3 else None
        if suffix and suffix.replace(" ", "") == "pm" and hour < 12:
            hour += 12
        elif suffix and suffix.replace(" ", "") == "am" and hour == 12:
            hour = 0
        elif not suffix and 1 <= hour < 12 and any(word in norm for word in _AFTERNOON_WORDS):
            hour += 12
        elif not suffix and 1 <= hour <= 7 and not _MORNING_RE.search(norm):
            hour += 12  # "à 3", "ف 3": business hours, so the afternoon
        if 0 <= hour <= 23 and 0 <= minute <= 59:
            return time(hour, minute)
    return None


def extract_period(text: str) -> str:
    norm = normalise(text)
    for period, words in PERIODS.items():
        if any(normalise(word) in norm for word in words):
            return period
    return ""


_ORDINALS = {
    0: ["premier", "premiere", "1er", "first", "primero", "primera", "الاول", "الاولى", "اللول", "لول"],
    1: ["deuxieme", "2e", "2eme", "second", "seconde", "2nd", "segundo", "segunda", "الثاني", "الثانيه", "التاني",
        "التانيه"],
    2: ["troisieme", "third", "tercero", "tercera", "الثالث", "الثالثه", "التالت", "التالته"],
}


def extract_ordinal(text: str) -> int | None:
    norm = normalise(text)
    for index, words in _ORDINALS.items():
        if any(_word(w).search(norm) for w in words):
            return index
    stripped = norm.strip(" .!")
    if stripped in {"1", "2", "3"}:
        return int(stripped) - 1
    return None


_COUNT_WORDS = {2: ["deux", "two", "dos", "جوج", "زوج"], 3: ["trois", "three", "tres", "ثلاث", "ثلاثه", "تلاته", "تلت"],
                4: ["quatre", "four", "cuatro", "اربع", "اربعه", "ربعه"], 5: ["cinq", "five", "cinco", "خمس", "خمسه"],
                6: ["six", "seis", "ست", "سته"], 7: ["sept", "seven", "siete", "سبع", "سبعه"], 1: ["une", "one", "una"]}
_COUNT_OF = {normalise(word): count for count, words in _COUNT_WORDS.items() for word in words}
_COUNT = r"(?<!\w)(\d{1,3}|" + "|".join(sorted(map(re.escape, _COUNT_OF), key=len, reverse=True)) + r")"
_NIGHTS_RE = re.compile(_COUNT + r"\s+(?:de\s+|ديال\s+)?(?:nuits?|nuitees?|nights?|noches?|ليالي|ليال|ليله|الليالي)"
                        r"(?:$|\W)")
_NIGHTS_DUAL = re.compile(r"(^|\W)(ليلتين|ليلتان|جوج ليالي)($|\W)")
_GUESTS_RE = re.compile(_COUNT + r"\s+(?:de\s+|ديال\s+)?(?:personnes?|adultes?|people|persons?|adults?|guests?|"
                        r"personas?|adultos?|huespedes|اشخاص|شخص|افراد|افراد|الناس|نفار|كبار)(?:$|\W)")
_GUESTS_DUAL = re.compile(r"(^|\W)(شخصين|جوج ديال الناس|زوج|a deux|for two|para dos|pour deux)($|\W)")


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _COUNT_OF.get(word, 0)


def _quantity(text: str, counted: re.Pattern[str], dual: re.Pattern[str]) -> int | None:
    """A number before its noun ("3 nuits"), or two when the noun is in the Arabic dual ("ليلتين")."""
    norm = normalise(text).translate(ARABIC_DIGITS)
    match = counted.search(norm)
    if match:
        return _count(match.group(1)) or None
    return 2 if dual.search(norm) else None


def extract_nights(text: str) -> int | None:
    """How many nights a stay lasts ("3 nuits", "two nights", "dos noches", "ليلتين", "3 ليالي")."""
    return _quantity(text, _NIGHTS_RE, _NIGHTS_DUAL)


def extract_guests(text: str) -> int | None:
    """How many people a stay is for ("2 personnes", "for two", "3 adults", "شخصين", "جوج ديال الناس")."""
    return _quantity(text, _GUESTS_RE, _GUESTS_DUAL)


def extract_count(text: str) -> int | None:
    """A bare number answering "how many?" ("3", "trois", "جوج")."""
    norm = normalise(text).translate(ARABIC_DIGITS).strip(" .!?؟")
    return _count(norm) or None if norm.isdigit() or norm in _COUNT_OF else None


def combine(day: date | None, at: time | None, zone: object) -> datetime | None:
    if day is None or at is None:
        return None
    return datetime.combine(day, at, zone)  # type: ignore[arg-type]
