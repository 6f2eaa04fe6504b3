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

from pythainlp import (
    thai_above_vowels,
    thai_below_vowels,
    thai_follow_vowels,
    thai_lead_vowels,
    thai_tonemarks,
)
from pythainlp.util import normalize as thai_normalize

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
TONE_MARKS = "\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e47"  # ่ ้ ๊ ๋ ์ ็ : what OCR most often drops or swaps
# every mark written above or below a Thai letter: the vowels ั ิ ี ึ ื ุ ู ฺ and the tone and other marks
MARKS = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e"
UNREAD = "\ufffd"  # a scan's token no reading vouches for (OCR passes that disagree, a glyph no digit is): no vote
_THAI_DIGIT_RUN = re.compile("[\u0e50-\u0e59]+")
_SPACES = re.compile(r"\s+")
_INLINE_SPACES = re.compile(r"[ \u00a0\u2000-\u200a\u3000]+")
_DOUBLE_SPACES = re.compile("  +")  # a literal start: scanned far faster than a class of characters
OTHER_SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u3000"
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff"
THAI_DIGIT_CHARS = "๐๑๒๓๔๕๖๗๘๙"
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH}]")
# OCR writes sara am as nikhahit + sara aa, a tone mark possibly between them: ํ(่)า -> ่ำ
_SPLIT_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")
# Where pythainlp's normalize can change a line (its own patterns, widened): a mark at the start or after a
# space, a tone mark or thanthakhat before a vowel, a tone mark after a following vowel, nikhahit before
# sara aa, lakkhangyao, sara e twice, a vowel or sign repeated (spaces between), two tone marks, zero width.
_DANGLING = f"{thai_above_vowels}{thai_below_vowels}{thai_tonemarks}\u0e3a\u0e4c\u0e4d\u0e4e"
_NO_REPEAT = f"{thai_follow_vowels}{thai_lead_vowels}{thai_above_vowels}{thai_below_vowels}\u0e3a\u0e4c\u0e4d\u0e4e"
_MARK_FIXES = re.compile(
    f"^\\s*[{_DANGLING}]|\\s[{_DANGLING}]|[{thai_tonemarks}\u0e4c][{thai_above_vowels}{thai_below_vowels}]"
    f"|\u0e4d[{thai_tonemarks}]*\u0e32|[{thai_follow_vowels}][{thai_tonemarks}]|\u0e45|\u0e40\u0e40"
    f"|([{_NO_REPEAT}])\\s*\\1|[{thai_tonemarks}][{thai_tonemarks}]|[\u200b\u200c]")
CACHED_UP_TO = 120  # characters: names and labels recur across documents, paragraphs hardly ever do


def thai_digits_to_arabic(text: str) -> str:
    """'๒๕๖๒' -> '2562'; other characters unchanged."""
    # str.translate walks every character of a long Thai text slowly; only the digit runs need it
    return _THAI_DIGIT_RUN.sub(lambda m: m.group(0).translate(THAI_DIGITS), text)


def normalize_thai(text: str, *, keep_lines: bool = False) -> str:
    """Canonical Thai text: for comparing (default), or for parsing a whole document (keep_lines)."""
    if keep_lines:
        return _document_text(text)
    # one large cache of every paragraph seen grew a parsing worker with the corpus (measured: 480 MB at
    # 100,000 documents): many short texts (names, labels) are remembered, few long ones (boilerplate)
    return _normalize_short(text) if len(text) <= CACHED_UP_TO else _normalize_long(text)


def normalize_lines(text: str) -> list[str]:
    """[normalize_thai(line) for line in text.splitlines()], without pythainlp's cost where it changes
    nothing: a line none of its fixes applies to is only made single-spaced (the same result)."""
    return [normalize_thai(line) if _MARK_FIXES.search(line) else " ".join(line.split())
            for line in _document_text(text).splitlines()]


def _document_text(text: str) -> str:
    """The keep_lines form, each fix applied only to a text that needs it: a check for a character is a fast
    scan, a regular expression over a whole document is not (measured: 318 -> 50 us for a 10 KB dump)."""
    text = unicodedata.normalize("NFC", text)
    if any(c in text for c in ZERO_WIDTH):
        text = _ZERO_WIDTH.sub("", text)
    if "\u0e4d" in text:
        text = _SPLIT_SARA_AM.sub("\\1\u0e33", text)
    if "\u0e40\u0e40" in text:
        text = text.replace("\u0e40\u0e40", "\u0e41")
    if any(d in text for d in THAI_DIGIT_CHARS):
        text = thai_digits_to_arabic(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if any(c in text for c in OTHER_SPACES):
        return _INLINE_SPACES.sub(" ", text)
    return _DOUBLE_SPACES.sub(" ", text) if "  " in text else text


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
    if not _MARK_FIXES.search(text):  # none of pythainlp's fixes applies (measured: 5,000 names 0.3 -> 0.03 s)
        return text
    return _thai_marks_fixed(text)


def _thai_marks_fixed(text: str) -> str:
    # pythainlp: duplicated marks removed, a tone mark typed before its vowel reordered, stray marks dropped;
    # one pass can leave a new stack of marks behind, so repeat until nothing changes
    for _ in range(8):
        fixed = _SPACES.sub(" ", thai_normalize(text)).strip()
        if fixed == text:
            break
        text = fixed
    return text


# spellings no Thai word has, that OCR writes: a word starting with a vowel or mark that follows a consonant,
# a karan on a word's first consonant ('ณ์ฐพิมล' for ณัฐพิมล: ั read as ์), two upper vowels or tone marks on a letter
_ILL_FORMED = re.compile("(?:^|\\s)[\u0e30-\u0e3a\u0e45-\u0e4e]|(?:^|\\s)[\u0e01-\u0e2e]\u0e4c"
                         "|[\u0e31\u0e34-\u0e37\u0e47]{2}|[\u0e48-\u0e4b]{2}")


def well_formed(spelling: str) -> bool:
    """Whether a spelling could be a Thai word's (name's): nothing unread, no shape that Thai writing has not."""
    return UNREAD not in spelling and not _ILL_FORMED.search(spelling)


def tone_skeleton(text: str) -> str:
    """normalize_thai without tone marks: two spellings differing only by a tone mark share it."""
    return _skeleton_short(text) if len(text) <= CACHED_UP_TO else _skeleton(text)


@lru_cache(maxsize=1 << 16)
def _skeleton_short(text: str) -> str:
    return _skeleton(text)


def _skeleton(text: str) -> str:
    return "".join(ch for ch in normalize_thai(text) if ch not in TONE_MARKS)


_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROLS_AND_LINES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str, keep_newlines: bool = False) -> str:
    """Text safe to print on a terminal or a log line: control characters (escape sequences, carriage returns,
    a newline that would forge a line, bidirectional overrides) written as their escapes ('\\x1b', '\\n');
    keep_newlines keeps line feeds and tabs (a CSV cell may hold them)."""
    pattern = _CONTROLS if keep_newlines else _CONTROLS_AND_LINES
    return pattern.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


# what opens a code span, emphasis, a link, an image, a table cell, HTML or a heading; '-', '+' and '.' mean
# something only at the start of a line, which a name never reaches (its newlines are escaped)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#!|~>])")


def markdown_escaped(text: str) -> str:
    """Text shown as itself in Markdown (a Prefect artifact): control characters escaped (printable), HTML's
    < and & as entities, every Markdown punctuation backslash-escaped, so a name cannot open a code span, a
    link or a table cell."""
    text = printable(text).replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN.sub(r"\\\1", text)
