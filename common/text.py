"""Thai text as every stage compares and parses it: one set of character fixes, in two forms.

`normalize_thai(text)` is the form for comparing (names, labels, values): OCR-split vowels joined, digits
Arabic, spaces single, marks put in order by pythainlp. `normalize_thai(text, keep_lines=True)` is the form
for parsing a whole document: the same character fixes, lines and tabs kept, no pythainlp pass (whose
cost is per character, on text most of which is never read). Both are idempotent. Unlike rapidfuzz's
default_process, neither deletes vowels or tone marks.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pythainlp.util import normalize as thai_normalize

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
TONE_MARKS = "\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e47"  # ่ ้ ๊ ๋ ์ ็ : what OCR most often drops or swaps
_THAI_DIGIT_RUN = re.compile("[\u0e50-\u0e59]+")
_SPACES = re.compile(r"\s+")
_INLINE_SPACES = re.compile(r"[ \u00a0\u2000-\u200a\u3000]+")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\ufeff]")
# OCR writes sara am as nikhahit + sara aa, a tone mark possibly between them: ํ(่)า -> ่ำ
_SPLIT_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")
CACHED_UP_TO = 120  # characters: names and labels recur across documents, paragraphs hardly ever do


def thai_digits_to_arabic(text: str) -> str:
    """'๒๕๖๒' -> '2562'; other characters unchanged."""
    # str.translate walks every character of a long Thai text slowly; only the digit runs need it
    return _THAI_DIGIT_RUN.sub(lambda m: m.group(0).translate(THAI_DIGITS), text)


def normalize_thai(text: str, *, keep_lines: bool = False) -> str:
    """Canonical Thai text: for comparing (default), or for parsing a whole document (keep_lines)."""
    if keep_lines:
        return _INLINE_SPACES.sub(" ", _fix_characters(text).replace("\r\n", "\n").replace("\r", "\n"))
    # one large cache of every paragraph seen grew a parsing worker with the corpus (measured: 480 MB at
    # 100,000 documents): many short texts (names, labels) are remembered, few long ones (boilerplate)
    return _normalize_short(text) if len(text) <= CACHED_UP_TO else _normalize_long(text)


def _fix_characters(text: str) -> str:
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", text))
    text = _SPLIT_SARA_AM.sub("\\1\u0e33", text).replace("\u0e40\u0e40", "\u0e41")  # เ + เ -> แ
    return thai_digits_to_arabic(text)


@lru_cache(maxsize=1 << 16)
def _normalize_short(text: str) -> str:
    return _normalize(text)


@lru_cache(maxsize=1 << 10)
def _normalize_long(text: str) -> str:
    return _normalize(text)


def _normalize(text: str) -> str:
    text = _SPACES.sub(" ", _fix_characters(text)).strip()
    # pythainlp: duplicated marks removed, a tone mark typed before its vowel reordered, stray marks dropped;
    # one pass can leave a new stack of marks behind, so repeat until nothing changes
    for _ in range(8):
        fixed = _SPACES.sub(" ", thai_normalize(text)).strip()
        if fixed == text:
            break
        text = fixed
    return text


def tone_skeleton(text: str) -> str:
    """normalize_thai without tone marks: two spellings differing only by a tone mark share it."""
    return _skeleton_short(text) if len(text) <= CACHED_UP_TO else _skeleton(text)


@lru_cache(maxsize=1 << 16)
def _skeleton_short(text: str) -> str:
    return _skeleton(text)


def _skeleton(text: str) -> str:
    return "".join(ch for ch in normalize_thai(text) if ch not in TONE_MARKS)
