"""The normalisation policy of core/textnorm.py, rule by rule, plus offset properties."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnner_tui.core.textnorm import _REMOVED_RE, normalize, normalize_token, split_words

RRA_PRE, RRA_DEC = "\u09dc", "\u09a1\u09bc"  # ড়
RHA_PRE, RHA_DEC = "\u09dd", "\u09a2\u09bc"  # ঢ়
YYA_PRE, YYA_DEC = "\u09df", "\u09af\u09bc"  # য়
ZWJ, ZWNJ = "\u200d", "\u200c"


def words(raw: str) -> list[str]:
    return [w.text for w in split_words(raw)]


def check_spans(raw: str) -> None:
    for w in split_words(raw):
        assert normalize(raw[w.start : w.end]).text == w.text


# --- rule 1-2: NFC and the nukta letters ---------------------------------------------------------


@pytest.mark.parametrize(("pre", "dec"), [(RRA_PRE, RRA_DEC), (RHA_PRE, RHA_DEC), (YYA_PRE, YYA_DEC)])
def test_nukta_letters_both_spellings_become_base_plus_nukta(pre: str, dec: str) -> None:
    assert normalize_token("ব" + pre) == "ব" + dec
    assert normalize_token("ব" + dec) == "ব" + dec
    n = normalize("আ" + pre + "া")
    assert n.text == "আ" + dec + "া"
    # both output characters of the precomposed letter map back to its one raw character
    assert n.raw_span(1, 3) == (1, 2)
    assert n.to_raw(1) == 1 and n.to_raw(2) == 1 and n.to_raw(3) == 2


def test_two_part_vowel_signs_compose() -> None:
    assert normalize_token("ক\u09c7\u09be") == "ক\u09cb"  # কো
    assert normalize_token("ক\u09c7\u09d7") == "ক\u09cc"  # কৌ
    n = normalize("ক\u09c7\u09be")
    assert n.text == "কো" and n.raw_span(1, 2) == (1, 3)


def test_nukta_spellings_tokenize_the_same_with_mbert(mbert_dir) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(mbert_dir / "tokenizer.json"))
    # without normalisation the precomposed spelling is a whole-word [UNK] for mBERT
    assert tok.encode("ব" + RRA_PRE, add_special_tokens=False).tokens == ["[UNK]"]
    assert tok.encode("ব" + RRA_DEC, add_special_tokens=False).tokens == ["বড়"]
    for pre, dec in [(RRA_PRE, RRA_DEC), (RHA_PRE, RHA_DEC), (YYA_PRE, YYA_DEC)]:
        word = "আমা" + pre
        a = tok.encode(normalize_token(word), add_special_tokens=False).tokens
        b = tok.encode(normalize_token(word.replace(pre, dec)), add_special_tokens=False).tokens
        assert a == b and "[UNK]" not in a


# --- rule 3-4: khanda ta, ZWJ/ZWNJ, invisible characters ------------------------------------------


def test_old_khanda_ta_becomes_khanda_ta_with_exact_span() -> None:
    raw = "উত্" + ZWJ + "সব"
    n = normalize(raw)
    assert n.text == "উৎসব"
    assert n.raw_span(1, 2) == (1, 4)  # ৎ came from ত + ্ + ZWJ
    assert n.to_raw(2) == 4
    assert normalize_token(raw) == normalize_token("উৎসব") == "উৎসব"


def test_zwnj_and_zwj_are_removed_and_spans_skip_them() -> None:
    raw = "কিট্" + ZWNJ + "স"
    n = normalize(raw)
    assert n.text == "কিট্স"
    assert n.starts == (0, 1, 2, 3, 5)
    assert normalize_token("র" + ZWJ + "্যাব") == "র্যাব"
    [w] = split_words(ZWNJ + "ঢাকা" + ZWNJ)
    assert (w.text, w.start, w.end) == ("ঢাকা", 1, 5)


def test_other_format_and_control_characters_are_removed() -> None:
    assert normalize_token("\ufeffঢাকা\u200b") == "ঢাকা"
    assert normalize_token("ঢা\u00adকা\x00") == "ঢাকা"
    # a ZWSP does not separate words (BERT does not split there either)
    assert words("ঢাকা\u200bশহর") == ["ঢাকাশহর"]


def test_removed_class_matches_unicode_format_and_control_characters() -> None:
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        should = cat == "Cf" or (cat == "Cc" and not ch.isspace())
        matched = _REMOVED_RE.match(ch) is not None
        if should:
            assert matched, hex(cp)
        elif matched:
            assert cat == "Cn", hex(cp)  # only code points unassigned in this Python's Unicode


def test_zwnj_word_tokenizes_like_mbert_sees_it(mbert_dir) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(mbert_dir / "tokenizer.json"))
    raw = "বাংলা" + ZWNJ + "দেশ"
    assert tok.encode(raw).tokens == tok.encode(normalize_token(raw)).tokens == ["[CLS]", "বাংলাদেশ", "[SEP]"]
    # the khanda ta rewrite matters: dropping only the ZWJ would give a different word
    assert tok.encode("উত্সব", add_special_tokens=False).tokens == ["উ", "##ত", "##্স", "##ব"]
    assert tok.encode(normalize_token("উত্" + ZWJ + "সব"), add_special_tokens=False).tokens == ["উ", "##ৎ", "##সব"]


# --- rule 5-7: danda, digits, quotes, punctuation ------------------------------------------------


def test_danda_and_double_danda_are_own_words() -> None:
    assert words("সে বাড়ি গেল। তারপর॥") == ["সে", "বা" + RRA_DEC + "ি", "গেল", "।", "তারপর", "॥"]
    assert words("করেন।।") == ["করেন", "।", "।"]


def test_danda_lookalike_becomes_danda() -> None:
    raw = "গেল৷"
    assert words(raw) == ["গেল", "।"]
    assert split_words(raw)[1].start == 3
    assert normalize_token("৷") == "।"
    assert words("a|b") == ["a", "|", "b"]  # ASCII bar is not a danda


def test_danda_lookalike_glues_to_the_word_in_mbert_unless_mapped(mbert_dir) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(mbert_dir / "tokenizer.json"))
    assert tok.encode("করেন৷", add_special_tokens=False).tokens == ["করেন", "##৷"]  # a digit-like letter
    assert tok.encode(normalize_token("করেন৷"), add_special_tokens=False).tokens == ["করেন", "।"]


def test_digits_are_kept() -> None:
    assert normalize_token("১৯৭১") == "১৯৭১"
    assert normalize_token("1971") == "1971"
    assert words("১৯৭১ সালে ১,০০০ জন 3.14") == ["১৯৭১", "সালে", "১,০০০", "জন", "3.14"]
    assert words("ক,খ") == ["ক", ",", "খ"]  # a comma joins digits only


def test_quotes_are_own_words() -> None:
    assert words("“ঢাকা” ‘খুলনা’ \"রাজশাহী\" 'সিলেট'") == [
        "“", "ঢাকা", "”", "‘", "খুলনা", "’", '"', "রাজশাহী", '"', "'", "সিলেট", "'",
    ]  # fmt: skip
    assert normalize_token("“") == "“"  # not folded to ASCII


def test_apostrophe_inside_a_word_and_wikiann_connectors() -> None:
    assert words("লর্ড’স গ্রে'স আল-মাসরি ডি.সি") == ["লর্ড’স", "গ্রে'স", "আল-মাসরি", "ডি.সি"]
    assert words("সিটি–উইন্ডসর") == ["সিটি", "–", "উইন্ডসর"]  # en dash is its own word


def test_brackets_commas_and_punctuation_runs() -> None:
    assert words("শিরোনামহীন ''(২০১৩)'' , ঢাকা...") == [
        "শিরোনামহীন", "''", "(", "২০১৩", ")", "''", ",", "ঢাকা", "...",
    ]  # fmt: skip
    assert words("[[ঢাকা]]!?") == ["[", "[", "ঢাকা", "]", "]", "!", "?"]


def test_latin_and_emoji_inside_bengali() -> None:
    assert words("আমি Google-এ কাজ করি😀, ঢাকায়👍🏽 🇧🇩!") == [
        "আমি", "Google-এ", "কাজ", "করি", "😀", ",", "ঢাকা" + YYA_DEC, "👍🏽", "🇧🇩", "!",
    ]  # fmt: skip
    check_spans("আমি Google-এ কাজ করি😀, ঢাকায়👍🏽 🇧🇩!")


def test_whitespace_of_any_kind_separates() -> None:
    raw = "  ঢাকা\t\tশহর\n\nবাংলাদেশ\u00a0 \r\nx  "
    got = split_words(raw)
    assert [w.text for w in got] == ["ঢাকা", "শহর", "বাংলাদেশ", "x"]
    assert [raw[w.start : w.end] for w in got] == ["ঢাকা", "শহর", "বাংলাদেশ", "x"]
    assert split_words("") == [] and split_words(" \n\t ") == []


def test_offsets_map_back_into_a_mixed_sentence() -> None:
    raw = "আমার ব" + RRA_PRE + " ভাই উত্" + ZWJ + "সবে “ঢাকা”-তে গেল৷"
    for w in split_words(raw):
        assert normalize(raw[w.start : w.end]).text == w.text
    got = {w.text: raw[w.start : w.end] for w in split_words(raw)}
    assert got["ব" + RRA_DEC] == "ব" + RRA_PRE
    assert got["উৎসবে"] == "উত্" + ZWJ + "সবে"
    assert got["।"] == "৷"


def test_offset_api_rejects_out_of_range() -> None:
    n = normalize("ঢাকা")
    assert n.to_raw(4) == 4 and n.raw_span(2, 2) == (2, 2)
    with pytest.raises(IndexError):
        n.to_raw(5)
    with pytest.raises(IndexError):
        n.raw_span(3, 2)


def test_dataset_tokens_are_already_normal_in_wikiann(wikiann_dir) -> None:
    """The fast path is the common path: WikiANN tokens change only at ZWJ/ZWNJ/ZWSP or the danda look-alike."""
    changed = 0
    for line in (wikiann_dir / "train-bn.tsv").read_text(encoding="utf-8").splitlines():
        if not line:
            continue
        token = line.split("\t")[0]
        if normalize_token(token) != token:
            changed += 1
            assert ZWNJ in token or ZWJ in token or "\u200b" in token or token == "৷"
    assert changed > 0


# --- properties ----------------------------------------------------------------------------------

BENGALI = [chr(c) for c in range(0x0980, 0x0A00)]
INTERESTING = [
    ZWJ, ZWNJ, "\u200b", "\ufeff", "\u09f7", " ", "\t", "\n", "\u00a0", "।", "॥", "“", "”", "‘", "’",
    "'", ".", "-", ",", "(", ")", "😀", "\U0001f3fd", "\ufe0f", "🇧", "🇩", "e", "\u0301", "\u0323",
]  # fmt: skip
bn_text = st.text(alphabet=st.sampled_from(BENGALI + INTERESTING), max_size=40)
any_text = st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.one_of(bn_text, any_text))
def test_property_words_round_trip_in_order_without_overlap(raw: str) -> None:
    got = split_words(raw)
    last_end = 0
    for w in got:
        assert 0 <= last_end <= w.start < w.end <= len(raw)
        assert normalize(raw[w.start : w.end]).text == w.text
        assert w.text and not any(ch.isspace() for ch in w.text)
        last_end = w.end


@settings(max_examples=300, deadline=None)
@given(st.one_of(bn_text, any_text))
def test_property_normalize_offsets_monotone_and_in_range(raw: str) -> None:
    n = normalize(raw)
    assert n.text == unicodedata.normalize("NFC", n.text)
    assert n.text == normalize_token(raw)
    offsets = [n.to_raw(i) for i in range(len(n.text) + 1)]
    assert offsets == sorted(offsets)
    assert all(0 <= o <= len(raw) for o in offsets)
    assert n.to_raw(len(n.text)) == len(raw)
    for i in range(len(n.text)):
        a, b = n.raw_span(i, i + 1)
        assert 0 <= a < b <= len(raw)
    # idempotent: normalising twice changes nothing
    assert normalize(n.text).text == n.text
