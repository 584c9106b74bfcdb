"""Offsets always point into the raw text: tricky inputs by hand, then hypothesis.

The tiny random-init model labels words almost at random, which is what these tests want:
many entities of every type in odd places, so any offset slip shows.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnner_tui.core.tagger import Tagger
from bnner_tui.core.textnorm import split_words

TRICKY = [
    "ঢাকা।",  # danda attached
    "ঢাকা বাংলাদেশের রাজধানী॥ রবীন্দ্রনাথ",
    "কিট্\u200cস আর কিট্\u200dস",  # ZWNJ / ZWJ
    "বড় রাস্তা বড় রাস্তা",  # precomposed and decomposed nukta
    "আষাঢ় আর আষাঢ়, প্রিয়",
    "উত্\u200dসব",  # old khanda ta
    '“ঢাকা” ‘কলকাতা’ "x"',  # curly and straight quotes
    "Dhaka University এবং Google-এ কাজ",  # Latin inside Bengali
    "ঢাকা 😀 👍🏽 সিডনি🇧🇩",  # emoji
    "শেখ   হাসিনা\t\tসিডনি  ক্রিকেট",  # repeated whitespace
    "ঢাকা\nবাংলাদেশের\r\nরাজধানী\n\n",  # newlines
    "  ১,০০০ টাকা (প্রায়) — ৩.১৪ …",
    "\ufeffঢাকা\u00a0শহর",  # BOM, NBSP
    "ে\u09be কো",  # vowel sign typed in two parts
]


def check_result(raw: str, result) -> None:
    assert result.text == raw
    prev_end = 0
    for e in result.entities:
        assert raw[e.start : e.end] == e.text
        assert 0 <= e.start < e.end <= len(raw)
        assert e.start >= prev_end, "entities overlap or are out of order"
        prev_end = e.end
        assert e.text == e.text.strip(), "an entity starts or ends with whitespace"
        assert 0.0 <= e.score <= 1.0
    words = split_words(raw)
    assert [(w.start, w.end) for w in result.words] == [(w.start, w.end) for w in words]
    for w in result.words:
        assert raw[w.start : w.end] == w.text
    # every entity is a run of whole words with B- then I- labels (valid IOB2 by construction)
    starts = {w.start: i for i, w in enumerate(result.words)}
    ends = {w.end: i for i, w in enumerate(result.words)}
    for e in result.entities:
        first, last = starts[e.start], ends[e.end]
        assert result.words[first].label == f"B-{e.label}"
        assert all(result.words[k].label == f"I-{e.label}" for k in range(first + 1, last + 1))
    labelled = sum(1 for w in result.words if w.label != "O")
    assert labelled == sum(ends[e.end] - starts[e.start] + 1 for e in result.entities)


@pytest.mark.parametrize("raw", TRICKY)
@pytest.mark.parametrize("aggregation", ["first", "average"])
def test_tricky_inputs_round_trip(tiny_tagger: Tagger, raw: str, aggregation: str) -> None:
    check_result(raw, tiny_tagger.tag(raw, aggregation=aggregation))


def test_tricky_inputs_make_entities(tiny_tagger: Tagger) -> None:
    """Guard for the property tests: the tiny model really does produce entities here."""
    results = tiny_tagger.tag_batch(TRICKY)
    assert sum(len(r.entities) for r in results) >= len(TRICKY)


_ALPHABET = list("কখগঘঙচছজঝঞটঠডঢণতথদধনপফবভমযরলশষসহড়ঢ়য়ৎািীুূৃেৈোৌ্ংঃঁ়০১২৩৪৫৬৭৮৯abcXYZ019.,-'’;:!?()[]“”‘’\"।॥৷")
_SPECIAL = [
    "\u200c",
    "\u200d",
    "\u09dc",
    "\u09dd",
    "\u09df",
    "\u09a1\u09bc",
    " ",
    "  ",
    "\n",
    "\t",
    "😀",
    "👍🏽",
    "\u00a0",
]

texts = st.lists(st.one_of(st.sampled_from(_ALPHABET), st.sampled_from(_SPECIAL)), max_size=60).map("".join)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=texts)
def test_offsets_property(tiny_tagger: Tagger, raw: str) -> None:
    check_result(raw, tiny_tagger.tag(raw))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(texts, min_size=1, max_size=6))
def test_batch_property(tiny_tagger: Tagger, batch: list[str]) -> None:
    results = tiny_tagger.tag_batch(batch, batch_size=4, aggregation="average")
    assert [r.text for r in results] == batch
    for raw, result in zip(batch, results, strict=True):
        check_result(raw, result)
