"""The corrected source: a new folder that loads like any source; apply -> diff gives back the changelog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bnner_tui.core.errors import BnnerError
from bnner_tui.core.review.corrected import diff_sources, read_changelog, save_corrected
from bnner_tui.core.review.session import ReviewSession


def _decide(review: Path) -> ReviewSession:
    s = ReviewSession(review)
    s.accept(s.suspects[0].sentence)
    s.set_span(s.suspects[1].sentence, 0, 1, "ORG")
    s.correct(s.suspects[2].sentence)
    s.accept(s.suspects[3].sentence)
    s.undo()  # the last accept does not count
    return s


def test_changelog_round_trip(demo_review: Path, demo_source, tmp_path: Path) -> None:
    from bnner_tui.core.data import load_source

    session = _decide(demo_review)
    out = tmp_path / "demo-corrected"
    doc = save_corrected([demo_review], out, source=demo_source)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["changelog.jsonl", "correction.json", "train.jsonl", "validation.jsonl", "test.jsonl"]
    )
    changelog = read_changelog(out)
    assert doc["changes"] == len(changelog) > 0
    corrected = load_source(str(out))
    assert corrected.splits == demo_source.splits
    d = diff_sources(demo_source, corrected)
    assert sorted(c.key() for c in d.changes) == sorted(c.key() for c in changelog)
    assert not d.size_mismatch and not d.token_mismatch
    # the changes are exactly the reviewed sentences' final labels
    final = session.final_labels()
    assert {c.sentence for c in changelog} == set(final)
    for c in changelog:
        assert final[c.sentence][c.word] == c.new
    entries = [json.loads(x) for x in (out / "changelog.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(e["at"] and e["split"] == "train" and e["token"] for e in entries)
    params = json.loads((out / "correction.json").read_text(encoding="utf-8"))
    assert params["source"] == "demo" and params["reviews"][0]["parameters"]["folds"] == 3
    # the other splits are the original's, unchanged
    assert corrected.dataset["validation"]["ner_tags"] == demo_source.dataset["validation"]["ner_tags"]


def test_never_overwrites(demo_review: Path, demo_source, tmp_path: Path) -> None:
    _decide(demo_review)
    out = tmp_path / "c"
    save_corrected([demo_review], out, source=demo_source)
    with pytest.raises(BnnerError, match="not empty"):
        save_corrected([demo_review], out, source=demo_source)


def test_cli_correct_diff_and_stats(demo_review: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bnner_tui.tui.cli import app

    _decide(demo_review)
    out = tmp_path / "fixed"
    runner = CliRunner()
    res = runner.invoke(app, ["data", "correct", str(demo_review), "--out", str(out)])
    assert res.exit_code == 0, res.output
    n = len(read_changelog(out))
    assert f"{n} label changes" in res.output
    diff = runner.invoke(app, ["data", "diff", "demo", str(out)])
    assert diff.exit_code == 0, diff.output
    assert f"{n} label changes" in diff.output
    stats = runner.invoke(app, ["data", "stats", str(out)])
    assert stats.exit_code == 0 and "train" in stats.output and "480" in stats.output


def test_propagate_fixes_exact_duplicates_in_another_split(tmp_path: Path) -> None:
    from bnner_tui.core.data import load_source
    from bnner_tui.core.review.find import run_review
    from bnner_tui.core.review.model import lexicon_fold_model

    good = (
        "Rahim\tB-PER\nvisited\tO\nSylhet\tB-LOC\n\nDhaka\tB-ORG\nBank\tI-ORG\nis\tO\nbig\tO\n\n"
        "Sheikh\tB-PER\nMujib\tI-PER\nin\tO\nSylhet\tB-LOC\nDivision\tI-LOC\n"
    )
    bad = "Rahim\tB-ORG\nvisited\tO\nSylhet\tB-LOC\n"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.conll").write_text((good + "\n") * 6 + bad, encoding="utf-8")
    (tmp_path / "data" / "dev.conll").write_text(bad + "\n" + good, encoding="utf-8")
    src = load_source(str(tmp_path / "data"))
    review = tmp_path / "rev"
    run_review(src, out=review, folds=3, trainer=lexicon_fold_model)
    s = ReviewSession(review)
    target = next(x for x in s.suspects if x.given[0] == "B-ORG" and x.words[0] == "Rahim")
    s.set_span(target.sentence, 0, 1, "PER")
    doc = save_corrected([review], tmp_path / "out", source=src, propagate=["validation"])
    assert doc["propagated_changes"] == 1
    fixed = load_source(str(tmp_path / "out"))
    names = fixed.label_names
    assert [names[i] for i in fixed.dataset["validation"]["ner_tags"][0]] == ["B-PER", "O", "B-LOC"]
    changes = diff_sources(src, fixed).changes
    assert sorted(c.key() for c in changes) == sorted(c.key() for c in read_changelog(tmp_path / "out"))
    assert {c.split for c in changes} == {"train", "validation"}
