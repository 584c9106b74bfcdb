"""Tagging raw text with a token-classification model: exact character offsets, one label per word.

Modules, one job each: `model` (which model a name means, hub snapshot, loading), `text` (what
the tagger takes in: checks, long-text splitting, chunks), `windows` (the rows a batch becomes,
long sentences in word windows), `infer` (the batched forward pass and piece-to-word
aggregation), `engine` (the `Tagger` and its results). Decoding, span building and the windows
themselves are `core.decoding`'s, shared with evaluation.

Every module here imports torch and transformers inside functions, so the CLI can import this
package at start-up.
"""

from bnner_tui.core.tagger.engine import AGGREGATIONS, Entity, TaggedWord, Tagger, TagResult
from bnner_tui.core.tagger.model import find_latest_run_model, resolve_model_path
from bnner_tui.core.tagger.text import SimpleWord, WordLike, check_text, iter_chunks, split_long_text

__all__ = [
    "AGGREGATIONS",
    "Entity",
    "SimpleWord",
    "TagResult",
    "TaggedWord",
    "Tagger",
    "WordLike",
    "check_text",
    "find_latest_run_model",
    "iter_chunks",
    "resolve_model_path",
    "split_long_text",
]
