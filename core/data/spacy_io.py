"""spaCy, as the optional extra ``bnner-tui[spacy]``: DocBin files (``.spacy``) and its Bengali tokenizer.

spaCy is never imported at start-up and never required: without it, `.spacy` files get one
sentence naming the extra, and ``[text, tags]`` pairs are aligned with our splitter only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from bnner_tui.core.errors import BnnerError

EXTRA_HINT = "install the spaCy extra: pip install 'bnner-tui[spacy]'"


def have_spacy() -> bool:
    import importlib.util

    return importlib.util.find_spec("spacy") is not None


def require_spacy(what: str) -> Any:
    """The spacy module, or a BnnerError naming the extra."""
    try:
        import spacy
    except ImportError:
        raise BnnerError(f"{what} needs spaCy, which is not installed; {EXTRA_HINT}") from None
    return spacy


@lru_cache(maxsize=1)
def _blank_bn() -> Any:
    spacy = require_spacy("spaCy's Bengali tokenizer")
    return spacy.blank("bn")


def spacy_tokens(text: str) -> list[tuple[int, int, bool]] | None:
    """spaCy's Bengali tokens of ``text`` as (start, end, is_space), or None without the extra."""
    if not have_spacy():
        return None
    doc = _blank_bn().make_doc(text)
    return [(t.idx, t.idx + len(t.text), t.is_space) for t in doc]


def read_docbin(path: Path) -> list[tuple[str, list[tuple[str, int, int]], list[tuple[int, int, str]]]]:
    """A DocBin file -> (text, tokens as (text, start, end), entity spans as (start, end, label)) per doc."""
    from bnner_tui.core.errors import DataFormatError

    require_spacy(f"{path.name} (a spaCy DocBin file)")
    from spacy.tokens import DocBin

    try:
        docs = list(DocBin().from_disk(path).get_docs(_blank_bn().vocab))
    except Exception as err:  # msgpack/zlib errors for a damaged file
        raise DataFormatError(path, None, f"not a readable spaCy DocBin file ({type(err).__name__})") from None
    out = []
    for doc in docs:
        toks = [(t.text, t.idx, t.idx + len(t.text)) for t in doc if not t.is_space]
        ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        out.append((doc.text, toks, ents))
    return out


def write_docbin(target: Path, sentences: list[tuple[list[str], list[str] | None]]) -> None:
    """Words + IOB2 tags per sentence -> a DocBin (one Doc per sentence, words separated by one space)."""
    require_spacy("writing a .spacy file")
    from spacy.tokens import Doc, DocBin

    vocab = _blank_bn().vocab
    db = DocBin(store_user_data=False)
    for words, tags in sentences:
        doc = Doc(vocab, words=list(words), spaces=[True] * (len(words) - 1) + [False] if words else [])
        if tags is not None:
            ents = [doc.char_span(s, e, label=lab) for s, e, lab in _char_spans(words, tags)]
            doc.ents = [span for span in ents if span is not None]  # words joined by spaces: never None
        db.add(doc)
    db.to_disk(target)


def _char_spans(words: list[str], tags: list[str]) -> list[tuple[int, int, str]]:
    from bnner_tui.core.data.spans import tags_to_spans

    offsets, pos = [], 0
    for w in words:
        offsets.append((pos, pos + len(w)))
        pos += len(w) + 1
    return [(sp.start, sp.end, sp.label) for sp in tags_to_spans(offsets, tags)]
