"""Thai digits read again, glyph by glyph, where tesseract read them.

tesseract's Thai model misreads the digits of the Sarabun-like faces forms are printed in, and the same way
in every pass: on a clean rendering in Laksaman (fonts-thai-tlwg's Sarabun) it writes ๔ as ๕, ๖ as ๒, ๗ as ๓,
๘ as ๕ and ๙ as ๕, sure of each (confidence 88-97), so '๒๕๖๙' comes out '๒๕๒๕' in both passes and the passes'
agreement states a false year. A number in Thai digits is therefore read again from the page's pixels: the
run of digits tesseract found is cut into glyphs by the blank columns between them (a glyph twice as wide as
its neighbours is two that touch), and each glyph is matched against the ten digits as the Thai faces of
fonts-thai-tlwg draw them. A run whose every glyph matches one digit clearly replaces tesseract's reading; a
run that cannot be read that way is left unread (fusion.UNREAD's character), never as tesseract read it.
Without the fonts nothing is read again (a finding-free fallback: engine_settings() says so in the cache key)."""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.text import UNREAD

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
SEPARATORS = ",."
FONT_DIRS = (Path("/usr/share/fonts/truetype/tlwg"), Path("/usr/share/fonts/opentype/tlwg"))
TEMPLATE_FACES = ("Laksaman", "Garuda", "Kinnari", "Loma", "Norasi", "Sawasdee", "Umpush", "Waree", "TlwgTypo")
SIDE = 24  # a glyph is compared as a SIDE x SIDE picture of its ink
INK = 140  # grey levels below this are ink (the page is median-filtered already)
SURE = 0.80  # a glyph is a digit when it matches it this well (cosine of the pictures) ...
CLEAR = 0.05  # ... and better by this much than any other digit
VERSION = "thai-digits-1"  # part of the OCR cache key when digits are read again


@dataclass(frozen=True)
class Glyph:  # a box of the page, in pixels
    left: int
    top: int
    right: int
    bottom: int


@functools.lru_cache(maxsize=1)
def templates() -> tuple[np.ndarray, tuple[str, ...]] | None:
    """The ten digits in every template face found (regular and bold), as unit vectors; None without fonts."""
    from PIL import Image, ImageDraw, ImageFont

    vectors, labels = [], []
    for face in TEMPLATE_FACES:
        for style in ("", "-Bold"):
            path = next((d / f"{face}{style}{ext}" for d in FONT_DIRS for ext in (".ttf", ".otf")
                         if (d / f"{face}{style}{ext}").exists()), None)
            if path is None:
                continue
            font = ImageFont.truetype(str(path), 64)
            for digit in THAI_DIGITS:
                canvas = Image.new("L", (128, 128), 255)
                ImageDraw.Draw(canvas).text((24, 16), digit, font=font, fill=0)
                vector = _vector(np.asarray(canvas) < INK)
                if vector is not None:
                    vectors.append(vector)
                    labels.append(digit)
    if not vectors:
        return None
    return np.stack(vectors), tuple(labels)


def engine_settings() -> str:
    """What the cache key says of this step: its version, or that it did not run (no template fonts)."""
    return VERSION if templates() is not None else "thai-digits-off"


