"""CoNLL-style text files, read line by line (memory bounded by the longest sentence, not the file).

Accepted: ``token<TAB>tag`` or space-separated columns (the token is the first column, the
tag the last non-empty one; middle columns such as POS are ignored; every line has as many
non-empty columns as the first, and empty extra columns are a warning, not an error),
``-DOCSTART-`` lines, one or more blank lines between
sentences, any line end (see `textio`), and the original WikiANN release format whose tokens
carry a language prefix (``bn:ঢাকা``). A file whose lines hold a token only (the XTREME
WikiANN test split) is *unlabelled*: no tags, never a column of made-up ``O`` tags.

Every problem is attached to its sentence with its line (see `raw`): an empty token, a
token that is only whitespace (named: "token is only a no-break space"), a missing tag (and
a hint when the tag looks glued to the word, ``ফেব্রুয়ারিরTIM``), a tag on a line of a
tokens-only file, a sentence too long to be one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from bnner_tui.core.data.problems import Problem
from bnner_tui.core.data.raw import MAX_SENTENCE_TOKENS, RawSentence, SplitReader
from bnner_tui.core.data.textio import iter_lines, whitespace_name

_LANG_PREFIX = re.compile(r"^([a-z]{2,3}):(?=.)")
# A Bengali word with an ASCII tag glued to its end: 'ফেব্রুয়ারিরTIM', 'ঢাকাB-LOC'.
_GLUED = re.compile(r"^(.*[^\x00-\x7f])((?:[BIESLU]-)?[A-Z]{2,})$")


class ConllReader(SplitReader):
    """One CoNLL-style file; each iteration reads it again from disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.labelled = None
        self.notes = []
        self.spaced: list[int] = []  # lines whose token had spaces around it (stripped)
        self.empty_columns: list[int] = []  # lines with empty extra columns (ignored)

    def __iter__(self) -> Iterator[RawSentence]:
        return self._read()

    def _read(self) -> Iterator[RawSentence]:
        path = self.path
        self.spaced, self.empty_columns, self.notes = [], [], []
        labelled: bool | None = None
        ncols = 0  # non-empty columns of the first line: every line must have as many
        kind_line = 0
        prefix: str | None = None
        prefix_checked = False
        sent = RawSentence([], [], [])

        def flush() -> RawSentence | None:
            nonlocal sent
            done, sent = sent, RawSentence([], [], [])
            if not done.lines and done.n_tokens is None and not done.problems:
                return None
            if done.n_tokens is not None:
                done.problems.append(
                    Problem(
                        "sentence too long",
                        path,
                        done.line,
                        f"one sentence of {done.n_tokens:,} tokens (from line {done.line} on): "
                        "blank lines between sentences are probably missing",
                    )
                )
            if labelled is False:
                done.tags = None
            return done

        for lineno, line in iter_lines(path):
            # Fast path, almost every line of a clean file: "token<TAB>tag", nothing to strip or repair.
            if labelled and ncols == 2 and prefix is None:
                tok, tab, tag = line.partition("\t")
                if (
                    tab
                    and tok
                    and tag
                    and "\t" not in tag
                    and not tok[0].isspace()
                    and not tok[-1].isspace()
                    and not tag[0].isspace()
                    and not tag[-1].isspace()
                ):
                    toks = sent.tokens
                    if len(toks) < MAX_SENTENCE_TOKENS:
                        toks.append(tok)
                        sent.tags.append(tag)  # type: ignore[union-attr]
                        sent.lines.append(lineno)  # type: ignore[union-attr]
                    else:
                        sent.n_tokens = (sent.n_tokens or len(toks)) + 1
                    continue
            if not line.strip():
                out = flush()
                if out is not None:
                    yield out
                continue
            if "\t" in line:
                cols = line.split("\t")
            else:
                cols = line.split()
            if cols[0].startswith("-DOCSTART-"):
                continue
            rest = [c.strip() for c in cols[1:]]
            last: str | None = next((c for c in reversed(rest) if c), None)
            filled = 1 + sum(1 for c in rest if c)
            if labelled is None:
                labelled = "\t" in line or len(cols) > 1
                kind_line = lineno
                ncols = filled
                self.labelled = labelled
            if len(sent.tokens) >= MAX_SENTENCE_TOKENS:
                sent.n_tokens = (sent.n_tokens or len(sent.tokens)) + 1
                continue
            raw_tok = cols[0]
            token = raw_tok.strip()
            if not prefix_checked and token:
                prefix_checked = True
                m = _LANG_PREFIX.match(token)
                if m:
                    prefix = m.group(0)
                    self.notes.append(
                        f"{Path(path).name}: removed the language prefix {prefix!r} from tokens "
                        "(WikiANN release format)"
                    )
            if prefix is not None and token.startswith(prefix) and len(token) > len(prefix):
                token = token[len(prefix) :]
            if labelled and any(not c for c in rest) and last is not None:
                self.empty_columns.append(lineno)
            if token != raw_tok and token:
                self.spaced.append(lineno)
            problem = None
            if not raw_tok:
                problem = ("empty token", "empty token (the line starts with a tab)" if "\t" in line else "empty token")
            elif not token:
                problem = ("whitespace token", f"token is only {whitespace_name(raw_tok)}")
            elif labelled and last is None:
                glued = _GLUED.match(token)
                if glued:
                    problem = (
                        "tag glued to word",
                        f"no tag; the tag looks glued to the word ({glued.group(1)!r} + {glued.group(2)!r})",
                    )
                else:
                    problem = ("empty tag", f"no tag (line {kind_line} has a token and a tag)")
            elif not labelled and len(cols) > 1:
                problem = ("column count", f"{len(cols)} columns, but line {kind_line} has a token only")
            elif labelled and filled != ncols and filled > 1:
                problem = (
                    "column count",
                    f"wrong column count: {filled} column(s), but line {kind_line} has {ncols} columns",
                )
            if problem is not None:
                sent.problems.append(Problem(problem[0], path, lineno, problem[1]))
            sent.tokens.append(token)
            assert sent.tags is not None and sent.lines is not None
            sent.tags.append(last or "")
            sent.lines.append(lineno)
        out = flush()
        if out is not None:
            yield out

    def file_warnings(self) -> list[Problem]:
        """What was repaired silently in the last read, as warnings with their lines."""
        from bnner_tui.core.data.problems import lines_text

        out = []
        if self.spaced:
            out.append(
                Problem(
                    "spaces around token",
                    self.path,
                    self.spaced[0],
                    f"spaces around {len(self.spaced)} token(s) removed ({lines_text(self.spaced)})",
                    "warning",
                )
            )
        if self.empty_columns:
            out.append(
                Problem(
                    "empty columns",
                    self.path,
                    self.empty_columns[0],
                    f"{len(self.empty_columns)} line(s) with empty extra columns; the tag is the last non-empty "
                    f"column ({lines_text(self.empty_columns)})",
                    "warning",
                )
            )
        return out


def format_conll(tokens: list[list[str]], tags: list[list[str]] | None) -> str:
    """The inverse of the reader: ``token<TAB>tag`` lines (token only when unlabelled)."""
    parts: list[str] = []
    for s, sent in enumerate(tokens):
        if tags is None:
            parts.append("\n".join(sent))
        else:
            parts.append("\n".join(f"{tok}\t{tag}" for tok, tag in zip(sent, tags[s], strict=True)))
    return "\n\n".join(parts) + "\n" if parts else ""
