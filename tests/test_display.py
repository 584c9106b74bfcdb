"""One glyph for a missing value, wherever a number is missing (there were three: --, — and –)."""

from __future__ import annotations

from bnner_tui.core.display import NO_VALUE, number
from bnner_tui.core.metrics import generalisation_rows
from bnner_tui.tui.presentation import format_duration


def test_number_formats_numbers_and_nothing_else() -> None:
    assert number(0.51234) == "0.512" and number(3, 1) == "3.0"
    assert number(None) == number("x") == number(True) == NO_VALUE


def test_reports_and_durations_use_the_one_glyph() -> None:
    rows = generalisation_rows({"overall": {"precision": 0.5, "recall": None, "f1": 0.25}})
    assert rows == [("all", "0.500", NO_VALUE, "0.250", NO_VALUE)]
    assert format_duration(None) == NO_VALUE
