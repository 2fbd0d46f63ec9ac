"""The answer bench's labelled sets (bench/data/answers/) hold together: each fact is in its business's documents."""

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "bench" / "data" / "answers"
BUSINESSES = ["riad", "salon", "garage"]
LANGUAGES = {"fr", "en", "es", "ar", "ary"}
HELD_OUT = sorted(path.stem for path in DATA.glob("fresh*.json"))


def flat(text: str) -> str:
    """bench/answers.py's normalisation: a reply holds a fact when flat(fact).lower() is in flat(reply).lower()."""
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split()).lower()


def business(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def questions_of(source: str) -> dict[str, dict[str, list]]:
    if source == "own":
        return {name: business(name)["questions"] for name in BUSINESSES}
    return json.loads((DATA / f"{source}.json").read_text(encoding="utf-8"))["questions"]


@pytest.mark.parametrize("source", ["own", *HELD_OUT])
def test_every_fact_is_in_the_documents_of_its_language(source):
    missing = []
    for name, pages in questions_of(source).items():
        documents = business(name)["documents"]
        for page, questions in pages.items():
            for question, fact, *written_in in questions:
                language = written_in[0] if written_in else page
                text = flat(" ".join(f"{title} {body}" for title, body in documents[language]))
                if fact is not None and flat(fact) not in text:
                    missing.append((name, page, question, fact))
    assert not missing


@pytest.mark.parametrize("source", ["fresh3", "fresh4"])
def test_a_new_held_out_set_is_complete_and_repeats_no_earlier_question(source):
    earlier = {flat(question) for other in ["own", *HELD_OUT] if other < source or other == "own"
               for pages in questions_of(other).values() for questions in pages.values()
               for question, *_ in questions}
    phrasings = json.loads((DATA / f"{source}.json").read_text(encoding="utf-8"))["phrasings"]
    assert set(phrasings) == LANGUAGES and all(len(items) == 3 for items in phrasings.values())
    for name, pages in questions_of(source).items():
        assert name in BUSINESSES and set(pages) == LANGUAGES
        for questions in pages.values():
            assert len(questions) == 8 and sum(fact is None for _, fact, *_ in questions) >= 2
            assert not {flat(question) for question, *_ in questions} & earlier
