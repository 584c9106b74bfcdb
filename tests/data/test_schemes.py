"""Tag schemes: detection rules and conversion to IOB2, pinned case by case."""

from __future__ import annotations

import pytest

from bnner_tui.core.data import load_source
from bnner_tui.core.data.schemes import MixedSchemeError, UnknownTagError, to_iob2
from bnner_tui.core.errors import BnnerError

from .conftest import tags_of


@pytest.mark.parametrize(
    ("scheme", "tags", "expected"),
    [
        ("IOB2", ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"], ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]),
        # IOB1: I- opens an entity; B- only separates two adjacent entities of one type.
        ("IOB1", ["I-PER", "I-PER", "O", "I-LOC", "B-LOC"], ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]),
        (
            "BIOES",
            ["B-PER", "E-PER", "O", "S-LOC", "B-ORG", "I-ORG", "E-ORG"],
            ["B-PER", "I-PER", "O", "B-LOC", "B-ORG", "I-ORG", "I-ORG"],
        ),
        (
            "BILOU",
            ["B-PER", "L-PER", "O", "U-LOC", "B-ORG", "I-ORG", "L-ORG"],
            ["B-PER", "I-PER", "O", "B-LOC", "B-ORG", "I-ORG", "I-ORG"],
        ),
        ("IO", ["I-PER", "I-PER", "O", "I-LOC", "I-ORG"], ["B-PER", "I-PER", "O", "B-LOC", "B-ORG"]),
    ],
)
def test_detect_and_convert(scheme, tags, expected):
    conv = to_iob2([tags])
    assert conv.scheme == scheme
    assert conv.tags == [expected]
    assert conv.repaired == 0


def test_iob2_repair_is_counted():
    conv = to_iob2([["B-PER", "O", "I-PER"], ["B-LOC", "I-ORG"], ["B-ORG", "I-ORG"]])
    assert conv.scheme == "IOB2"
    assert conv.tags == [["B-PER", "O", "B-PER"], ["B-LOC", "B-ORG"], ["B-ORG", "I-ORG"]]
    assert conv.repaired == 2


def test_selected_scheme_overrides_detection():
    # Read as IOB2 (selected), the leading I- is a repaired error; read as IOB1 (detected) it is normal.
    assert to_iob2([["I-PER", "B-PER"]]).scheme == "IOB1"
    conv = to_iob2([["I-PER", "B-PER"]], "bio")
    assert conv.scheme == "IOB2" and conv.repaired == 1 and conv.tags == [["B-PER", "B-PER"]]


def test_selected_scheme_rejects_foreign_prefix():
    with pytest.raises(MixedSchemeError) as info:
        to_iob2([["O", "S-PER"]], "iob2")
    assert (info.value.sentence, info.value.token) == (0, 1)


def test_unknown_tag_position():
    with pytest.raises(UnknownTagError) as info:
        to_iob2([["O"], ["B-PER", "per"]])
    assert (info.value.sentence, info.value.token) == (1, 1)


def test_unknown_scheme_name():
    with pytest.raises(BnnerError, match="unknown tag scheme"):
        to_iob2([["O"]], "xyz")


def test_detection_spans_all_splits(write, tmp_path):
    """A dev file with only single-token S- entities is BIOES because train says so, and vice versa."""
    write("d/train.conll", "ক\tB-PER\nখ\tE-PER\n")
    write("d/dev.conll", "গ\tS-LOC\n")
    src = load_source(str(tmp_path / "d"))
    assert src.scheme == "BIOES"
    assert tags_of(src, "validation") == [["B-LOC"]]


def test_repair_warning_names_file(write):
    path = write("r.conll", "ক\tO\nখ\tI-PER\n\nগ\tI-LOC\n")
    src = load_source(str(path), scheme="iob2")
    assert tags_of(src) == [["O", "B-PER"], ["B-LOC"]]
    assert any(str(path) in w and "2 I- tag(s)" in w for w in src.warnings)


def test_own_entity_types_when_not_wikiann(write):
    src = load_source(str(write("m.conll", "ক\tB-MISC\nখ\tB-PER\n")))
    assert src.label_names == ["O", "B-PER", "I-PER", "B-MISC", "I-MISC"]


def test_bilou_file_converted(write):
    src = load_source(str(write("b.conll", "শেখ\tB-PER\nহাসিনা\tL-PER\nঢাকা\tU-LOC\n")))
    assert src.scheme == "BILOU"
    assert tags_of(src) == [["B-PER", "I-PER", "B-LOC"]]
