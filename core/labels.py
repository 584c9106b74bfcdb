"""The WikiANN label set, in the order the Hugging Face `wikiann` dataset's ClassLabel uses."""

from __future__ import annotations

WIKIANN_LABELS: list[str] = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
WIKIANN_TYPES: list[str] = ["PER", "ORG", "LOC"]

# The value the Trainer's loss and seqeval ignore: special tokens and non-first pieces.
IGNORE_INDEX = -100


def entity_type(label: str) -> str | None:
    """'B-PER' -> 'PER'; 'O' -> None."""
    if label == "O" or "-" not in label:
        return None
    return label.split("-", 1)[1]


def labels_for_types(types: list[str]) -> list[str]:
    """IOB2 label list for entity types, WikiANN's order when the types are WikiANN's."""
    out = ["O"]
    for t in types:
        out += [f"B-{t}", f"I-{t}"]
    return out
