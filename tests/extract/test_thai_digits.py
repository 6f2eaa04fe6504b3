"""Thai digits read again glyph by glyph (extract/thai_digits.py): tesseract's Thai model writes ๔ ๖ ๗ ๘ ๙ of
a Sarabun-like face as other digits, the same way in every pass."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from extract.thai_digits import FONT_DIRS, UNREAD, Glyph, read_run, templates

LAKSAMAN = next((d / "Laksaman.ttf" for d in FONT_DIRS if (d / "Laksaman.ttf").exists()), None)
pytestmark = pytest.mark.skipif(LAKSAMAN is None, reason="needs Debian's fonts-thai-tlwg (.ci/run installs it)")


def _page(text: str, scale: float = 1.0, quality: int | None = None) -> tuple[np.ndarray, Glyph]:
    """`text` printed at 14 pt, 300 dpi (58 px), then scanned at `scale` of that and brought back, blurred
    and JPEG-compressed as the synthetic scans are; and the box a line of it fills."""
    canvas = Image.new("L", (1400, 160), 255)
    ImageDraw.Draw(canvas).text((40, 30), text, font=ImageFont.truetype(str(LAKSAMAN), 58), fill=0)
    if scale != 1.0:
        small = canvas.resize((round(1400 * scale), round(160 * scale)), Image.BILINEAR)
        canvas = small.filter(ImageFilter.GaussianBlur(0.6)).resize((1400, 160), Image.BICUBIC)
    if quality is not None:
        out = io.BytesIO()
        canvas.save(out, format="JPEG", quality=quality)
        canvas = Image.open(io.BytesIO(out.getvalue())).convert("L")
    canvas = canvas.filter(ImageFilter.MedianFilter(3))
    return np.asarray(canvas), Glyph(20, 10, 1380, 150)


@pytest.mark.parametrize("number", ["๐๑๒๓๔๕๖๗๘๙", "๒๕๖๘", "๙๐,๐๐๐", "๓๗", "๑๒,๔๕๖.๗๘"])
@pytest.mark.parametrize(("scale", "quality"), [(1.0, None), (0.5, 55), (0.667, 65)])
def test_the_digits_tesseract_misreads_are_read_from_their_glyphs(number, scale, quality):
    pixels, region = _page(number, scale, quality)
    separators = "".join(ch for ch in number if ch in ",.")
    assert read_run(pixels, region, "๒" * 4 + separators) == number
    if separators:  # a point lost or invented would move the number's digits
        assert read_run(pixels, region, "๒" * 4) == UNREAD


def test_what_is_not_clearly_a_digit_is_left_unread_never_guessed():
    pixels, region = _page("๒ก๕")  # a letter among the digits
    assert read_run(pixels, region, "๒๒๕") == UNREAD
    pixels, region = _page("ก๒ข")  # a neighbour's strokes at either end are not the run's ...
    assert read_run(pixels, region, "๒") == "๒"
    assert read_run(pixels, region, "๒๕๕") == UNREAD  # ... unless without them a digit is missing
    blot = np.full((160, 400), 255, dtype=np.uint8)
    blot[40:110, 60:200] = 0  # a smudge the size of two digits
    assert read_run(blot, Glyph(20, 10, 380, 150), "๕๕") == UNREAD


def test_the_templates_hold_every_digit_of_every_face_found():
    matrix, labels = templates()
    assert set(labels) == set("๐๑๒๓๔๕๖๗๘๙") and matrix.shape == (len(labels), 24 * 24)
