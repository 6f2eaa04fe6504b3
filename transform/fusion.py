"""One more rendering of a scan: its OCR passes fused character by character by tesseract's confidence.

Two passes of a page that disagree are a tie, and a tie is NULL. tesseract says how sure it was of every
character it read (extract/documents.PageReading.confidence), and a misread is rarely read as surely as the
right reading: where the passes differ, the fused rendering takes the reading that is surer by at least
`margin` points (0-99) and leaves the token unread (UNREAD) where neither is. Added to the passes, it breaks
their ties the way a third reading would; where they agree it agrees with them, and where it leaves a token
unread it votes for nothing, so a tie it cannot break stays NULL with its finding.

Lines of the passes are paired by the rows of pixels they cover (both passes read the same image), then
aligned character by character (difflib)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from common.text import MARKS, UNREAD

MARGIN = 10  # confidence points one reading must lead the other by to be taken where they differ
DIGITS = frozenset("0123456789๐๑๒๓๔๕๖๗๘๙")
_NUMBER_UNREAD = "\x00"  # while a line is fused: a piece of a number neither pass read surely
MIN_OVERLAP = 0.5  # two lines are the same line when they share this much of the shorter one's height


@dataclass
class _Line:
    text: str
    confidence: list[int | None]  # one per character of text: None for spaces, or when not known
    top: int
    bottom: int


def fused_rendering(passes: Sequence[str], confidences: Sequence[str], margin: int = MARGIN) -> str | None:
    """The passes' text fused by confidence (module doc), or None when there is nothing to fuse: fewer than
    two passes, or confidences that do not match the passes page for page."""
    if len(passes) < 2 or len(confidences) != len(passes):
        return None
    pages = [p.split("\f") for p in passes]
    known = [c.split("\f") for c in confidences]
    if any(len(p) != len(pages[0]) for p in (*pages, *known)):
        return None
    fused_pages = []
    for page in range(len(pages[0])):
        texts = [p[page] for p in pages]
        readings = [_lines(texts[i], known[i][page]) for i in range(len(texts))]
        if any(r is None for r in readings):
            return None
        lines = readings[0]
        for other in readings[1:]:
            lines = _fuse_page(lines, other, margin)
        fused_pages.append(_layout_like(texts[0], [line.text for line in lines]))
    return "\f".join(fused_pages)


def _lines(text: str, confidence: str) -> list[_Line] | None:
    """The lines of a page that hold anything, each with its confidences (None when they do not match)."""
    written = [line for line in text.split("\n") if line.strip()]
    rows = confidence.split("\n") if confidence else []
    if len(rows) != len(written):
        return None
    lines = []
    for line, row in zip(written, rows, strict=True):
        top, bottom, digits = (row.split(" ", 2) + ["", ""])[:3]
        try:
            top_px, bottom_px = int(top), int(bottom)
        except ValueError:
            return None
        marks = sum(1 for ch in line if not ch.isspace())
        values = iter(int(digits[i:i + 2]) for i in range(0, len(digits), 2)) if len(digits) == 2 * marks else None
        conf = [None if ch.isspace() or values is None else next(values) for ch in line]
        lines.append(_Line(line, conf, top_px, bottom_px))
    return lines


def _fuse_page(base: list[_Line], other: list[_Line], margin: int) -> list[_Line]:
    """base's lines, each fused with the line of `other` that covers the same rows of pixels."""
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    scored = sorted(((_overlap(a, b), i, j) for i, a in enumerate(base) for j, b in enumerate(other)),
                    reverse=True)
    for overlap, i, j in scored:
        if overlap < MIN_OVERLAP:
            break
        if i not in pairs and j not in taken:
            pairs[i] = j
            taken.add(j)
    return [_fuse_line(line, other[pairs[i]], margin) if i in pairs else line for i, line in enumerate(base)]


def _overlap(a: _Line, b: _Line) -> float:
    shorter = min(a.bottom - a.top, b.bottom - b.top)
    if shorter <= 0:
        return 0.0
    return max(0, min(a.bottom, b.bottom) - max(a.top, b.top)) / shorter


