"""Knowledge search: PostgreSQL full-text search per language, trigram fallback for short or misspelt queries.

Runs in the active client's schema: a client's agent can only ever find its own passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from apps.core.errors import NotFound
from apps.knowledge import search_cache
from apps.knowledge.lexicon import (
    CLOCK_WORDS_PATTERN,
    CONCEPTS,
    COUNT_PATTERN,
    COUNT_WORDS,
    DURATION_PATTERN,
    DURATION_WORDS,
    EXTRA_FILLER,
    EXTRA_PHRASES,
    PARTS_OF_DAY,
    PLACE_WORDS,
    TIME_TERM,
    arabic_cores,
    expand_abbreviations,
    merge_concepts,
)
from apps.knowledge.models import Chunk, Document, Word
from apps.knowledge.text import COMMON_WORDS, STOPWORDS, TS_CONFIGS, normalise, query_terms

_CONFIGS = sorted(set(TS_CONFIGS.values()))
SIMILARITY_THRESHOLD = 0.4
CONFIGS_CACHE_KEY = "knowledge:stats"  # the cache prefixes it with the client's schema
COMMON_SHARE = 0.3
# Below this share of the question's subject words in its best passage, the agent says it does not know.
MIN_CONFIDENCE = 0.6
# A correction this close is a typo of the question's word, so it counts as the word for the confidence.
TYPO_SIMILARITY = 0.55


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    document_id: int
    title: str
    text: str
    score: float
    method: str  # "fulltext", or "fulltext+corrected" when misspelt words were corrected
    confidence: float = 1.0  # the share of the question's content words the passage holds


# Question words that name a subject ("where": an address, "when": hours): kept as terms, and the
# subject's words searched with them ("Où est le garage ?" finds the address, not the opening hours).
SUBJECT_QUESTIONS = {"ou": 2, "where": 2, "donde": 2, "اين": 2, "فين": 2, "فاين": 2,
                     "quand": 0, "when": 0, "cuando": 0, "متي": 0, "امتي": 0}


SEARCH_METHOD_LABELS = {
    "fulltext": _("Found with the words of the question."),
    "fulltext+corrected": _("Found after correcting misspelt words of the question."),
}


def search_method_label(method: str) -> str:
    """How a passage was found, as a sentence for people (Passage.method is a code)."""
    return str(SEARCH_METHOD_LABELS.get(method, method))


def _terms(query: str, own_words: frozenset[str] = frozenset()) -> list[str]:
    seen: dict[str, None] = {}
    for word in query_terms(read_phrases(query)):
        if word[0] == "و" and len(word) > 3 and (word[1:] in STOPWORDS or word[1:] in _KIND_OF):
            word = word[1:]  # "وفوقاش" is "and when": the question word, not a subject
            if word in STOPWORDS:
                continue
        if not word.isdigit() or len(word) >= 3:
            seen.setdefault(word, None)
    named = [word for word in seen if word not in FILLER and not _is_own(word, own_words)]
    if len(named) <= 1:  # "Où est le garage ?" asks for the address; "je peux fumer quand ?" names its subject
        asked = [word for word in re.findall(r"\w{2,}", normalise(query)) if word in SUBJECT_QUESTIONS][:1]
        return asked + list(seen)
    return list(seen)[:24]


def _subject_words(terms: list[str]) -> list[str]:
    """The words of the subjects the question words name, searched besides the question's own."""
    words = set()
    for term in terms:
        if term in SUBJECT_QUESTIONS:
            arabic = "\u0600" <= term[0] <= "\u06ff"  # the subject's words in the question's script only
            words |= {normalise(word) for word in SUBJECTS[SUBJECT_QUESTIONS[term]].split()
                      if ("\u0600" <= word[0] <= "\u06ff") == arabic}
    return sorted(words - set(SUBJECT_QUESTIONS))


def _concept_words(terms: list[str]) -> list[str]:
    """The words of the concepts the question's words belong to ("chien": "animaux", "pets"…; "ouvrez":
    "ouvert", "horaires"…), in the question's script, searched besides them: the documents name a subject
    in their own words."""
    words: dict[str, None] = {}
    for term in terms:
        if term in SUBJECT_QUESTIONS or term.isdigit():
            continue
        _subject_stems(term)  # fills _SUBJECT_OF
        index = _SUBJECT_OF.get(_stem(term))
        if index is None:
            index = _core_concept(term)
        if index is None:
            continue
        arabic = "\u0600" <= term[0] <= "\u06ff"
        for word in _CONCEPT_TERMS[index]:
            if ("\u0600" <= word[0] <= "\u06ff") == arabic and word != term:
                words.setdefault(word)
    return list(words)[:CONCEPT_WORDS_MAX]


