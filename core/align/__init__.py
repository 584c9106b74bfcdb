"""Subword alignment: tokenizer loading (`load`), one sample (`single`), whole batches (`batch`, `cache`).

Only the `tokenizers` library (fast to import, no torch) and numpy are used, so the data browser
can show alignments without importing transformers. The strategies are `core.config.STRATEGIES`.
"""

from bnner_tui.core.align.batch import align_batch
from bnner_tui.core.align.load import load_tokenizer, tokenizer_max_length
from bnner_tui.core.align.single import Alignment, align

__all__ = [
    "Alignment",
    "align",
    "align_batch",
    "load_tokenizer",
    "tokenizer_max_length",
]
