"""The one Bengali text normalisation policy, with exact offset maps back to the raw text.

Everything that turns text into model input goes through this module: dataset tokens
(`normalize_token`), text a user types into the tagger (`split_words`), and the alignment code
(`core/align/`). Keeping one policy is what makes a word typed by a user tokenize exactly like the
same word in the training data.

Policy (this docstring is the single reference; tests in `tests/text/` pin every rule)
-------------------------------------------------------------------------------------------
1. **Unicode NFC.** Vowel signs typed in two parts compose (`ে` + `া` -> `ো`, `ে` + `ৗ` -> `ৌ`).
2. **Nukta letters** ড় ঢ় য় (U+09DC, U+09DD, U+09DF) are Unicode *composition exclusions*: NFC turns
   the precomposed letter into base + nukta (U+09A1/U+09A2/U+09AF + U+09BC), and the two spellings
   become identical. This is also the only spelling mBERT knows: its vocabulary
   (bert-base-multilingual-cased) has 79 entries with U+09BC and none with U+09DC/U+09DD/U+09DF, so
   without NFC a precomposed `বড়` encodes as one `[UNK]` while the decomposed one is the single piece
   `বড়`. WikiANN bn is already NFC throughout (checked on train/dev/test).
3. **Khanda ta.** The pre-Unicode-4.1 spelling ত + ্ + ZWJ (U+09A4 U+09CD U+200D) becomes ৎ (U+09CE),
   which mBERT has as a piece (`উৎসব` -> `উ ##ৎ ##সব`). Dropping only the ZWJ would instead turn it
   into a ta-conjunct (`উত্সব` -> `উ ##ত ##্স ##ব`), a different word to the model.
4. **ZWJ / ZWNJ and other invisible format characters are removed**: every Unicode `Cf` character
   (ZWNJ U+200C, ZWJ U+200D, ZWSP U+200B, soft hyphen, BOM, bidi marks, ...) and every control
   character (`Cc`) that is not whitespace. In Bengali they only choose a glyph shape (`কিট্‌স` with a
   visible hasant vs the conjunct `কিট্স`), and BERT's own normaliser (`clean_text`) deletes them
   anyway, so removing them first keeps our normalised text equal to what the tokenizer really
   sees (decode checks stay honest) and makes both spellings one word. WikiANN bn (train+dev+test)
   has 492 ZWNJ, 1 ZWJ and 3 ZWSP. A ZWSP therefore does not separate words (BERT does not split
   there either).
5. **Danda** `।` (U+0964) and double danda `॥` (U+0965) are kept and are always words of their own,
   even when glued to a word (`করেন।` -> `করেন`, `।`). U+09F7 `৷` (BENGALI CURRENCY NUMERATOR FOUR), a
   common look-alike typed instead of the danda, becomes `।` (WikiANN bn train uses it twice as a
   sentence end; mBERT would glue it to the previous word as `##৷`). ASCII `|` is not touched.
6. **Digits** Bengali ০-৯ and ASCII 0-9 are kept as they are (not mapped to each other): mBERT has
   pieces for both and WikiANN writes Bengali digits.
7. **Nothing else changes**: no case folding, no quote or dash folding. Curly quotes ‘ ’ “ ” and
   dashes – — are not in mBERT's vocabulary and become `[UNK]`; the alignment report counts them
   (`Alignment.unk_words`) rather than this module silently rewriting the user's text.

Word splitting (`split_words`, for raw text typed by a user; dataset tokens are never re-split)
-------------------------------------------------------------------------------------------
- Whitespace of any kind (spaces, tabs, newlines, NBSP, repeated) separates words.
- A word is a run of letters, combining marks and digits (any script: Bengali, Latin, ...).
  Combining marks always stay with the character before them.
- Inside such a run, one connector between two letters/digits keeps the run together, as WikiANN
  does: hyphen `-` (and U+2010/U+2011), full stop `.` (`ডি.সি`, `3.14`), apostrophe `'` / `’`
  (`লর্ড’স`), underscore; a comma only between two digits (`১,০০০`).
- Every other character is a word of its own: danda, double danda, quotes (`“ঢাকা”` ->
  `“`, `ঢাকা`, `”`), brackets, commas, dashes, symbols, each emoji (with its skin-tone modifier or
  variation selector). A run of one repeated ASCII punctuation mark among ``. ' ` * = - ! ? ~``
  (`...`, `''`, `**`) is one word, as in WikiANN.

Offsets: `Normalized.to_raw(i)` and `Normalized.raw_span(a, b)` map normalised offsets to raw ones.
Where a change is not one character to one character (NFC of a cluster, khanda ta), a span covers
the whole raw cluster; removed characters belong to no output character, so a span never starts
or ends on one. Everything is pure Python + `unicodedata`; nothing heavy is imported.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass

__all__ = ["Normalized", "Word", "normalize", "normalize_token", "split_words"]

KHANDA_TA_OLD = "\u09a4\u09cd\u200d"
KHANDA_TA = "\u09ce"
DANDA = "\u0964"
DOUBLE_DANDA = "\u0965"
DANDA_LOOKALIKE = "\u09f7"

# Unicode `Cf` (format) characters as of Unicode 14/15, plus non-whitespace `Cc`. Hard-coded so
# that importing this module stays instant; tests/text checks it against `unicodedata`.
_REMOVED_CLASS = (
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"  # Cc that are not whitespace
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
_REMOVED_RE = re.compile(f"[{_REMOVED_CLASS}]")
# Anything that makes the fast path for a token unsafe: removed characters, the danda look-alike,
# khanda ta's ZWJ (covered by the class) and precomposed nukta letters (not NFC).
_NEEDS_WORK_RE = re.compile(f"[{_REMOVED_CLASS}\u09f7]")

_JOINERS = frozenset("-\u2010\u2011.'\u2019_")
_RUN_PUNCT = frozenset(".'`*=-!?~")
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)


@functools.lru_cache(maxsize=1)
def _composing_seconds() -> frozenset[str]:
    """Starters (combining class 0) that NFC can fuse onto the character before them.

    Bengali's `া` (U+09BE) and `ৗ` (U+09D7) are such characters (`ে` + `া` -> `ো`), as are Hangul
    vowel/trailing jamo. Computed once, lazily (~50 ms), only when some text is not already NFC.
    """
    seconds: set[str] = set()
    for cp in range(0x30000):
        decomposition = unicodedata.decomposition(chr(cp))
        if not decomposition or decomposition.startswith("<"):
            continue
        parts = decomposition.split()
        if len(parts) != 2:
            continue
        second = chr(int(parts[1], 16))
        if unicodedata.combining(second) == 0 and unicodedata.normalize("NFC", chr(cp)) == chr(cp):
            seconds.add(second)
    seconds.update(chr(cp) for cp in range(0x1161, 0x1176))  # Hangul V jamo
    seconds.update(chr(cp) for cp in range(0x11A8, 0x11C3))  # Hangul T jamo
    return frozenset(seconds)


def _starts_cluster(ch: str) -> bool:
    """Whether NFC can never reach back across a boundary placed before `ch`."""
    first = unicodedata.normalize("NFD", ch)[0]
    return unicodedata.combining(first) == 0 and first not in _composing_seconds()


@dataclass(frozen=True)
class Normalized:
    """Normalised text plus, for each normalised character, the raw span it came from."""

    raw: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_raw(self, i: int) -> int:
        """Raw offset of normalised offset `i` (0 <= i <= len(text)); monotone non-decreasing."""
        if not 0 <= i <= len(self.text):
            raise IndexError(f"offset {i} is outside the normalised text (length {len(self.text)})")
        if i == len(self.text):
            return len(self.raw)
        return self.starts[i]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw (start, end) covering normalised text[start:end], widened to whole raw clusters."""
        if not 0 <= start <= end <= len(self.text):
            raise IndexError(f"span ({start}, {end}) is outside the normalised text (length {len(self.text)})")
        if start == end:
            raw_at = self.to_raw(start)
            return raw_at, raw_at
        return self.starts[start], self.ends[end - 1]

    def from_raw(self, raw_offset: int) -> int:
        """First normalised offset whose raw start is at or after `raw_offset` (inverse of to_raw)."""
        return bisect_left(self.starts, raw_offset)


