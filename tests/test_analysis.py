"""Error analysis of a run: word-level predictions of its saved model on its own data."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from bnner_tui.core.analysis import (
    SentencePrediction,
    confusion_from_metrics,
    confusion_matrix,
    errors_only,
    predict_split,
    word_accuracy,
)
from bnner_tui.core.config import TrainConfig
from bnner_tui.core.errors import BnnerError, ModelNotFoundError
from bnner_tui.core.labels import WIKIANN_LABELS


def make_run(root: Path, model_dir: Path | None, *, data: str = "demo", name: str = "r1") -> Path:
    run = root / name
    run.mkdir(parents=True)
    TrainConfig(data=data, run_name=name, output_root=str(root)).to_toml(run / "config.toml")
    if model_dir is not None:
        shutil.copytree(model_dir, run / "model")
    return run


def test_pure_helpers() -> None:
    a = SentencePrediction(["x", "y", "z"], ["B-PER", "I-PER", "O"], ["B-PER", "O", "O"], index=0)
    b = SentencePrediction(["w"], ["O"], ["O"], index=1)
    assert a.wrong == [1] and a.has_errors and not b.has_errors
    assert errors_only([a, b]) == [a]
    cm = confusion_matrix([a, b], WIKIANN_LABELS)
    assert cm["labels"] == WIKIANN_LABELS
    m = cm["matrix"]
    assert m[0][0] == 2 and m[1][1] == 1 and m[2][0] == 1 and sum(map(sum, m)) == 4
    assert word_accuracy([a, b]) == 0.75
    # A label the names do not know is added, not dropped.
    c = SentencePrediction(["q"], ["B-MISC"], ["O"])
    assert "B-MISC" in confusion_matrix([c], WIKIANN_LABELS)["labels"]


def test_confusion_from_metrics(tmp_path: Path) -> None:
    assert confusion_from_metrics(tmp_path) is None
    conf = {"labels": ["O", "B-PER"], "matrix": [[5, 1], [0, 2]]}
    (tmp_path / "metrics.json").write_text(
        json.dumps({"level": "word", "splits": {"validation": {"confusion": conf}}}), encoding="utf-8"
    )
    assert confusion_from_metrics(tmp_path) == conf
    assert confusion_from_metrics(tmp_path, "test") is None


@pytest.mark.slow
def test_predict_split_matches_a_direct_first_piece_inference(tmp_path: Path, tiny_model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from bnner_tui.core.data import load_source

    run = make_run(tmp_path, tiny_model_dir)
    calls: list[tuple[int, int]] = []
    preds = predict_split(run, "validation", progress=lambda done, total: calls.append((done, total)))
    ds = load_source("demo").dataset["validation"]
    names = ds.features["ner_tags"].feature.names
    assert len(preds) == len(ds) and calls[-1] == (len(ds), len(ds))
    for i in (0, 7, len(ds) - 1):
        assert preds[i].index == i
        assert preds[i].tokens == ds[i]["tokens"]
        assert preds[i].gold == [names[t] for t in ds[i]["ner_tags"]]
        assert len(preds[i].pred) == len(preds[i].tokens)

    # The same words through plain transformers: each word's FIRST piece gives its probabilities,
    # and the project's one decoding (core.decoding) turns them into labels.
    from bnner_tui.core.decoding import Decoder

    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    model = AutoModelForTokenClassification.from_pretrained(str(tiny_model_dir)).eval()
    decoder = Decoder([model.config.id2label[k] for k in range(model.config.num_labels)])
    for i in (0, 3, 11):
        enc = tok(ds[i]["tokens"], is_split_into_words=True, return_tensors="pt")
        with torch.no_grad():
            probs = torch.softmax(model(**enc).logits[0], -1).numpy()
        rows, seen = [], set()
        for pos, wid in enumerate(enc.word_ids()):
            if wid is not None and wid not in seen:
                seen.add(wid)
                rows.append(probs[pos])
        assert preds[i].pred == decoder.decode(ds[i]["tokens"], np.stack(rows)).labels

    total_words = sum(len(p.tokens) for p in preds)
    cm = confusion_matrix(preds, WIKIANN_LABELS)
    assert sum(map(sum, cm["matrix"])) == total_words
    right = sum(cm["matrix"][k][k] for k in range(len(WIKIANN_LABELS)))
    assert right / total_words == pytest.approx(word_accuracy(preds))
    assert errors_only(preds) == [p for p in preds if p.gold != p.pred]

    # Cached in the run folder; a re-saved model invalidates the cache.
    cache = run / "analysis" / "validation.json"
    assert cache.exists()
    data = json.loads(cache.read_text(encoding="utf-8"))
    data["sentences"][0]["pred"] = ["MARKER"] * len(data["sentences"][0]["pred"])
    cache.write_text(json.dumps(data), encoding="utf-8")
    assert predict_split(run, "validation")[0].pred[0] == "MARKER"
    weights = next((run / "model").glob("*.safetensors"))
    st = weights.stat()
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert predict_split(run, "validation")[0].pred == preds[0].pred


def test_clear_errors(tmp_path: Path, tiny_model_dir: Path) -> None:
    no_model = make_run(tmp_path, None, name="nomodel")
    with pytest.raises(ModelNotFoundError, match="no saved model yet"):
        predict_split(no_model)
    run = make_run(tmp_path, tiny_model_dir, name="nosplit")
    with pytest.raises(BnnerError, match="no 'dev' split"):
        predict_split(run, "dev")