def _vocabulary(terms: list[str], languages: list[str] | None = None) -> tuple[dict[str, list[str]], dict[str, int]]:
    """(corrections, document counts): words of the client's vocabulary close to the query's words
    (typos, variants, plurals), and how many documents use each query word exactly.

    A word that is known (the client's own vocabulary or a common word of any of the five languages)
    is never corrected; a correction keeps the first letter and, with `languages`, is a word of
    documents in those languages (a French "adresse" never becomes the English FAQ's "address")."""
    if not terms:
        return {}, {}
    table = Word._meta.db_table
    with connection.cursor() as cursor:
        # `%` (index-assisted, default threshold 0.3) finds candidates; the stricter similarity keeps them
        # exact words for every term; the trigram search (the costly part) only for the words that could be
        # corrected: four letters or more, not a number, not a common word, not a word of the vocabulary
        fuzzy = [term for term in terms if len(term) >= 4 and not term.isdigit() and term not in COMMON_WORDS]
        cursor.execute(
            f"""SELECT q.term, w.word, w.doc_count, 1.0, w.languages FROM unnest(%s::text[]) AS q(term)
                JOIN {table} w ON w.word = q.term
                UNION ALL
                SELECT q.term, w.word, w.doc_count, w.sim, w.languages FROM unnest(%s::text[]) AS q(term)
                CROSS JOIN LATERAL (SELECT word, doc_count, languages, similarity(word, q.term) AS sim FROM {table}
                                    WHERE word %% q.term ORDER BY sim DESC, word LIMIT 3) AS w
                WHERE w.sim >= %s AND NOT EXISTS (SELECT 1 FROM {table} known WHERE known.word = q.term)""",
            [terms, fuzzy, SIMILARITY_THRESHOLD],
        )
        rows = cursor.fetchall()
    counts = {term: doc_count for term, word, doc_count, _sim, _langs in rows if term == word}
    corrections: dict[str, list[str]] = {}
    for term, word, _count, sim, word_languages in rows:
        if (word in terms or len(term) < 4 or term.isdigit() or term in counts or term in COMMON_WORDS
                or _first_letter(word) != _first_letter(term)):
            continue
        if languages and word_languages and not set(word_languages) & set(languages):
            continue
        corrections.setdefault(term, []).append(word)
        if sim >= TYPO_SIMILARITY:
            corrections.setdefault(f"{term}\x00typo", []).append(word)
    return corrections, counts


def _first_letter(word: str) -> str:
    """The first letter of the word itself: Arabic "والسبت" ("and Saturday") starts as "السبت" does."""
    if word[:1] and "\u0600" <= word[0] <= "\u06ff":
        word = re.sub(r"^[وف]?(?:بال|كال|لل|ال|ب|ل)?", "", word) or word
    return word[:1]


def extra_terms(corrections: dict[str, list[str]]) -> list[str]:
    """The corrected words searched besides the question's own."""
    return sorted({word for term, words in corrections.items() if "\x00" not in term for word in words})


def _informative(terms: list[str], counts: dict[str, int], total: int) -> list[str]:
    """Drop words most documents use (in a dental clinic's documents, "dent"): they match everything
    and rank nothing, and would make the ranking scan the whole knowledge base."""
    ceiling = max(20, int(total * COMMON_SHARE))
    kept = [term for term in terms if counts.get(term, 0) <= ceiling]
    return kept or terms


def _tsquery_text(terms: list[str], corrections: list[str]) -> tuple[str, str]:
    """(words for each language's stemmer, the same words as prefixes for the 'simple' configuration).
    Prefixes go unstemmed: "pay" finds "payment", but French "payer" (stem "pai") does not find "pain"."""
    words = terms + corrections
    prefixes = [f"{term}:*" for term in terms if len(term) >= 3 and not term.isdigit()]
    return " | ".join(words), " | ".join(prefixes)


def _scope_sql(agent_id: int | None) -> tuple[str, list[Any]]:
    """SQL keeping the documents an agent may answer from: its own and those given to every agent."""
    if agent_id is None:
        return "", []
    through = Document.agents.through._meta.db_table
    return (f"""AND (NOT EXISTS (SELECT 1 FROM {through} s WHERE s.document_id = d.id)
                     OR EXISTS (SELECT 1 FROM {through} s WHERE s.document_id = d.id AND s.agent_id = %s))""",
            [agent_id])