def _vector(ink: np.ndarray) -> np.ndarray | None:
    """A glyph's ink cropped to itself, centred in a square, scaled to SIDE x SIDE, blurred a little (a scan's
    strokes are never where a font's are to the pixel), as a unit vector around its mean."""
    from PIL import Image, ImageFilter

    ys, xs = np.nonzero(ink)
    if len(ys) == 0:
        return None
    ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = ink.shape
    side = max(h, w)
    square = np.zeros((side, side), dtype=np.uint8)
    square[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = ink * 255
    small = Image.fromarray(square).resize((SIDE, SIDE), Image.BILINEAR).filter(ImageFilter.GaussianBlur(1))
    v = np.asarray(small, dtype=np.float32).ravel()
    v = v - v.mean()
    norm = float(np.linalg.norm(v))
    return v / norm if norm else None


def classify(ink: np.ndarray) -> tuple[str | None, float, float]:
    """(the digit a glyph's ink is most like, how alike, by how much more than any other digit)."""
    known = templates()
    vector = _vector(ink)
    if known is None or vector is None:
        return None, 0.0, 0.0
    matrix, labels = known
    similarity = matrix @ vector
    best: dict[str, float] = {}
    for label, s in zip(labels, similarity, strict=True):
        best[label] = max(best.get(label, -1.0), float(s))
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    return ranked[0][0], ranked[0][1], ranked[0][1] - ranked[1][1]


def page_pixels(image: bytes) -> np.ndarray:
    """A page as the OCR saw it (PGM, or anything PIL reads) as a grey array."""
    if image.startswith(b"P5"):
        fields = image.split(maxsplit=4)  # P5, width, height, maxval, pixels
        width, height = int(fields[1]), int(fields[2])
        return np.frombuffer(image, dtype=np.uint8, count=width * height,
                             offset=len(image) - width * height).reshape(height, width)
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(image)).convert("L"))


def read_run(pixels: np.ndarray, region: Glyph, read: str) -> str:
    """The digits (and separators) in `region` of the page, where tesseract read `read`: the glyphs' digits
    when every glyph is clearly one and the separators are the ones tesseract read, else UNREAD. An unclear
    glyph at either end is a neighbour's stroke (tesseract's boxes of Thai characters are loose) when,
    without it, as many digits are left as tesseract read."""
    marks = _marks(pixels, region)
    if marks is None:
        return UNREAD
    clear = [isinstance(m, str) or (m[0] is not None and m[1] >= SURE and m[2] >= CLEAR) for m in marks]
    wanted = sum(1 for ch in read if ch in THAI_DIGITS)

    def digits(ms: list) -> int:
        return sum(1 for m in ms if not isinstance(m, str))

    while marks and not clear[0] and digits(marks[1:]) >= wanted:
        marks, clear = marks[1:], clear[1:]
    while marks and not clear[-1] and digits(marks[:-1]) >= wanted:
        marks, clear = marks[:-1], clear[:-1]
    while marks and isinstance(marks[0], str):
        marks, clear = marks[1:], clear[1:]
    while marks and isinstance(marks[-1], str):
        marks, clear = marks[:-1], clear[:-1]
    if not marks or not all(clear):
        return UNREAD
    found = [m for m in marks if isinstance(m, str)]
    separators = [ch for ch in read if ch in SEPARATORS]
    if len(found) != len(separators):  # a point lost or invented moves the number's digits: never stated
        return UNREAD
    written = iter(separators)  # tesseract tells a comma from a point better than a glyph's height
    return "".join(next(written) if isinstance(m, str) else m[0] for m in marks)