def _clean(raw: str) -> tuple[list[str], list[int], list[int]]:
    """Rules 3-5 (khanda ta, removed characters, danda look-alike), keeping raw spans per char."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\u09a4" and raw.startswith(KHANDA_TA_OLD, i):
            chars.append(KHANDA_TA)
            starts.append(i)
            ends.append(i + 3)
            i += 3
            continue
        if _REMOVED_RE.match(ch):
            i += 1
            continue
        chars.append(DANDA if ch == DANDA_LOOKALIKE else ch)
        starts.append(i)
        ends.append(i + 1)
        i += 1
    return chars, starts, ends


def _refine(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Cut cluster text[a:b] wherever NFC of the parts equals NFC of the whole (finer raw spans).

    `ড়া` is one cluster (`া` could fuse with a vowel sign before it), but NFC changes only `ড়`,
    so the `া` keeps its own one-character raw span.
    """
    out: list[tuple[int, int]] = []
    start = a
    while start < b:
        whole = unicodedata.normalize("NFC", text[start:b])
        cut = b
        for k in range(start + 1, b):
            if unicodedata.normalize("NFC", text[start:k]) + unicodedata.normalize("NFC", text[k:b]) == whole:
                cut = k
                break
        out.append((start, cut))
        start = cut
    return out


