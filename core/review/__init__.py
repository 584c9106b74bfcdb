"""Reviewing silver labels: find likely errors with out-of-fold predictions, decide, save a corrected source.

- `core.review.model`: the fold model interface (`fold_model(train_sentences) -> predict_proba`)
  and the offline small BERT behind it today;
- `core.review.find`: k-fold out-of-fold probabilities, ranked with cleanlab (`run_review`);
- `core.review.spans`: IOB2-valid suggestions and span edits;
- `core.review.session`: the decisions log (append-only, fsynced) and its replay;
- `core.review.corrected`: the corrected source (data + changelog + parameters) and `diff_sources`.

Nothing heavy at import time: numpy and the standard library only; cleanlab, torch and
datasets load inside the functions that need them.
"""
