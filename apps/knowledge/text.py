"""Text for search: normalisation per language, parsing of each document kind, chunking."""

from __future__ import annotations

import io
import re
import unicodedata
from functools import lru_cache
from html.parser import HTMLParser

from apps.knowledge.lexicon import EXTRA_STOPWORDS

# PostgreSQL text-search configuration per language. Darija has none: it is written in Arabic
# script and shares most stems with Arabic, and the trigram fallback catches the rest.
TS_CONFIGS = {"fr": "french", "en": "english", "es": "spanish", "ar": "arabic", "ary": "arabic"}

_ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي",
                                 "ڤ": "ف", "گ": "ك", "پ": "ب", "ڭ": "ك"})
_SPACES = re.compile(r"\s+")


# Function words dropped from queries before search (PostgreSQL's configurations drop their own
# language's stopwords from full-text queries, but not Darija's, and never from trigram lookups).
STOPWORDS = set("""
le la les l de des du d un une et ou est sont je j tu il elle nous vous ils elles on ce c cet cette ces mon ma mes
ton ta tes son sa ses notre votre vos leur leurs a au aux en dans par pour sur avec sans que qu qui quoi quel quelle
quels quelles est-ce ne pas plus y se s me m te t lui moi toi oui non si comment combien quand pourquoi avez avoir
etre fait faire peut peux puis bonjour merci svp stp chez
the a an and or is are was were be been i you he she it we they me my your our their this that these those of to in
on at for from with by as do does did have has had can could would will shall should what which who whom how when
where why there here if not no yes please hi hello thanks about any some
el la los las lo un una unos unas y o es son ser estar esta estan de del al a en con por para sin que quien cual
cuales como cuando donde cuanto cuanta cuantos mi mis tu tus su sus nuestro me te se le les nos yo usted ustedes
hay tienen tiene puedo puede si no hola gracias favor
واش عندكم عندك ديال ديالكم ديالي شي فين كيفاش شحال شنو اشنو علاش امتى بغيت بغيتي باغي نبغي كنبغي كاين كاينه
هاد هادي هادا هادو هو هي هوما حنا انا نتا نتي نقدر تقدر واحد وحده بزاف شويه غير حتى مع ف فال ل لل على من عند
هل ما ماذا كم كيف اين متى لماذا في الى إلى عن أن إن هذا هذه ذلك التي الذي هناك لدي لديكم عندي انتم نحن هو هي او و يا
جا جات
pendant during durante خلال اثناء
""".split())


# Common words of visitors' questions in the five languages, never "corrected" into a word of the
# documents (without it, "vendez" became "rendez" and "adresse" became "address"). Not a dictionary:
# the client's own vocabulary counts as known too, and a correction must keep the word's first letter.
COMMON_WORDS = STOPWORDS | set("""
vendez vendre vend vendu vente achetez acheter livrez livrer livraison faites proposez acceptez prenez ouvrez
fermez travaillez venir venez aller allez payer payez paiement adresse horaires horaire heure prix tarif tarifs
cout coute carte cartes cadeau cadeaux parking telephone numero semaine jour jours mois annee service services
rendez vous demain aujourd matin soir midi samedi dimanche lundi mardi mercredi jeudi vendredi enfant enfants
sell sells sold buy deliver delivery make offer accept take open close work come pay payment address hours hour
price prices cost card cards gift gifts phone number week day days month year today tomorrow morning evening
venden vender compran comprar entregan entrega hacen ofrecen aceptan abren cierran pagar pago direccion horario
precio precios cuesta tarjeta tarjetas regalo telefono semana dia dias mes ano hoy manana tarde noche
تبيعون تبيع بيع شراء توصيل الدفع عنوان العنوان الثمن السعر بطاقه هديه هدايا الهاتف رقم اسبوع يوم شهر
كتبيعو كتبيع نشري التوصيل نخلص فين العنوان التمن الكارط الكادو التيليفون النمره السيمانه نهار
""".split())


def query_terms(text: str) -> list[str]:
    """The content words of a query, normalised, without function words."""
    words = re.findall(r"\w{2,}", normalise(text))
    return [word for word in words if word not in STOPWORDS]


def ts_config(language: str) -> str:
    return TS_CONFIGS.get(language, "simple")


def _strip_latin_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not (unicodedata.combining(ch) and ord(ch) < 0x0600))


def normalise(text: str) -> str:
    """For search: lower case, Latin accents removed (visitors often type without them), Arabic
    letter variants unified and diacritics (tashkeel, tatweel) removed. Short texts (words, questions)
    are cached: the engine normalises the same lexicon words on every message."""
    return _normalise_short(text) if len(text) <= 300 else _normalise(text)


@lru_cache(maxsize=16384)
def _normalise_short(text: str) -> str:
    return _normalise(text)


def _normalise(text: str) -> str:
    text = _strip_latin_accents(unicodedata.normalize("NFKC", text).lower())
    text = _ARABIC_DIACRITICS.sub("", text).translate(_ARABIC_LETTERS)
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


# the everyday vocabulary's function words (apps.knowledge.lexicon: "while", "mine", "still", "نقدرو"…)
STOPWORDS |= EXTRA_STOPWORDS
# the function words as queries are compared with them: normalised ("على" is "علي", "إلى" is "الى"); "متى"
# stays a word of the query: it asks for a time of day (apps.knowledge.selectors.ANSWER_KINDS)
STOPWORDS |= {_normalise(word) for word in STOPWORDS} - {"متي"}
COMMON_WORDS |= {_normalise(word) for word in COMMON_WORDS}


class _TextExtractor(HTMLParser):
    SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav", "footer"}
    BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "dd", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """(title, text) of an HTML page."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n")]
    return parser.title.strip(), "\n".join(line for line in lines if line)


_MD_RULES = [
    (re.compile(r"```.*?```", re.S), " "),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.M), ""),
    (re.compile(r"^\s*[-*+]\s+", re.M), "- "),
    (re.compile(r"(\*\*|__|\*|_|`)"), ""),
    (re.compile(r"^\s*>\s?", re.M), ""),
]


def markdown_to_text(markdown: str) -> str:
    for pattern, replacement in _MD_RULES:
        markdown = pattern.sub(replacement, markdown)
    return markdown.strip()


def pdf_to_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()


_SENTENCE_END = re.compile(r"(?<=[.!?؟।])\s+")


def chunk_text(text: str, *, target: int = 700, overlap_sentences: int = 1) -> list[str]:
    """Paragraph-aware chunks of about `target` characters; long paragraphs split on sentences."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    sentences: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= target:
            sentences.append(paragraph)
        else:
            sentences.extend(s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip())
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in sentences:
        if current and size + len(sentence) > target:
            chunks.append(" ".join(current))
            current = current[-overlap_sentences:] if overlap_sentences and len(current) > 1 else []
            size = sum(len(s) + 1 for s in current)
        while len(sentence) > target * 2:  # a wall of text without punctuation
            chunks.append(sentence[:target])
            sentence = sentence[target:]
        current.append(sentence)
        size += len(sentence) + 1
    if current:
        chunks.append(" ".join(current))
    return chunks