def normalize(raw: str) -> Normalized:
    """Apply the module's policy to `raw`, keeping a map from every output character to raw offsets."""
    chars, c_starts, c_ends = _clean(raw)
    cleaned = "".join(chars)
    if unicodedata.is_normalized("NFC", cleaned):
        return Normalized(raw, cleaned, tuple(c_starts), tuple(c_ends))

    # NFC cluster by cluster: a cluster starts at a character NFC cannot fuse with what precedes it,
    # so NFC(text) == concat(NFC(cluster)) and each output character maps to its cluster's raw span.
    bounds = [0] + [k for k in range(1, len(chars)) if _starts_cluster(chars[k])] + [len(chars)]
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    segments = [seg for a, b in itertools.pairwise(bounds) for seg in _refine(cleaned, a, b)]
    for a, b in segments:
        piece = cleaned[a:b]
        composed = unicodedata.normalize("NFC", piece)
        if composed == piece:
            out.append(piece)
            starts.extend(c_starts[a:b])
            ends.extend(c_ends[a:b])
        elif composed[0] == piece[0] and b - a > 1:
            # the starter survives (only its marks were reordered): it keeps its own raw span,
            # so a word boundary right after it (a space before stray marks) stays exact
            out.append(composed)
            starts.append(c_starts[a])
            ends.append(c_ends[a])
            starts.extend([c_starts[a + 1]] * (len(composed) - 1))
            ends.extend([c_ends[b - 1]] * (len(composed) - 1))
        else:
            out.append(composed)
            starts.extend([c_starts[a]] * len(composed))
            ends.extend([c_ends[b - 1]] * len(composed))
    text = "".join(out)
    if text != unicodedata.normalize("NFC", cleaned):  # defensive: never expected, but never wrong
        text = unicodedata.normalize("NFC", cleaned)
        starts = [c_starts[0]] * len(text)
        ends = [c_ends[-1]] * len(text)
    return Normalized(raw, text, tuple(starts), tuple(ends))


def normalize_token(token: str) -> str:
    """The same policy for one dataset token (fast path: most tokens are already normal)."""
    if token.isascii():
        if _NEEDS_WORK_RE.search(token) is None:
            return token
    elif _NEEDS_WORK_RE.search(token) is None and unicodedata.is_normalized("NFC", token):
        return token
    return normalize(token).text


@dataclass(frozen=True)
class Word:
    """A word of raw text: `text` is normalised, `raw[start:end]` is exactly where it came from."""

    text: str
    start: int
    end: int


def _is_wordy(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _word_spans(text: str) -> list[tuple[int, int]]:
    """Word boundaries in already-normalised text (see the module docstring for the rules)."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if _is_wordy(ch):
            i += 1
            while i < n:
                c = text[i]
                if _is_wordy(c):
                    i += 1
                elif (
                    i + 1 < n
                    and _is_wordy(text[i + 1])
                    and _is_wordy(text[i - 1])
                    and (
                        c in _JOINERS
                        or (c == "," and unicodedata.category(text[i - 1]) == "Nd" and text[i + 1].isdigit())
                    )
                ):
                    i += 2
                else:
                    break
        else:
            i += 1
            if ch in _RUN_PUNCT:
                while i < n and text[i] == ch:
                    i += 1
            # a regional-indicator pair is one flag
            elif 0x1F1E6 <= ord(ch) <= 0x1F1FF and i < n and 0x1F1E6 <= ord(text[i]) <= 0x1F1FF:
                i += 1
        # combining marks, variation selectors and emoji skin tones stay with what precedes them
        while i < n and (unicodedata.category(text[i])[0] == "M" or ord(text[i]) in _EMOJI_MODIFIERS):
            i += 1
        spans.append((start, i))
    return spans


def split_words(raw: str) -> list[Word]:
    """Split raw text into normalised words, each with the raw span it came from."""
    norm = normalize(raw)
    words = []
    for a, b in _word_spans(norm.text):
        raw_start, raw_end = norm.raw_span(a, b)
        words.append(Word(norm.text[a:b], raw_start, raw_end))
    return words