def _fuse_line(a: _Line, b: _Line, margin: int) -> _Line:
    if a.text == b.text:
        conf = [None if x is None or y is None else max(x, y) for x, y in zip(a.confidence, b.confidence,
                                                                               strict=True)]
        return _Line(a.text, conf, a.top, a.bottom)
    text: list[str] = []
    conf: list[int | None] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a.text, b.text, autojunk=False).get_opcodes():
        if op == "equal":
            text += a.text[i1:i2]
            conf += [None if x is None or y is None else max(x, y)
                     for x, y in zip(a.confidence[i1:i2], b.confidence[j1:j2], strict=True)]
            continue
        piece_a, piece_b = a.text[i1:i2], b.text[j1:j2]
        if not _meaningful(piece_a) and not _meaningful(piece_b):  # spacing or a speck's punctuation: base's
            text += piece_a
            conf += a.confidence[i1:i2]
            continue
        sure_a, sure_b = _sureness(a, i1, i2), _sureness(b, j1, j2)
        take_a = take_b = False
        if sure_a is not None and sure_b is not None and abs(sure_a - sure_b) >= margin:
            take_a, take_b = sure_a > sure_b, sure_b > sure_a
        elif len(piece_a) != len(piece_b) and _unmarked(piece_a) == _unmarked(piece_b):
            take_a = len(piece_a) > len(piece_b)  # a vowel or tone mark one pass lost to the scan's blur
            take_b = not take_a
        if take_a:
            text += piece_a
            conf += a.confidence[i1:i2]
        elif take_b:
            text += piece_b
            conf += b.confidence[j1:j2]
        else:  # a number's piece unreads its token (_unread_tokens); a word's only itself
            text.append(_NUMBER_UNREAD if any(ch in DIGITS for ch in piece_a + piece_b) else UNREAD)
            conf.append(None)
    return _unread_tokens(text, conf, a.top, a.bottom)


def _unmarked(piece: str) -> str:
    return "".join(ch for ch in piece if ch not in MARKS and not ch.isspace())


def _meaningful(piece: str) -> bool:
    """A letter, a digit or a number's separator: what a reading says (a colon or a bar more or less is a
    speck's, or the layout's)."""
    return any(ch.isalnum() or ch in ",." or "\u0e00" <= ch <= "\u0e7f" for ch in piece)


def _sureness(line: _Line, start: int, end: int) -> int | None:
    """How sure a pass was of line.text[start:end]: its least sure character; for nothing (the other pass read
    characters here), how sure it was of the characters on either side."""
    inside = [c for c in line.confidence[start:end] if c is not None]
    if inside:
        return min(inside)
    if line.text[start:end].strip():
        return None  # characters of unknown confidence
    left = next((c for c in reversed(line.confidence[:start]) if c is not None), None)
    right = next((c for c in line.confidence[end:] if c is not None), None)
    sides = [c for c in (left, right) if c is not None]
    return min(sides) if sides else None


def _unread_tokens(text: list[str], conf: list[int | None], top: int, bottom: int) -> _Line:
    """A token (a run of characters between spaces) with an unread piece of a number, or with an unread piece
    and a digit, is unread whole: '328,�00' or '30,�000' would otherwise be read as a number no pass read. In a
    word, only the piece is unread: the labels' repair (transform/scanned.py) still knows 'ส�้นสุดโครงการ'."""
    out_text: list[str] = []
    out_conf: list[int | None] = []
    start = 0
    for end in [i for i, ch in enumerate(text) if ch == " "] + [len(text)]:
        token = text[start:end]
        if _NUMBER_UNREAD in token or (UNREAD in token and any(ch in DIGITS for ch in token)):
            out_text.append(UNREAD)
            out_conf.append(None)
        else:
            out_text += token
            out_conf += conf[start:end]
        if end < len(text):
            out_text.append(" ")
            out_conf.append(None)
        start = end + 1
    return _Line("".join(out_text), out_conf, top, bottom)


def _layout_like(text: str, lines: list[str]) -> str:
    """text with its lines that hold anything replaced, in order, by `lines` (blank lines kept)."""
    replaced = iter(lines)
    return "\n".join(next(replaced) if line.strip() else line for line in text.split("\n"))
