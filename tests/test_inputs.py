"""apps.core.inputs: the fuzzer's classes of bad input become InvalidInput (a 400), never a crash."""

import pytest

from apps.core.errors import InvalidInput
from apps.core.inputs import json_parse, text_clean


def test_it_parses_and_strips_nul_bytes():
    assert json_parse(b'{"a": [1, {"b": "x\\"]]]"}], "c": "a\\u0000b"}') == {"a": [1, {"b": 'x"]]]'}], "c": "ab"}


@pytest.mark.parametrize("body, message", [
    (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    (b"[" * 33 + b"]" * 33, "nested too deeply"),
    (b'{"n": ' + b"9" * 5000 + b"}", "too large"),
    (b'{"page": "a\\ud800b"}', "“page”"),
    (b'{"list": ["ok", "\\udfff"]}', "“list[1]”"),
    (b"\xff\xfe", "UTF-8"),
    (b"NaN", "not valid JSON"),
    (b'{"a": 1', "not valid JSON"),
])
def test_it_refuses_what_a_fuzzer_sends(body, message):
    with pytest.raises(InvalidInput) as refused:
        json_parse(body)
    assert message in refused.value.message


def test_it_counts_no_brackets_inside_strings():
    assert json_parse('["' + "[" * 100 + '"]') == ["[" * 100]
    nested = json_parse(b"[" * 32 + b"]" * 32)
    for _ in range(31):
        nested = nested[0]
    assert nested == []


def test_it_refuses_a_lone_surrogate_in_text():
    assert text_clean("caf\x00é") == "café"
    with pytest.raises(InvalidInput):
        text_clean("a\ud800", field="text")
