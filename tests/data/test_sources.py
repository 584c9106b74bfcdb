"""load_source over every kind of source: the real WikiANN bn files, the demo set, tables and saved datasets."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bnner_tui.core.data import load_source
from bnner_tui.core.errors import BnnerError, DataFormatError
from bnner_tui.core.labels import WIKIANN_LABELS

from .conftest import tags_of


def _count_lines(path: Path) -> tuple[int, Counter]:
    """Independent count: sentences = runs of non-blank lines; tags = last tab column."""
    sentences, tags, in_sentence = 0, Counter(), False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            if not in_sentence:
                sentences += 1
            in_sentence = True
            if "\t" in line:
                tags[line.rsplit("\t", 1)[1]] += 1
        else:
            in_sentence = False
    return sentences, tags


@pytest.mark.shared
def test_real_wikiann_bn_folder(wikiann_dir):
    src = load_source(str(wikiann_dir))
    assert {k: len(v) for k, v in src.dataset.items()} == {"train": 10000, "validation": 1000, "test": 1000}
    assert src.label_names == WIKIANN_LABELS
    assert src.unlabelled_splits == {"test"}
    assert src.scheme == "IOB2"
    for split, fname in (("train", "train-bn.tsv"), ("validation", "dev-bn.tsv")):
        n, expected = _count_lines(wikiann_dir / fname)
        assert n == len(src.dataset[split])
        got = Counter(tag for row in tags_of(src, split) for tag in row)
        assert got == expected
    assert expected["B-PER"] == 364  # dev, as documented in the data's SOURCE.md
    test_n, test_tags = _count_lines(wikiann_dir / "test-bn.tsv")
    assert test_n == 1000 and not test_tags
    assert all(i == -1 for row in src.dataset["test"]["ner_tags"] for i in row)
    assert src.dataset["train"][0]["tokens"] == ["ড্যানভিল", ",", "ইলিনয়"]
    assert src.dataset["train"][0]["ner_tags"] == [5, 6, 6]


@pytest.mark.shared
def test_wikiann_release_format_with_bn_prefix(wikiann_dummy_dir):
    src = load_source(str(wikiann_dummy_dir))
    assert {k: len(v) for k, v in src.dataset.items()} == {"train": 1, "validation": 1, "test": 1}
    assert src.dataset["train"][0]["tokens"] == ["ড্যানভিল", ",", "ইলিনয়"]
    assert tags_of(src, "test") == [["B-ORG", "I-ORG", "I-ORG", "I-ORG"]]  # this test file is labelled
    assert src.unlabelled_splits == set()


def test_demo_set():
    src = load_source("demo")
    sizes = {k: len(v) for k, v in src.dataset.items()}
    assert list(sizes) == ["train", "validation", "test"]
    assert sum(sizes.values()) >= 300 and min(sizes.values()) >= 30
    assert src.label_names == WIKIANN_LABELS and src.warnings == [] and src.unlabelled_splits == set()
    used = {src.label_names[i] for ds in src.dataset.values() for row in ds["ner_tags"] for i in row}
    assert used == set(WIKIANN_LABELS)
    sentences = {k: {tuple(t) for t in v["tokens"]} for k, v in src.dataset.items()}
    assert not (sentences["train"] & sentences["validation"])
    assert not (sentences["train"] & sentences["test"])
    assert not (sentences["validation"] & sentences["test"])
    all_tokens = [tok for ds in src.dataset.values() for row in ds["tokens"] for tok in row]
    assert "।" in all_tokens  # full sentences with danda
    short = [row for row in src.dataset["train"]["tokens"] if "।" not in row]
    assert len(short) > 50  # and title-like fragments
    assert "demo" in src.name and "wikiann" not in src.name.lower()


def test_demo_files_are_the_generator_output(tmp_path, monkeypatch):
    """The committed demo files are exactly what scripts/make_demo_data.py writes."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "make_demo_data.py"
    spec = importlib.util.spec_from_file_location("make_demo_data", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "OUT", tmp_path)
    mod.main()
    from bnner_tui.core.data import DEMO_DIR

    for name in ("train.conll", "validation.conll", "test.conll"):
        assert (tmp_path / name).read_bytes() == (DEMO_DIR / name).read_bytes()