def _stats(agent_id: int | None = None) -> dict[str, Any]:
    """The text-search configurations the documents an agent may use hold, how many there are and
    their languages (cached per client and agent, reset on ingest)."""
    cached = cache.get(CONFIGS_CACHE_KEY) or {}
    key = str(agent_id or 0)
    stats = cached.get(key)
    if stats is None:
        ready = Document.objects.filter(status=Document.Status.READY)
        if agent_id is not None:
            ready = ready.filter(Q(agents__isnull=True) | Q(agents=agent_id)).distinct()
        chunks = Chunk.objects.filter(document__in=ready.values("id"))
        stats = {"configs": sorted(set(chunks.values_list("ts_config", flat=True).distinct()) & set(_CONFIGS)),
                 "documents": ready.count(),
                 "languages": sorted(set(ready.values_list("language", flat=True).distinct()))}
        cached[key] = stats
        cache.set(CONFIGS_CACHE_KEY, cached, 300)
    return stats


# Cover density (`ts_rank_cd`: how close together the question's words are) costs about 45 µs a passage,
# plain `ts_rank` 6: on 1,000 documents a question matches ~400 passages, 17 ms of ranking against 2. So the
# cheap rank picks the candidates and cover density orders only those (the bench's answers are the same).
RANK_CANDIDATES = 64


