"""The widget file: its size budget and the rules that keep it safe on a client's page."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

BUNDLE = Path(__file__).resolve().parents[2] / "static" / "widget" / "vocalia.js"
SOURCE = BUNDLE.read_text()


def test_it_stays_under_20_kb_gzipped():
    assert len(gzip.compress(SOURCE.encode(), 9)) <= 20 * 1024


def test_it_never_renders_server_text_as_html_nor_evaluates_code():
    assert not re.search(r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", SOURCE)


def test_it_makes_no_third_party_requests():
    # The only absolute URL is the SVG namespace; everything else is relative to the script's own origin.
    assert set(re.findall(r"https?://[^\s\"')]+", SOURCE)) == {"http://www.w3.org/2000/svg"}
