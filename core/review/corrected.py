"""A corrected dataset that is honest about itself, and the diff of two sources.

`save_corrected` writes a NEW source folder (never the original): every split of the reviewed
source in the project's JSONL shape (`{"tokens": [...], "ner_tags": ["B-PER", ...]}`, what
`core.data` reads back like any other source), with the reviewed split(s) carrying the
decisions; `changelog.jsonl` (split, sentence, word, token, old label, new label, when); and
`correction.json` (which source, which reviews and their parameters, how many changes). The
two extra files' names are not split names, so loaders skip them.

`diff_sources` compares two loaded sources word by word; on a corrected source it lists
exactly the changelog's changes (tests check that round trip).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bnner_tui.core.errors import BnnerError
from bnner_tui.core.files import atomic_write_json, atomic_write_text

CHANGELOG = "changelog.jsonl"
CORRECTION = "correction.json"


@dataclass(frozen=True)
class Change:
    """One word whose label differs between two versions of a split."""

    split: str
    sentence: int
    word: int
    token: str
    old: str
    new: str

    def key(self) -> tuple[str, int, int, str, str]:
        return (self.split, self.sentence, self.word, self.old, self.new)


def _jsonl(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None) -> str:
    return "".join(
        json.dumps({"tokens": list(t), "ner_tags": list(tags[i]) if tags is not None else None}, ensure_ascii=False)
        + "\n"
        for i, t in enumerate(tokens)
    )


def save_corrected(
    review_dirs: Sequence[str | Path],
    out: str | Path,
    *,
    source: Any = None,
    include_unreviewed_splits: bool = True,
    propagate: Sequence[str] = (),
) -> dict[str, Any]:
    """Write the corrected source folder `out` from one review per split of the same source.

    `propagate`: splits (e.g. `validation`) that receive a reviewed correction wherever they hold
    the very same sentence with the very same given labels (WikiANN's dev repeats most of its
    train sentences verbatim); such changes are in the changelog with `propagated_from`.

    Refuses when `out` already holds files (nothing is overwritten), when two reviews cover the
    same split, or when the source's data changed since the review (its fingerprint differs).
    Returns the correction.json document.
    """
    from bnner_tui.core.data import load_source
    from bnner_tui.core.review.find import data_fingerprint
    from bnner_tui.core.review.session import ReviewSession

    out = Path(out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BnnerError(f"{out} already exists and is not empty: a corrected source goes into a new folder.")
    sessions = [ReviewSession(d) for d in review_dirs]
    if not sessions:
        raise BnnerError("Give at least one review folder to save.")
    specs = {s.params["source"] for s in sessions}
    if len(specs) > 1:
        raise BnnerError(f"The reviews are of different sources ({', '.join(sorted(specs))}): save them separately.")
    splits = [s.params["split"] for s in sessions]
    dup = {x for x in splits if splits.count(x) > 1}
    if dup:
        raise BnnerError(f"Two reviews cover the {', '.join(sorted(dup))} split: save one review per split.")
    spec = specs.pop()
    src = source if source is not None else load_source(spec)
    for p in src.files.values():
        try:
            if Path(p).resolve().parent == out.resolve() or Path(p).resolve() == out.resolve():
                raise BnnerError(f"{out} holds the original data: a corrected source never replaces it.")
        except OSError:
            pass
    names = list(src.label_names)
    changes: list[dict[str, Any]] = []
    by_split = {s.params["split"]: s for s in sessions}
    files: dict[str, str] = {}
    fixes: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[list[str], str, int, str | None]] = {}
    order = [sp for sp in src.dataset if sp in by_split] + [sp for sp in src.dataset if sp not in by_split]
    written: dict[str, tuple[list[list[str]], list[list[str]] | None]] = {}
    for split in order:
        if split not in by_split and not include_unreviewed_splits:
            continue
        ds = src.dataset[split]
        tokens: list[list[str]] = ds["tokens"]
        labelled = src.is_labelled(split)
        tags = [[names[i] for i in row] for row in ds["ner_tags"]] if labelled else None
        session = by_split.get(split)
        if session is None and tags is not None and split in propagate:
            for i, (words, old) in enumerate(zip(tokens, tags, strict=True)):
                fix = fixes.get((tuple(words), tuple(old)))
                if fix is None:
                    continue
                new, from_split, from_sent, at = fix
                for w, (a, b) in enumerate(zip(old, new, strict=True)):
                    if a != b:
                        changes.append(
                            {
                                **asdict(Change(split, i, w, words[w], a, b)),
                                "at": at,
                                "propagated_from": {"split": from_split, "sentence": from_sent},
                            }
                        )
                tags[i] = list(new)
        if session is not None and tags is not None:
            ids = ds["ner_tags"]
            n = session.params.get("sentences", len(tokens))
            if data_fingerprint(tokens[:n], ids[:n]) != session.params.get("data_sha"):
                raise BnnerError(
                    f"The {split} split of {src.name} changed since review {session.files.root} was made:"
                    " review it again."
                )
            times = session.change_times()
            for sent, new in sorted(session.final_labels().items()):
                old = tags[sent]
                if len(new) != len(old):
                    raise BnnerError(f"Decision for sentence {sent} has {len(new)} labels for {len(old)} words.")
                for w, (a, b) in enumerate(zip(old, new, strict=True)):
                    if a != b:
                        changes.append(
                            {
                                **asdict(Change(split, sent, w, tokens[sent][w], a, b)),
                                "at": times.get(sent),
                                "review": str(session.files.root),
                            }
                        )
                fixes.setdefault((tuple(tokens[sent]), tuple(old)), (list(new), split, sent, times.get(sent)))
                tags[sent] = list(new)
        written[split] = (tokens, tags)
    for split in src.dataset:  # files in the source's own split order
        if split in written:
            target = out / f"{split}.jsonl"
            atomic_write_text(target, _jsonl(*written[split]))
            files[split] = target.name
    changes.sort(key=lambda c: (list(src.dataset).index(c["split"]), c["sentence"], c["word"]))
    atomic_write_text(out / CHANGELOG, "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in changes))
    doc = {
        "format": "bnner-tui corrected source 1",
        "source": spec,
        "source_name": src.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": files,
        "changes": len(changes),
        "sentences_changed": len({(c["split"], c["sentence"]) for c in changes}),
        "propagated_to": list(propagate),
        "propagated_changes": sum(1 for c in changes if "propagated_from" in c),
        "reviews": [
            {
                "folder": str(s.files.root),
                "split": s.params["split"],
                "counts": asdict(s.counts()),
                "parameters": {k: v for k, v in s.params.items() if k not in ("common_issues",)},
            }
            for s in sessions
        ],
    }
    atomic_write_json(out / CORRECTION, doc)
    return doc


def read_changelog(folder: str | Path) -> list[Change]:
    path = Path(folder) / CHANGELOG
    if not path.exists():
        raise BnnerError(f"{folder} has no {CHANGELOG}: it is not a corrected source.")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            out.append(Change(r["split"], int(r["sentence"]), int(r["word"]), r["token"], r["old"], r["new"]))
    return out


@dataclass
class SourceDiff:
    changes: list[Change]
    only_old: list[str]
    only_new: list[str]
    size_mismatch: dict[str, tuple[int, int]]
    token_mismatch: dict[str, int]


def diff_sources(old: Any, new: Any) -> SourceDiff:
    """Word-level label differences of two loaded sources over their common splits.

    Sentences are compared by position; a split whose sentence count differs, or sentences
    whose words differ, are reported instead of being matched by guesswork.
    """
    changes: list[Change] = []
    sizes: dict[str, tuple[int, int]] = {}
    token_mismatch: dict[str, int] = {}
    common = [s for s in old.dataset if s in new.dataset]
    for split in common:
        a, b = old.dataset[split], new.dataset[split]
        if len(a) != len(b):
            sizes[split] = (len(a), len(b))
            continue
        if not (old.is_labelled(split) and new.is_labelled(split)):
            continue
        ta, tb = a["tokens"], b["tokens"]
        la, lb = a["ner_tags"], b["ner_tags"]
        na, nb = old.label_names, new.label_names
        bad = 0
        for i in range(len(a)):
            if ta[i] != tb[i]:
                bad += 1
                continue
            for w in range(len(ta[i])):
                x, y = na[la[i][w]], nb[lb[i][w]]
                if x != y:
                    changes.append(Change(split, i, w, ta[i][w], x, y))
        if bad:
            token_mismatch[split] = bad
    return SourceDiff(
        changes,
        [s for s in old.dataset if s not in new.dataset],
        [s for s in new.dataset if s not in old.dataset],
        sizes,
        token_mismatch,
    )