def _fulltext(expressions: tuple[str, str], limit: int, languages: list[str],
              configs: list[str], agent_id: int | None = None, preferred: str = "",
              checked: list[str] | None = None) -> list[tuple[Any, ...]]:
    """(chunk id, document id, title, text, rank, search text, [whether each `checked` word is in it], whether in
    the preferred language) of the
    best passages of ready documents. A checked word is in a passage when its stem (the passage language's
    stemmer: "montez" and "montons") or a word it begins is."""
    words, prefixes = expressions
    if not words or not configs:
        return []
    parts = [f"to_tsquery('{config}', %s)" for config in configs] + (["to_tsquery('simple', %s)"] if prefixes else [])
    params: list[Any] = [words] * len(configs) + ([prefixes] if prefixes else [])
    language_filter = ""
    if languages:
        language_filter = "AND d.language = ANY(%s)"
    scope, scope_params = _scope_sql(agent_id)
    chunks, documents = Chunk._meta.db_table, Document._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT best.id, best.document_id, best.title, best.text, best.rank, best.search_text,
                       ARRAY(SELECT best.search_vector @@ (to_tsquery(best.ts_config::regconfig, t.word)
                                                           || to_tsquery('simple', t.word || ':*'))
                             FROM unnest(%s::text[]) WITH ORDINALITY AS t(word, n) ORDER BY t.n), best.preferred
                FROM (SELECT c.id, c.document_id, d.title, c.text, c.search_text, c.search_vector, c.ts_config,
                             pre.preferred, ts_rank_cd(c.search_vector, pre.q, 32) AS rank
                      FROM (SELECT c.id, d.language = %s AS preferred, q
                            FROM {chunks} c JOIN {documents} d ON d.id = c.document_id,
                                 (SELECT {' || '.join(parts)}) AS query(q)
                            WHERE c.search_vector @@ q AND d.status = %s {language_filter} {scope}
                            ORDER BY d.language = %s DESC, ts_rank(c.search_vector, q, 32) DESC, c.id
                            LIMIT %s) AS pre
                      JOIN {chunks} c ON c.id = pre.id JOIN {documents} d ON d.id = c.document_id
                      ORDER BY pre.preferred DESC, rank DESC, c.id LIMIT %s) AS best
                ORDER BY best.preferred DESC, best.rank DESC, best.id""",
            [checked or []] + [preferred] + params + [Document.Status.READY] + ([languages] if languages else [])
            + scope_params + [preferred] + [max(RANK_CANDIDATES, limit), limit],
        )
        return cursor.fetchall()


def knowledge_search(*, query: str, limit: int = 3, language: str = "", agent_id: int | None = None,
                     min_confidence: float = 0.0, own_words: frozenset[str] = frozenset()) -> list[Passage]:
    """The best passages for `query`, best first, each naming its document.

    With `language`, documents in that language come first: when the knowledge base has any,
    only they are searched (Arabic and Darija count as one), so a French visitor is not answered
    from the English FAQ. With `agent_id`, only the documents that agent may answer from.
    With `min_confidence`, passages holding a smaller share of the question's words are dropped:
    a question the documents cannot answer gets no passage rather than the nearest one. `own_words` are the
    business's own name and kind ("riad", "Zitoun", "garage"): in "On peut dîner au riad ?" they say where,
    not what, so they are searched but do not count in the confidence (`business_words`)."""
    kept_as, kept = search_cache.lookup((query, limit, language, agent_id, min_confidence, own_words))
    if kept is not None:  # the same search on the same knowledge base (apps/knowledge/search_cache.py)
        return list(kept)
    stats = _stats(agent_id)  # one cache read per search
    terms = _terms(expand_abbreviations(query.replace("\x00", ""), language), own_words)
    languages = _languages_for(language, set(stats.get("languages", [])))
    corrections, counts = _vocabulary(terms, (["ar", "ary"] if language in {"ar", "ary"} else [language])
                                      if language else None)
    terms = _informative(terms, counts, int(stats["documents"]))
    method = "fulltext+corrected" if extra_terms(corrections) else "fulltext"
    extra = (extra_terms(corrections) + _subject_words(terms) + _concept_words(terms)
             + [form for term in terms for form in _verb_variants(term)])
    subject = _subject(terms, own_words)
    # more rows than asked for: the passage holding most of the question's own subject comes first, even when
    # the words of its concepts rank another one higher (or one in the preferred one of Arabic and Darija)
    rows = _fulltext(_tsquery_text(terms, extra), max(limit * 3, 9), languages, list(stats["configs"]), agent_id,
                     preferred=language,  # Arabic before Darija for an Arabic question, and the reverse
                     checked=[re.sub(r"[^\w]", "", word) for word in subject])
    passages = [Passage(chunk_id=chunk_id, document_id=document_id, title=title, text=text,
                        score=round(float(rank), 4), method=method,
                        confidence=_confidence(subject, corrections, search_text, stemmed))
                for chunk_id, document_id, title, text, rank, search_text, stemmed, _preferred in rows]
    # a passage in the question's own one of Arabic and Darija that answers comes first, although a passage of
    # the other one holds more of the question's words ("الكادو" asked in Darija, "هدايا" in the Arabic FAQ)
    floor = max(min_confidence, MIN_CONFIDENCE)
    own = {passage.chunk_id for passage, row in zip(passages, rows, strict=True)
           if row[-1] and passage.confidence >= floor} if language in {"ar", "ary"} else set()
    passages.sort(key=lambda passage: (passage.chunk_id not in own, -passage.confidence))  # stable among equals
    return search_cache.keep(kept_as, [passage for passage in passages if passage.confidence >= min_confidence][:limit])


# Words that ask about anything ("vous faites des cartes cadeaux ?"): they say nothing of the subject.
FILLER = set("""
faites faire fait proposez proposer offrez offrir acceptez possible aussi avoir peut peux pouvez voudrais
savoir sont vos votre nos notre
offer offers provide have does possible also want know like get
hacen hace ofrecen ofrece tienen aceptan posible tambien quiero saber
تقدمون تقدم يوجد ممكن اريد اعرف كديرو ديرو تديرو عندكم ممكن بغيت نعرف
etes sommes until jusqu hasta soir matin evening morning tarde noche night exactement exactly exactamente
venir venez viens come ir venir الحضور اجي نجي نجيو
prenez prendre take takes accept accepts admiten admite aceptan aceptais تقبلون تقبلو كتقبلو
amener emmener apporter bring traer llevar نجيب نجيبو اجلب اصطحاب معايا معانا معي
politique conditions regles policy terms rules politica condiciones normas سياسه شروط الشروط قوانين
faut يجب خاص خاصنا خاصني
duree duration duracion مده لمده
""".split()) | EXTRA_FILLER  # and the everyday vocabulary's ("exactly", "is it a problem if", "بالضبط")


# Phrases that say in several words what one word of the documents says ("sans frais": free; "dejar la
# habitación": check-out): the query reads them as that word. "how long" asks for a duration the subject
# names ("how long is the warranty?"), so it is dropped.
PHRASES = {
    "sans frais": "gratuit", "sans payer": "gratuit", "free of charge": "free", "at no cost": "free",
    "without paying": "free", "sin coste": "gratis", "sin costo": "gratis", "sin cargo": "gratis",
    "sin pagar": "gratis", "se paga": "precio", "se cobra": "precio",
    "بلا خلاص": "فابور", "بلا فلوس": "فابور", "بدون رسوم": "مجاني", "بدون مقابل": "مجاني",
    "quitter la chambre": "depart", "liberer la chambre": "depart", "leave the room": "check out",
    "dejar la habitacion": "salida", "نغادر الغرفه": "المغادره", "مغادره الغرفه": "المغادره",
    "نخويو البيت": "نخرجو", "combien de temps": "", "how long": "", "cuanto tiempo": "", "كم من الوقت": "",
    "شحال ديال الوقت": "", "شحال من وقت": "",
}
PHRASES.update({phrase: word for phrase, word in EXTRA_PHRASES.items() if phrase not in PHRASES})
_PHRASES_RE = re.compile(r"(^|\W)(" + "|".join(re.escape(normalise(phrase)) for phrase in
                                               sorted(PHRASES, key=len, reverse=True)) + r")(?=$|\W)")
_PHRASE_OF = {normalise(phrase): normalise(word) for phrase, word in PHRASES.items()}


def read_phrases(text: str) -> str:
    """The normalised query with its multi-word phrases as the word they mean (PHRASES)."""
    return _PHRASES_RE.sub(lambda match: match.group(1) + _PHRASE_OF[match.group(2)], normalise(text))


# Words that name the same everyday subject: "vos horaires le samedi ?" is answered by "ouvert le samedi".
SUBJECTS = [
    "horaires horaire heures ouvert ouverte ouverture ouvrez fermez ferme fermeture hours open opening opens closed "
    "close horario horarios abren abierto abre cierran cerrado مواعيد اوقات الوقت مفتوح مفتوحه تفتحون محلول "
    "محلولين كتحلو تحلو مسدود كتسدو تسدو مسدودين مغلق العمل الخدمه quand when cuando متي امتي",
    "prix tarif tarifs coute coutent cout combien payant payante price prices cost costs much charge precio precios "
    "cuesta cuestan cuanto vale valen سعر اسعار الثمن ثمن تكلفه بشحال شحال كم بالمقابل بالفلوس",
    "adresse situe situes trouve trouvez address located where direccion ubicados donde encuentran عنوان موقع يقع اين "
    "فين كاين كاينه",
    "payer paiement payez carte cartes especes cheque pay payment card cards cash pagar pago tarjeta efectivo دفع "
    "الدفع نخلص الخلاص بطاقه البطاقه كارط",
    "parking garer stationnement park parking aparcamiento estacionamiento موقف باركينغ الباركينغ نحط نركن",
    # concepts a visitor names in other words than the documents (searched with the question's words too)
    "animaux animal chien chiens chat chats pets pet dog dogs cat cats mascotas mascota perro perros gato gatos "
    "animales حيوانات الحيوانات حيوان كلب الكلب قط القط الكلاب المش",
    "piscine pool swimming piscina مسبح المسبح بيسين البيسين",
    "gratuit gratuite gratuits gratuitement gratis gratuito gratuita free فابور مجاني مجانا مجانيه بالمجان",
    "garantie garanties garanti garantis guarantee guaranteed warranty garantia garantias garantizadas ضمان الضمان "
    "مضمون مضمونه الضمانه",
    "proche proximite pres nearby near nearest cerca cercano cercana قريب اقرب لقريب القريب",
    "depart quitter salida dejar مغادره المغادره نغادر نخرج نخرجو الخروج",
    # the sectors' everyday concepts (hotel, salon, garage, fitness, real estate, legal), in the five languages
    "chambre chambres room rooms habitacion habitaciones غرفه الغرف غرف بيت البيوت",
    "dejeuner breakfast desayuno الفطور فطور",
    "diner dinner supper meal meals cena cenar comida العشاء عشاء العشا نتعشاو الغداء",
    "aeroport airport aeropuerto navette shuttle pickup المطار",
    "arrivee arriver arrivons arrival arriving llegada llegar llegamos الوصول وصول نوصلو نوصل ندخلو الدخول",
    "tard tardive tardif late tarde متاخر متاخرين معطلين معطل التعطال",
    "domicile home house domicilio المنزل المنازل للدار",
    "coupe couper haircut haircuts cut corte cortar قص الحسانه حسانه",
    "coloration couleur teinture colour color colouring coloring dye tinte تلوين صبغ صبغه الصباغه",
    "ongles manucure manicure nails unas manicura الاظافر اظافر الظفار المانيكير",
    "mariage mariee wedding weddings bride bridal boda novia العرس الاعراس العروس العروسه عرس",
    "pret remplacement courtoisie loan courtesy replacement sustitucion بديله السلف",
    "vidange huile oil aceite الزيت زيت الفيدونج",
    "freins frein plaquettes brake brakes pads frenos freno pastillas الفرامل فرامل الفرانات الفران البلاكيط",
    "pneus pneu tyres tyre tires tire neumaticos neumatico ruedas الاطارات اطار البنوات البنو",
    "climatisation clim conditioning aire acondicionado التكييف المكيف الكليما الكليماتيزور",
    "diagnostic diagnostics diagnosis diagnostico التشخيص تشخيص الديانيوستيك",
    "reparation reparations reparer repair repairs fix fixed reparacion reparar الاصلاح اصلاح الاصلاحات تصلحو",
    "wifi internet الانترنت الويفي",
    "abonnement abonnements subscription membership suscripcion cuota اشتراك الاشتراك الابونمون",
    "cours coach class classes clase clases حصه الحصص",
    "loyer rent rental alquiler كراء الكراء ايجار",
    "avocat lawyer abogado محامي المحامي",
]
# the everyday vocabulary's concepts (apps.knowledge.lexicon): a concept sharing a word extends the line
SUBJECTS = merge_concepts(SUBJECTS, CONCEPTS, normalise)
# How many of a concept's words are searched besides the question's (the tsquery stays small).
CONCEPT_WORDS_MAX = 24
_SUBJECT_OF: dict[str, int] = {}
# each concept's words as search terms: normalised, no question words or function words
_CONCEPT_TERMS = [[word for word in dict.fromkeys(normalise(word) for word in words.split())
                   if word not in SUBJECT_QUESTIONS and word not in STOPWORDS and len(word) >= 3 and word.isalpha()]
                  for words in SUBJECTS]


@lru_cache(maxsize=8192)
def _subject_stems(term: str) -> frozenset[str]:
    if not _SUBJECT_OF:
        for index, words in enumerate(SUBJECTS):
            for word in words.split():
                _SUBJECT_OF.setdefault(_stem(normalise(word)), index)
    index = SUBJECT_QUESTIONS.get(term, _SUBJECT_OF.get(_stem(term)))
    if index is None:
        index = _core_concept(term)
    if index is None:
        return frozenset({_stem(term)})
    # a question word is matched by its subject's words, never by itself ("ou" is also French "or")
    return frozenset({_stem(normalise(word)) for word in SUBJECTS[index].split()}
                     - {_stem(word) for word in SUBJECT_QUESTIONS})


_CORE_SUBJECT_OF: dict[str, int] = {}


def _core_concept(term: str) -> int | None:
    """The concept of an Arabic-script word none of whose concepts' words shares its stem, found by its light
    stems ("يتعشاو" is a form of "نتعشاو": dinner)."""
    if not ("\u0600" <= term[:1] <= "\u06ff"):
        return None
    if not _CORE_SUBJECT_OF:
        for index, words in enumerate(SUBJECTS):
            for word in words.split():
                for core in arabic_cores(normalise(word)):
                    _CORE_SUBJECT_OF.setdefault(core, index)
    return next((_CORE_SUBJECT_OF[core] for core in sorted(arabic_cores(term)) if core in _CORE_SUBJECT_OF), None)


def _lexical_match(term: str, kinds: set[str], cores: frozenset[str] | None) -> bool:
    """A subject word a passage answers although neither the word nor its stem is in it: a time of day asked
    ("23h", "11pm") and a passage giving times, or an Arabic word whose light stem a word of the passage has."""
    if "clock" in kinds and TIME_TERM.match(term):
        return True
    return bool(cores) and bool(arabic_cores(term) & cores)


@lru_cache(maxsize=4096)
def _passage_cores(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(core for word in words for core in arabic_cores(word))


_LATIN_ENDINGS = ("ons", "ez", "ent", "amos", "emos", "imos", "er", "ar", "ir")


@lru_cache(maxsize=32768)
def _stem(word: str) -> str:
    if word[:1] and "\u0600" <= word[0] <= "\u06ff":
        for article in ("وال", "بال", "فال", "كال", "لل", "ال"):
            if word.startswith(article) and len(word) - len(article) >= 2:
                word = word[len(article):]
                break
        else:
            word = _verb_stem(word)
        return word[:4]
    for suffix in _LATIN_ENDINGS:  # a verb's person: "montez" and "montons" (the French stemmer parts them)
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:5] if len(word) > 5 else word.rstrip("s") or word


def _subject(terms: list[str], own_words: frozenset[str] = frozenset()) -> list[str]:
    """The question's words that name its subject (not its filler, nor the business's own name and kind
    when the question says anything else)."""
    subject = [term for term in terms if term not in FILLER and not term.isdigit()] or terms
    return [term for term in subject if not _is_own(term, own_words)] or subject


@lru_cache(maxsize=1024)
def _own_cores(own_words: frozenset[str]) -> frozenset[str]:
    return frozenset(core for word in own_words for core in arabic_cores(word) if len(core) >= 4)


def _is_own(term: str, own_words: frozenset[str]) -> bool:
    """Whether the word is one of the business's own name and kind, or an Arabic form of one ("فالرياض", "الرياض"
    are forms of the sector's "والرياضات")."""
    if term in own_words:
        return True
    return bool(own_words) and "\u0600" <= term[:1] <= "\u06ff" and bool(arabic_cores(term) & _own_cores(own_words))


