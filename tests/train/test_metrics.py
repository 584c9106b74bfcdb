"""Word-level metrics against hand-computed values, and the tutorial's piece-level inflation.

Every score goes through the live evaluation path (`core.train.evaluate`: `tokenize_eval_split`
→ `score_evalset` / `make_trainer_metrics`), the one that writes metrics.json during training and
for `bnner-tui eval`: real pieces from a tiny WordPiece tokenizer, per-piece log-probabilities in,
word-level scores out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from bnner_tui.core.labels import WIKIANN_LABELS
from bnner_tui.core.metrics import word_scores
from bnner_tui.core.train.evaluate import EvalSet, make_trainer_metrics, score_evalset, tokenize_eval_split

L = {name: i for i, name in enumerate(WIKIANN_LABELS)}
X = None  # a special token's position: its prediction is never read

# বাংলাদেশ = বাং ##লা ##দেশ (3 pieces), বোর্ড = বো ##র্ড (2), every other word one piece.
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "বাং", "##লা", "##দেশ", "ক্রিকেট", "ঢাকা", "।", "Google",
         "বো", "##র্ড"]  # fmt: skip


@pytest.fixture(scope="module")
def tokenizer() -> object:
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=None)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")


def evalset(tokenizer: object, words: list[str], gold: list[str], strategy: str = "first") -> EvalSet:
    split = {"tokens": [words], "ner_tags": [[L[g] for g in gold]]}
    return tokenize_eval_split(
        split, tokenizer=tokenizer, label_names=WIKIANN_LABELS, source_label_names=WIKIANN_LABELS,
        strategy=strategy, max_length=64,
    )  # fmt: skip


def log_probs(predicted: Sequence[str | None]) -> np.ndarray:
    """One row's per-piece log-probabilities: 0.9 on the predicted label (O at special tokens)."""
    p = np.full((len(predicted), len(WIKIANN_LABELS)), 0.1 / (len(WIKIANN_LABELS) - 1))
    for j, name in enumerate(predicted):
        p[j, L[name or "O"]] = 0.9
    return np.log(p)


def test_first_strategy_scores_words_not_pieces(tokenizer: object) -> None:
    es = evalset(tokenizer, ["বাংলাদেশ", "ক্রিকেট", "ঢাকা"], ["B-PER", "O", "B-LOC"])
    assert es.meta["word_ids"] == [[-1, 0, 0, 0, 1, 2, -1]]
    # Predictions at non-first pieces are garbage on purpose: they must not count.
    entry = score_evalset(es, [log_probs([X, "B-PER", "B-ORG", "B-ORG", "O", "B-LOC", X])], loss=0.5)
    assert entry["overall"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "accuracy": 1.0}
    assert entry["words"] == 3 and entry["sentences"] == 1 and entry["entities"] == 2
    assert entry["per_type"]["PER"]["support"] == 1 and entry["per_type"]["LOC"]["support"] == 1
    assert entry["piece_level"] is None and entry["loss"] == 0.5  # `first` labels one piece a word: no second view


def test_hand_computed_precision_recall(tokenizer: object) -> None:
    # gold: PER(w0-w1), O, LOC(w3); pred: PER(w0) only (w1 predicted O), O, ORG(w3)
    es = evalset(tokenizer, ["ক্রিকেট", "ঢাকা", "।", "Google"], ["B-PER", "I-PER", "O", "B-LOC"])
    entry = score_evalset(es, [log_probs([X, "B-PER", "O", "O", "B-ORG", X])])
    # strict: predicted entities PER(0-0), ORG(3) -> 0 correct; gold PER(0-1), LOC(3)
    assert entry["overall"]["precision"] == 0.0
    assert entry["overall"]["recall"] == 0.0
    assert entry["overall"]["accuracy"] == pytest.approx(2 / 4)
    cm = entry["confusion"]
    assert cm["labels"] == WIKIANN_LABELS
    assert cm["matrix"][L["I-PER"]][L["O"]] == 1
    assert cm["matrix"][L["B-LOC"]][L["B-ORG"]] == 1
    assert cm["matrix"][L["B-PER"]][L["B-PER"]] == 1
    assert sum(map(sum, cm["matrix"])) == 4


def test_strict_mode_rejects_orphan_inside_tags() -> None:
    """The scorer is seqeval's strict IOB2: an orphan I- is no entity (lenient conlleval would count one)."""
    m = word_scores([["B-PER", "I-PER"]], [["I-PER", "I-PER"]], WIKIANN_LABELS)
    assert m["overall"]["f1"] == 0.0
    assert m["overall"]["accuracy"] == pytest.approx(0.5)


def test_all_strategy_piece_level_is_inflated_word_level_is_not(tokenizer: object) -> None:
    # w0 = 3 pieces (B-PER copied to every piece, as the tutorial does), w1 O, w2 B-LOC
    es = evalset(tokenizer, ["বাংলাদেশ", "ক্রিকেট", "ঢাকা"], ["B-PER", "O", "B-LOC"], strategy="all")
    b_per, o, b_loc = L["B-PER"], L["O"], L["B-LOC"]
    assert es.rows["labels"] == [[-100, b_per, b_per, b_per, o, b_loc, -100]]
    entry = score_evalset(es, [log_probs([X, "B-PER", "B-PER", "B-PER", "O", "O", X])])  # LOC missed
    # word level: gold PER, LOC; predicted PER -> P=1, R=1/2, F1=2/3
    assert entry["overall"]["precision"] == 1.0
    assert entry["overall"]["recall"] == pytest.approx(0.5)
    assert entry["overall"]["f1"] == pytest.approx(2 / 3)
    # piece level: three PER "entities" all right + LOC missed -> R=3/4, F1=6/7 (inflated)
    piece = entry["piece_level"]
    assert piece["level"] == "piece" and piece["pieces"] == 5
    assert piece["overall"]["recall"] == pytest.approx(0.75)
    assert piece["overall"]["f1"] == pytest.approx(6 / 7)
    assert piece["overall"]["f1"] > entry["overall"]["f1"]


def test_all_b2i_uses_first_piece_label(tokenizer: object) -> None:
    es = evalset(tokenizer, ["বোর্ড", "ঢাকা"], ["B-ORG", "I-ORG"], strategy="all-b2i")
    assert es.rows["labels"] == [[-100, L["B-ORG"], L["I-ORG"], L["I-ORG"], -100]]
    entry = score_evalset(es, [log_probs([X, "B-ORG", "O", "I-ORG", X])])  # second piece wrong: irrelevant
    assert entry["overall"]["f1"] == 1.0
    assert entry["piece_level"]["overall"]["f1"] == 0.0


def test_trainer_compute_metrics_is_flat_and_sinks_full_result(tokenizer: object) -> None:
    es = evalset(tokenizer, ["ক্রিকেট", "ঢাকা"], ["B-PER", "I-PER"])
    seen: list[dict] = []
    compute = make_trainer_metrics(es, sink=seen.append)

    class EvalPred:  # what the Trainer passes: padded per-piece log-probabilities, as a tuple or not
        predictions = (np.stack([log_probs([X, "B-PER", "I-PER", X])]),)
        label_ids = np.array(es.rows["labels"])

    flat = compute(EvalPred())
    assert flat["f1"] == 1.0 and flat["PER_f1"] == 1.0
    assert all(isinstance(v, float) for v in flat.values())
    assert seen and seen[0]["per_type"]["PER"]["support"] == 1 and seen[0]["words"] == 2