def _marks(pixels: np.ndarray, region: Glyph) -> list | None:
    """The run's glyphs from left to right: a separator as ',' (a small mark on the baseline), a digit-sized
    glyph as classify()'s answer; None when the region holds no glyph."""
    from scipy import ndimage

    top, bottom = max(0, region.top), min(pixels.shape[0], region.bottom)
    left, right = max(0, region.left), min(pixels.shape[1], region.right)
    if bottom - top < 4 or right - left < 2:
        return None
    ink = pixels[top:bottom, left:right] < INK
    labels, count = ndimage.label(ink, structure=np.ones((3, 3), dtype=bool))
    if not count:
        return None
    boxes = ndimage.find_objects(labels)
    areas = np.bincount(labels.ravel())[1:]
    parts = [(b[1].start, b[0].start, b[1].stop, b[0].stop, k + 1) for k, b in enumerate(boxes) if areas[k] >= 4]
    if not parts:
        return None
    height = max(p[3] - p[1] for p in parts)
    speck = (0.1 * height) ** 2  # a point is a fifth of a digit's height across: a speck left by the median, less
    parts = [p for p in parts if areas[p[4] - 1] >= speck]
    baseline = max(p[3] for p in parts if p[3] - p[1] >= 0.5 * height)
    glyphs: list[list] = []  # [left, top, right, bottom, {labels}, small]
    for p in sorted(parts):
        small = p[3] - p[1] < 0.45 * height
        g = glyphs[-1] if glyphs else None
        if g is not None and not small and not g[5] and \
                min(p[2], g[2]) - max(p[0], g[0]) >= 0.5 * min(p[2] - p[0], g[2] - g[0]):
            # a stroke the scan broke: one glyph with the piece it overlaps
            g[0], g[1], g[2], g[3] = min(g[0], p[0]), min(g[1], p[1]), max(g[2], p[2]), max(g[3], p[3])
            g[4].add(p[4])
            continue
        glyphs.append([p[0], p[1], p[2], p[3], {p[4]}, small])
    widths = [g[2] - g[0] for g in glyphs if not g[5]]
    usual = float(np.median(widths)) if widths else 0.0
    marks: list = []
    for g in glyphs:
        mask = np.isin(labels[g[1]:g[3], g[0]:g[2]], list(g[4]))
        if g[5]:
            on_baseline = g[3] >= baseline - 0.15 * height and g[2] - g[0] < 0.6 * height
            marks.append("," if on_baseline else (None, 0.0, 0.0))  # a dash or a mark: no digit, no separator
            continue
        pieces = round((g[2] - g[0]) / usual) if usual and g[2] - g[0] > 1.6 * usual else 1
        for piece in _split(mask, pieces):  # digits the blur joined
            marks.append(classify(piece))
    return marks


def _split(mask: np.ndarray, pieces: int) -> list[np.ndarray]:
    """A glyph's ink cut into `pieces` at its thinnest columns near the even cuts."""
    if pieces <= 1:
        return [mask]
    columns = mask.sum(axis=0)
    width = mask.shape[1]
    cuts = [0]
    for k in range(1, pieces):
        centre = width * k // pieces
        reach = width // (3 * pieces)
        window = range(max(cuts[-1] + 1, centre - reach), min(width - 1, centre + reach))
        cuts.append(min(window, key=lambda x: columns[x]) if len(window) else centre)
    cuts.append(width)
    return [mask[:, a:b] for a, b in zip(cuts, cuts[1:], strict=False)]


def _widened(pixels: np.ndarray, left: int, right: int, line: tuple[int, int, int, int]) -> tuple[int, int]:
    """A run's columns, from its first glyph's box to its last one's, widened on each side to the nearest
    column with no ink in the line (a box of tesseract's may cut a glyph), at most a line's height."""
    top, bottom = max(0, line[1]), min(pixels.shape[0], line[3])
    band = pixels[top:bottom] < INK
    reach = bottom - top
    left_limit = max(0, line[0] - 2, left - reach)
    right_limit = min(pixels.shape[1], line[2] + 2, right + reach)
    left, right = max(left, left_limit), min(right, right_limit)
    while left > left_limit and band[:, left - 1].any():
        left -= 1
    while right < right_limit and band[:, right].any():
        right += 1
    return left, right


def reread(pixels: np.ndarray, words: Sequence[tuple[str, int, int, int, int]],
           line: tuple[int, int, int, int], spaced: frozenset[int] = frozenset()) -> list[tuple[int, int, str]]:
    """For one TSV line (its words as (text, left, top, right, bottom) and its own box), each run of Thai
    digits read again: (first word, word after the last, what the run reads). A run ends where the text has a
    space (`spaced`: the words a space comes before)."""
    out = []
    i = 0
    while i < len(words):
        if not all(ch in THAI_DIGITS for ch in words[i][0]):
            i += 1
            continue
        j = i
        while j + 1 < len(words) and j + 1 not in spaced and all(ch in THAI_DIGITS + SEPARATORS
                                                                  for ch in words[j + 1][0]):
            j += 1
        while j > i and words[j][0] in SEPARATORS:  # a full stop after the number is not part of it
            j -= 1
        left, right = _widened(pixels, words[i][1], words[j][3], line)
        read = "".join(w[0] for w in words[i:j + 1])
        if right > left:
            out.append((i, j + 1, read_run(pixels, Glyph(left, line[1], right, line[3]), read)))
        i = j + 1
    return out