@lru_cache(maxsize=1024)
def business_words(*texts: str) -> frozenset[str]:
    """The content words of a business's name and of its sector's names ("Riad Dar Zitoun", "Hôtel, riad et
    maison d'hôtes"), normalised, for `knowledge_search(own_words=…)`."""
    return frozenset(word for text in texts for word in query_terms(text or "") if len(word) >= 3)


# Question words that ask for a kind of answer ("à quelle heure", "combien", "où"): a passage holding
# that kind of answer (a time of day, a price, a street) answers them, whatever its words.
ANSWER_KINDS = {
    "clock": ("heure heures quand jusqu time when until cuando hora horas hasta ساعه متي امتي فوقاش لفوقاش",
              re.compile(r"\d{1,2}\s*(?:h\b|h\d{2}|:\d{2}|[ap]\.?\s?m\b)|\b(?:midi|minuit|noon|midnight|mediodia|"
                         r"medianoche)\b|الساعه\s*\d|\b(?:de|from|من)\s+\d{1,2}\s*(?:a|to|الى|حتى|ل)\s+\d")),
    "price": ("combien prix tarif tarifs coute coutent cout much price prices cost costs cuanto cuanta precio precios "
              "cuesta cuestan vale valen كم بكم وبكم سعر ثمن تمن الثمن التمن شحال بشحال تكلفه يكلف تكلف",
              re.compile(r"\d\s*(?:dirhams?|dhs?|mad|eur|euros?|€|\$|usd|dollars?|درهم|دراهم|درهما|اورو|يورو)|"
                         r"(?:درهم|دراهم)\s*\d")),
    "place": ("ou where donde اين فين فاين located situe situes trouve trouvez adresse address direccion عنوان "
              "العنوان يقع كاين كاينه",
              re.compile(r"\b(?:rue|avenue|boulevard|bd|street|road|lane|avenida|calle|bulevar|plaza|derb|quartier|"
                         r"district|barrio)\b|شارع|زنقه|درب|ساحه|حي\s")),
}
# "how many", "combien de", "cuántas", "كم عدد", "شحال من": a count, although the same words ask for a price
_COUNT_QUESTION = re.compile(r"(^|\W)(how many|combien d|combien de|cuantos|cuantas|quantos|كم عدد|شحال من|"
                             r"عدد)(\W|$)")
