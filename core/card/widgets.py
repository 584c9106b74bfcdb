"""The card's widget examples (the Hub's inference box): sentences from the run's own data, or curated ones.

Choosing them is the one place the card reads a dataset, and it reads only data already on disk
(local files, the bundled demo set): rendering a card must never download anything.
"""

from __future__ import annotations

import re
from pathlib import Path

from bnner_tui.core.card.facts import RunInfo

CURATED_WIDGETS: list[dict[str, str]] = [
    {"text": "রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন।", "example_title": "ব্যক্তি ও স্থান (PER, LOC)"},
    {"text": "শেখ হাসিনা ঢাকায় বাংলাদেশ ক্রিকেট বোর্ডের সভায় যোগ দেন।", "example_title": "ব্যক্তি, স্থান ও সংগঠন"},
    {"text": "ঢাকা বিশ্ববিদ্যালয় ১৯২১ সালে প্রতিষ্ঠিত হয়।", "example_title": "সংগঠন (ORG)"},
]


def _join_words(words: list[str]) -> str:
    text = " ".join(words)
    # WikiANN splits punctuation off; a reader expects "রাজধানী।" and "ঢাকা, খুলনা".
    return re.sub(r" ([।॥,;:!?)\]])", r"\1", text).replace("( ", "(")


def widgets_from_dataset(run: RunInfo, k: int = 3) -> list[dict[str, str]]:
    """A few validation sentences with entities, as widget examples; [] when the data is not at hand.

    Only local data and the bundled demo set are read: rendering a card must never download a dataset.
    """
    if run.data.kind not in ("local", "demo") and not Path(run.data.spec).exists():
        return []
    try:
        from bnner_tui.core.data import load_source

        loaded = load_source(run.data.spec)
        ds = loaded.dataset
        split = next((s for s in ("validation", "test", "train") if s in ds), None)
        if split is None:
            return []
        names = list(loaded.label_names)
        out: list[dict[str, str]] = []
        for i, row in enumerate(ds[split]):
            tags = [names[t] for t in row["ner_tags"]]
            types = sorted({t.split("-", 1)[1] for t in tags if "-" in t})
            if len(types) >= 2 or (types and len(row["tokens"]) >= 4 and len(out) < k - 1):
                text = _join_words(list(row["tokens"]))
                if 10 <= len(text) <= 200:
                    out.append({"text": text, "example_title": f"{' + '.join(types)} ({split} #{i})"})
            if len(out) >= k or i > 5000:
                break
        return out
    except Exception:  # the widgets fall back to curated sentences; the card still renders
        return []


def default_widgets(run: RunInfo) -> list[dict[str, str]]:
    """The run's own sentences when its data is on disk, else the curated Bengali ones."""
    return widgets_from_dataset(run) or [dict(w) for w in CURATED_WIDGETS]


def card_widgets(text: str) -> list[dict[str, str]] | None:
    """The widget examples a card's YAML holds (`text`, and `example_title` when given), or None
    when the YAML cannot be read (validation says where)."""
    from bnner_tui.core.card.frontmatter import card_metadata

    meta = card_metadata(text)
    if meta is None:
        return None
    items = meta.get("widget")
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            entry = {"text": item["text"]}
            if item.get("example_title"):
                entry["example_title"] = str(item["example_title"])
            out.append(entry)
    return out