ROWS = [
    {"tokens": ["শেখ", "হাসিনা", "ঢাকায়"], "ner_tags": ["B-PER", "I-PER", "B-LOC"]},
    {"tokens": ["ব্র্যাক"], "ner_tags": ["B-ORG"]},
]
EXPECTED_IDS = [[1, 2, 5], [3]]


def test_jsonl_string_tags(write):
    path = write("x.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS))
    src = load_source(str(path))
    assert src.dataset["train"]["ner_tags"] == EXPECTED_IDS


def test_jsonl_words_and_int_tags_without_names_warns(write):
    rows = [{"words": r["tokens"], "tags": ids} for r, ids in zip(ROWS, EXPECTED_IDS, strict=True)]
    path = write("train.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    src = load_source(str(path))
    assert src.dataset["train"]["ner_tags"] == EXPECTED_IDS
    assert any("WikiANN's order" in w for w in src.warnings)


def test_jsonl_errors_name_the_line(write):
    good = json.dumps(ROWS[0], ensure_ascii=False)
    path = write("e.jsonl", good + "\n\n" + json.dumps({"tokens": ["ক", "খ"], "ner_tags": ["O"]}) + "\n")
    with pytest.raises(DataFormatError) as info:
        load_source(str(path))
    assert info.value.line == 3 and "2 tokens but 1 tags" in str(info.value)
    path = write("e2.jsonl", good + "\n{not json\n")
    with pytest.raises(DataFormatError) as info:
        load_source(str(path))
    assert info.value.line == 2


def test_json_records_and_columns(write):
    src = load_source(str(write("r.json", json.dumps(ROWS, ensure_ascii=False))))
    assert src.dataset["train"]["ner_tags"] == EXPECTED_IDS
    cols = {"tokens": [r["tokens"] for r in ROWS], "labels": [r["ner_tags"] for r in ROWS]}
    src = load_source(str(write("c.json", json.dumps(cols, ensure_ascii=False))))
    assert src.dataset["train"]["ner_tags"] == EXPECTED_IDS


def _hf_dataset(names: list[str]):
    from datasets import ClassLabel, Dataset, Features, Sequence, Value

    features = Features({"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=names))})
    ids = [[names.index(t) for t in r["ner_tags"]] for r in ROWS]
    return Dataset.from_dict({"tokens": [r["tokens"] for r in ROWS], "ner_tags": ids}, features=features)


def test_parquet_with_classlabel_names_in_another_order(tmp_path):
    # Names in a different order than WikiANN's: ids must be remapped through the names, not trusted.
    names = ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    path = tmp_path / "d.parquet"
    _hf_dataset(names).to_parquet(str(path))
    src = load_source(str(path))
    assert src.label_names == WIKIANN_LABELS
    assert src.dataset["train"]["ner_tags"] == EXPECTED_IDS


def test_parquet_string_tags(tmp_path):
    from datasets import Dataset

    path = tmp_path / "s.parquet"
    Dataset.from_list(ROWS).to_parquet(str(path))
    assert load_source(str(path)).dataset["train"]["ner_tags"] == EXPECTED_IDS


def test_save_to_disk_dataset_dict(tmp_path):
    from datasets import DatasetDict

    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    DatasetDict({"train": _hf_dataset(names), "dev": _hf_dataset(names)}).save_to_disk(str(tmp_path / "saved"))
    src = load_source(str(tmp_path / "saved"))
    assert list(src.dataset) == ["train", "validation"]
    assert src.dataset["validation"]["ner_tags"] == EXPECTED_IDS


def test_save_to_disk_single_dataset(tmp_path):
    _hf_dataset(list(WIKIANN_LABELS)).save_to_disk(str(tmp_path / "one"))
    src = load_source(str(tmp_path / "one"))
    assert list(src.dataset) == ["train"] and src.dataset["train"]["ner_tags"] == EXPECTED_IDS


def test_folder_with_split_files_and_other_files(write, tmp_path):
    write("f/train-bn.tsv", "ক\tB-PER\n")
    write("f/valid.jsonl", json.dumps(ROWS[1], ensure_ascii=False) + "\n")
    write("f/README.md", "# notes\n")
    write("f/notes.txt", "not a split\n")
    src = load_source(str(tmp_path / "f"))
    assert list(src.dataset) == ["train", "validation"]


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(BnnerError, match="does not exist"):
        load_source(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(BnnerError, match="no split files"):
        load_source(str(tmp_path / "empty"))