_COUNT_WORDS = {"combien", "many", "cuantos", "cuantas", "quantos", "كم", "عدد", "شحال"}
# "how many rooms": a sentence holding a number before a noun answers it (apps.knowledge.lexicon)
ANSWER_KINDS["clock"] = (ANSWER_KINDS["clock"][0],
                        re.compile(f"{ANSWER_KINDS['clock'][1].pattern}|{CLOCK_WORDS_PATTERN}"))
ANSWER_KINDS["duration"] = (" ".join(sorted(DURATION_WORDS)), DURATION_PATTERN)
ANSWER_KINDS["count"] = (" ".join(sorted(COUNT_WORDS)), COUNT_PATTERN)
_KIND_OF = {normalise(word): kind for kind, (words, _pattern) in ANSWER_KINDS.items() for word in words.split()}
# a part of the day ("samedi après-midi", "sunday morning", "فالعشية") asks for that day's hours; more words ask where
_KIND_OF.update({normalise(word): "clock" for word in PARTS_OF_DAY if normalise(word) not in _KIND_OF})
_KIND_OF.update({normalise(word): "place" for word in PLACE_WORDS if normalise(word) not in _KIND_OF})


_VERB_PREFIXES = ("كن", "كت", "كي", "تي")


def _verb_stem(word: str) -> str:
    """An Arabic-script verb without its person and tense: "كتركبو", "تركبون", "نركبو" all "ركب" (the
    Arabic stemmer tells "نقدرو" from "تقدرو"); an accusative "عربونا" as "عربون"."""
    for prefix in _VERB_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            word = word[len(prefix):]
            break
    else:
        if not (word[0] in "نتي" and len(word) >= 4):
            return word[:-1] if word.endswith("ا") and len(word) >= 5 else word
        word = word[1:]
    for suffix in ("ون", "ين", "وا", "و"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _verb_variants(term: str) -> list[str]:
    """The other persons of a Darija or Arabic verb ("نقدرو": "تقدرو", "يقدرو", "كنقدرو"…), searched with it."""
    if not ("\u0600" <= term[:1] <= "\u06ff") or len(term) < 4 or term[0] not in "نتيك":
        return []
    core = _verb_stem(term)
    if core == term or len(core) < 3:
        return []
    ending = term[term.index(core) + len(core):] if core in term else ""
    forms = {f"{prefix}{core}{ending}" for prefix in ("ن", "ت", "ي", "كن", "كت", "كي")}
    return sorted(forms - {term})


@lru_cache(maxsize=4096)
def _passage_words(search_text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """(the words of a passage, their stems): the same passages are weighed turn after turn (kept per text)."""
    words = tuple(re.findall(r"\w{2,}", search_text))
    stems = {_stem(word) for word in search_text.split() if word} | {_stem(word) for word in words}
    stems |= {_stem(word[1:]) for word in words if word[0] in "وفب" and len(word) > 3}  # "ويوم": "and day"
    stems |= {_stem(joined.replace("-", "")) for joined in re.findall(r"\w+(?:-\w+)+", search_text)}  # wi-fi
    return words, frozenset(stems)


def _confidence(subject: list[str], corrections: dict[str, list[str]], search_text: str,
                stemmed: list[bool] | None = None) -> float:
    """The share of the question's subject words found in a passage: the word itself, its stem, a
    spelling correction of it, a word of the same everyday subject, or the kind of answer it asks for."""
    if not subject:
        return 0.0
    words, stems = _passage_words(search_text)
    # only the kinds of answer the subject's words ask for are looked for in the passage
    wanted = {_KIND_OF[term] for term in subject if term in _KIND_OF}
    if any(TIME_TERM.match(term) for term in subject):
        wanted.add("clock")
    kinds = {kind for kind in wanted if ANSWER_KINDS[kind][1].search(search_text)}
    cores = _passage_cores(words) if any("\u0600" <= term[:1] <= "\u06ff" for term in subject) else None
    found = 0
    for index, term in enumerate(subject):
        if (stemmed and index < len(stemmed) and stemmed[index]) or _KIND_OF.get(term) in kinds or any(
                _subject_stems(word) & stems for word in [term, *corrections.get(f"{term}\x00typo", [])]
        ) or _lexical_match(term, kinds, cores):
            found += 1
    return round(found / len(subject), 3)


def answer_sentences(text: str, query: str, *, limit: int = 2, own_words: frozenset[str] = frozenset()) -> str:
    """The sentence(s) of a passage that answer the question (those holding most of its subject words,
    in the passage's order), not the whole passage; the passage itself when it is one sentence."""
    sentences = [part.strip() for part in re.split(r"(?<=[.!?؟])\s+|\n+", text) if part.strip()]
    if len(sentences) <= 1:
        return " ".join(text.split())
    query = expand_abbreviations(query)
    subject = _subject(_terms(query, own_words), own_words)
    counting = bool(_COUNT_QUESTION.search(normalise(query)))
    if counting:  # "cuántas" does not ask for the sentence with a price
        subject = [term for term in subject if _KIND_OF.get(term) != "price" and term not in _COUNT_WORDS] or subject
    scores = [_confidence(subject, {}, normalise(sentence)) for sentence in sentences]
    best = max(scores)
    if best == 0:
        return " ".join(text.split())
    chosen = [index for index, score in enumerate(scores) if score == best][:limit]
    asked = {_KIND_OF[word] for word in re.findall(r"\w{2,}", normalise(query)) if word in _KIND_OF}
    if counting:  # "combien de chambres ?" asks for a number, not a price
        asked.discard("price")
    if asked and not any(ANSWER_KINDS[kind][1].search(normalise(sentences[index])) for index in chosen
                         for kind in asked):  # "combien ?" is answered by the sentence with the price
        holding = [index for index, sentence in enumerate(sentences)
                   if any(ANSWER_KINDS[kind][1].search(normalise(sentence)) for kind in asked)]
        if holding:
            chosen = sorted({*chosen[: limit - 1], max(holding, key=lambda index: (scores[index], -index))})
    return " ".join(" ".join(sentences[index].split()) for index in chosen)


def _languages_for(language: str, present: set[str]) -> list[str]:
    if not language:
        return []
    family = ["ar", "ary"] if language in {"ar", "ary"} else [language]
    return family if present & set(family) else []


def documents_list(*, status: str = "", kind: str = "") -> QuerySet[Document]:
    """The client's documents (the REST API's list), newest first."""
    rows = Document.objects.defer("raw_text", "raw_bytes").prefetch_related("agents")
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    return rows


def document_get(*, document_id: int) -> Document:
    document = Document.objects.defer("raw_bytes").filter(pk=document_id).first()
    if document is None:
        raise NotFound(_("No document with this id."))
    return document
