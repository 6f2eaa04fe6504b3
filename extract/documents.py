"""Reports as the districts publish them: PDF files and scanned images read as text.

A PDF with a text layer is read from it (poppler's `pdftotext -raw`, else pypdfium2); a scanned PDF or an
image (PNG, JPEG, TIFF) is rendered page by page and read by tesseract (`tha+eng`) in several passes, one
page-segmentation mode each. The passes are the document's renderings: the parsers decide each value by their
agreement, exactly as they do across the renderings of a dump. The text of every pass is cached under the
file's content hash and the OCR settings, so an unchanged file is never read by OCR twice.

What cannot be read (an encrypted or broken PDF, too many pages, a machine without tesseract, a page OCR does
not finish in time) raises DocumentError with one sentence that says why: the file is quarantined with it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from extract import thai_digits

PDF_MAGIC = b"%PDF-"
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
TEXT_LAYER_MIN_CHARS = 40  # a page whose text layer holds fewer printable characters is a scan
MAX_PIXELS = 120_000_000  # an image larger than this (11,000 x 11,000) is refused unread: a decompression bomb
MEDIAN_ROWS = 256  # rows of a page median-filtered at once
PREPARATION = "median3"  # what a page goes through before OCR (part of the cache key)
OUTPUT = "txt+tsv-confidence"  # what a reading keeps: the text and its characters' confidences (the cache key)
SURE_READ = 95  # the confidence of a digit read again glyph by glyph (extract/thai_digits.py)
INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-tha (README: Reading PDFs and scans)"


class DocumentError(Exception):
    """A PDF or image that cannot be read as text; str() is the reason it is quarantined with."""

    retry = False  # the file itself is fine: the next run tries it again (OCR missing, or it took too long)


class OcrUnavailableError(DocumentError):
    """No OCR to read a scan with, or it failed on this page: not the file's fault."""

    retry = True


@dataclass(frozen=True)
class OcrSettings:
    """How scans are read. `passes` are tesseract page-segmentation modes, one reading of every page each."""

    tesseract: str = "tesseract"
    languages: str = "tha+eng"
    passes: tuple[int, ...] = (6, 4)
    dpi: int = 300
    max_pages: int = 50
    page_timeout_s: int = 120
    threads: int = 1  # tesseract processes at once in one parsing process (each limited to one core)

    def key(self, engine_version: str) -> str:
        """What the text of a pass depends on besides the file: the cache's key."""
        spec = json.dumps([engine_version, self.languages, list(self.passes), self.dpi, PREPARATION, OUTPUT,
                           thai_digits.engine_settings()])
        return hashlib.sha256(spec.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DocumentText:
    """A document read as text: one text per pass (a single one for a text layer), pages joined by \\f."""

    method: str  # 'text_layer' or 'ocr'
    passes: tuple[str, ...]
    pages: int
    confidences: tuple[str, ...] = ()  # of an OCR'd document, one per pass: see PageReading.confidence
    ocr_seconds: float = 0.0  # the tesseract time this run spent on it (0 when it came from the cache)
    cached: bool = False


def sniff(data: bytes) -> str | None:
    """'pdf', 'image', or None for anything else (a text dump)."""
    head = data[:1024].lstrip(b"\x00\t\r\n ")
    if head.startswith(PDF_MAGIC):
        return "pdf"
    if data.startswith(IMAGE_MAGIC):
        return "image"
    return None


def read_document(data: bytes, content_sha256: str, settings: OcrSettings, cache_dir: Path | None) -> DocumentText:
    """The text of a PDF or image (sniff() said which); DocumentError when it cannot be read."""
    kind = sniff(data)
    if kind == "pdf":
        return _read_pdf(data, content_sha256, settings, cache_dir)
    if kind == "image":
        return _ocr_cached(content_sha256, settings, cache_dir, lambda: _image_pages(data, settings))
    raise DocumentError("not a PDF or an image")


# -- PDF -------------------------------------------------------------------------------------------------

def _open_pdf(data: bytes):  # -> pypdfium2.PdfDocument
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise DocumentError("encrypted PDF: it opens only with a password; publish it unprotected to load "
                                "it") from None
        raise DocumentError(f"not a readable PDF ({message.rstrip('.')}): a broken or cut download?") from None


def _read_pdf(data: bytes, content_sha256: str, settings: OcrSettings, cache_dir: Path | None) -> DocumentText:
    pdf = _open_pdf(data)
    try:
        pages = len(pdf)
        if pages == 0:
            raise DocumentError("PDF without pages")
        if pages > settings.max_pages:
            raise DocumentError(f"PDF of {pages} pages, over the limit of {settings.max_pages} "
                                "(SCHOOLNET_MAX_PDF_PAGES): not read; a report is a few pages")
        layer = _text_layer(data, pdf)
        if all(_printable(page) >= TEXT_LAYER_MIN_CHARS for page in layer):
            return DocumentText("text_layer", ("\f".join(layer),), pages)
    finally:
        pdf.close()
    return _ocr_cached(content_sha256, settings, cache_dir, lambda: _pdf_pages(data, settings))


def _printable(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace() and ch.isprintable())


def _text_layer(data: bytes, pdf) -> list[str]:
    """Each page's text layer: poppler's reading order where poppler is installed (pdfium repeats the glyph
    clusters some PDF writers mark with ActualText, as Chromium does for Thai), else pdfium's."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
            tmp.write(data)
            tmp.flush()
            out = subprocess.run([pdftotext, "-raw", "-enc", "UTF-8", tmp.name, "-"], capture_output=True,
                                 timeout=120, check=False)
        if out.returncode == 0:
            pages = out.stdout.decode("utf-8", "replace").split("\f")
            return (pages + [""] * len(pdf))[: len(pdf)]
    texts = []
    for page in pdf:
        textpage = page.get_textpage()
        texts.append(textpage.get_text_bounded().replace("\r\n", "\n"))
        textpage.close()
        page.close()
    return texts


def _pdf_pages(data: bytes, settings: OcrSettings) -> Iterator[bytes]:
    """The PDF's pages rendered in grey at settings.dpi, as PGM bytes, one at a time."""
    pdf = _open_pdf(data)
    try:
        for page in pdf:
            image = page.render(scale=settings.dpi / 72, grayscale=True).to_pil()
            page.close()
            yield _pgm(image)
    finally:
        pdf.close()


def _image_pages(data: bytes, settings: OcrSettings) -> Iterator[bytes]:
    """An image's frames (a TIFF may hold many) in grey, brought to settings.dpi when they say their own."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise DocumentError(f"image of {image.width} x {image.height} pixels, over {MAX_PIXELS:,}: not read")
        frames = getattr(image, "n_frames", 1)
        if frames > settings.max_pages:
            raise DocumentError(f"image of {frames} pages, over the limit of {settings.max_pages} "
                                "(SCHOOLNET_MAX_PDF_PAGES): not read")
        for frame in ImageSequence.Iterator(image):
            grey = frame.convert("L")
            dpi = frame.info.get("dpi", (0, 0))[0] or 0
            if 50 <= dpi < settings.dpi * 0.9:  # a 150-dpi scan read at 300: tesseract's best size
                factor = settings.dpi / dpi
                grey = grey.resize((round(grey.width * factor), round(grey.height * factor)), Image.BICUBIC)
            yield _pgm(grey)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DocumentError(f"not a readable image ({type(exc).__name__}: {exc})") from None


def _pgm(image) -> bytes:
    """The page made ready for OCR: a 3x3 median filter takes out a scanner's speckle (measured on a degraded
    scan: the junk characters at every line's ends and half the misread labels gone), as PGM bytes."""
    grey = median3(np.asarray(image, dtype=np.uint8))
    return b"P5\n%d %d\n255\n" % (grey.shape[1], grey.shape[0]) + grey.tobytes()


def median3(grey: np.ndarray) -> np.ndarray:
    """The 3x3 median of a grey image, edges repeated: the same pixels as PIL's ImageFilter.MedianFilter(3),
    in a fifth of its time (0.03 s a 300-dpi page against PIL's 0.16 s, measured side by side). Each column of
    three is sorted once (low, middle, high); a window's median is then the median of the largest low, the
    median middle and the smallest high of its three columns, exact for a 3x3 window. A separable median (rows,
    then columns) is not a median: it lost 9 of 125 fields on three degraded scans that this keeps."""
    padded = np.pad(grey, 1, mode="edge")
    out = np.empty_like(grey)
    for start in range(0, grey.shape[0], MEDIAN_ROWS):  # in strips: a page's temporaries stay a few MB
        stop = min(grey.shape[0], start + MEDIAN_ROWS)
        out[start:stop] = _median3_padded(padded[start:stop + 2])
    return out


def _median3_padded(padded: np.ndarray) -> np.ndarray:
    top, middle, bottom = padded[:-2], padded[1:-1], padded[2:]
    low, high = np.minimum(top, middle), np.maximum(top, middle)
    middle = _median_of_three(low, high, bottom)
    low, high = np.minimum(low, bottom), np.maximum(high, bottom)
    largest_low = np.maximum(np.maximum(low[:, :-2], low[:, 1:-1]), low[:, 2:])
    smallest_high = np.minimum(np.minimum(high[:, :-2], high[:, 1:-1]), high[:, 2:])
    a, b = np.minimum(middle[:, :-2], middle[:, 1:-1]), np.maximum(middle[:, :-2], middle[:, 1:-1])
    median_middle = _median_of_three(a, b, middle[:, 2:])
    a, b = np.minimum(largest_low, median_middle), np.maximum(largest_low, median_middle)
    return _median_of_three(a, b, smallest_high)


def _median_of_three(low: np.ndarray, high: np.ndarray, other: np.ndarray) -> np.ndarray:
    """The median of three arrays, the first two already ordered (low <= high)."""
    return np.maximum(low, np.minimum(high, other))


# -- OCR ---------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def engine_version(tesseract: str, languages: str) -> str:
    """tesseract's version when it can read `languages`, else DocumentError saying what is missing."""
    path = shutil.which(tesseract)
    if path is None:
        raise OcrUnavailableError(f"a scan needs OCR and tesseract is not installed ({INSTALL_HINT}): not read")
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
        langs = subprocess.run([path, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise OcrUnavailableError(f"a scan needs OCR and tesseract does not start ({exc}): not read") from None
    have = set(langs.stdout.split())
    missing = [lang for lang in languages.split("+") if lang not in have]
    if missing:
        raise OcrUnavailableError(f"a scan needs OCR and tesseract has no {'+'.join(missing)} language data "
                            f"({INSTALL_HINT}): not read")
    first = (version.stdout or version.stderr).splitlines()
    return first[0].strip() if first else "tesseract"


def _ocr_cached(content_sha256: str, settings: OcrSettings, cache_dir: Path | None,
                pages: callable) -> DocumentText:  # type: ignore[valid-type]
    key = settings.key(engine_version(settings.tesseract, settings.languages))
    cached = cache_dir / f"{content_sha256}-{key}.json" if cache_dir else None
    if cached is not None and cached.exists():
        try:
            record = json.loads(cached.read_text(encoding="utf-8"))
            return DocumentText("ocr", tuple(record["passes"]), record["pages"], tuple(record["confidences"]), 0.0,
                                cached=True)
        except (OSError, ValueError, KeyError):
            pass  # a damaged entry is read again
    started = time.perf_counter()
    passes, confidences, count = ocr_pages(pages(), settings)
    seconds = time.perf_counter() - started
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        record = {"passes": passes, "confidences": confidences, "pages": count, "seconds": round(seconds, 3),
                  "settings": {"languages": settings.languages, "passes": list(settings.passes), "dpi": settings.dpi}}
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, cached)
    return DocumentText("ocr", tuple(passes), count, tuple(confidences), seconds)


def ocr_pages(pages: Iterator[bytes], settings: OcrSettings) -> tuple[list[str], list[str], int]:
    """Every page read in every pass, settings.threads tesseract processes at a time, pages rendered as the
    readings need them (a few in memory, never the whole document); returns one text per pass, pages joined
    by \\f, the confidences of each pass alike, and the number of pages."""
    readings: list[list[PageReading]] = [[] for _ in settings.passes]
    in_flight: list[list[Future]] = []
    with ThreadPoolExecutor(max_workers=max(1, settings.threads)) as pool:
        count = 0
        for count, image in enumerate(pages, start=1):
            in_flight.append([pool.submit(tesseract_page, image, psm, settings, count) for psm in settings.passes])
            if len(in_flight) > settings.threads:
                _collect(in_flight.pop(0), readings)
        while in_flight:
            _collect(in_flight.pop(0), readings)
    return (["\f".join(r.text for r in of_pass) for of_pass in readings],
            ["\f".join(r.confidence for r in of_pass) for of_pass in readings], count)


def _collect(futures: list[Future], readings: list[list[PageReading]]) -> None:
    for i, future in enumerate(futures):
        readings[i].append(future.result())


@dataclass(frozen=True)
class PageReading:
    """A page as one pass read it: its text, and for each line of it that holds anything, one line of
    `confidence`: "<top> <bottom> <cc...>", the line's pixel rows and tesseract's confidence in each of its
    characters but spaces, two digits a character (00-99); no digits when the two outputs did not match."""

    text: str
    confidence: str


@functools.lru_cache(maxsize=8)
def _executable(tesseract: str) -> str:
    return shutil.which(tesseract) or tesseract


def tesseract_command(settings: OcrSettings, psm: int, base: str) -> list[str]:
    """tesseract reading a page from stdin in one page-segmentation mode into <base>.txt and <base>.tsv."""
    return [_executable(settings.tesseract), "stdin", base, "-l", settings.languages, "--psm", str(psm), "--dpi",
            str(settings.dpi), "txt", "tsv"]


def tesseract_page(image: bytes, psm: int, settings: OcrSettings, page_no: int = 1) -> PageReading:
    """One page (PGM or PNG bytes) read by tesseract in one page-segmentation mode, on one core: its text and
    the confidence of every character (tesseract's txt and tsv outputs of one recognition)."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    with tempfile.TemporaryDirectory(prefix="schoolnet-ocr-") as tmp:
        base = os.path.join(tmp, "page")
        try:
            out = subprocess.run(tesseract_command(settings, psm, base), input=image, capture_output=True,
                                 timeout=settings.page_timeout_s, env=env, check=False)
        except subprocess.TimeoutExpired:
            raise OcrUnavailableError(f"OCR of page {page_no} did not finish in {settings.page_timeout_s} s "
                                      "(SCHOOLNET_OCR_PAGE_TIMEOUT_S): not read") from None
        except OSError as exc:
            raise OcrUnavailableError(f"tesseract does not start ({exc.strerror or exc}): not read") from None
        if out.returncode != 0:
            said = out.stderr.decode("utf-8", "replace").strip().splitlines()
            raise OcrUnavailableError(f"tesseract failed on page {page_no}: {said[-1] if said else out.returncode}")
        try:
            text = Path(f"{base}.txt").read_bytes().decode("utf-8", "replace")
            tsv = Path(f"{base}.tsv").read_bytes().decode("utf-8", "replace")
        except OSError as exc:
            raise OcrUnavailableError(f"tesseract wrote no text for page {page_no} ({exc.strerror})") from None
    pixels = thai_digits.page_pixels(image) if thai_digits.templates() is not None else None
    return page_reading(text, tsv, pixels)


def page_reading(text: str, tsv: str, pixels: np.ndarray | None = None) -> PageReading:
    """A page's PageReading from tesseract's text and its TSV of the same recognition (the TSV's lines, level
    4, hold its words, level 5, in the order of the text's lines that are not blank), its runs of Thai digits
    read again from `pixels` where given (extract/thai_digits.py)."""
    lines: dict[tuple[str, ...], tuple[tuple[int, int, int, int], list[tuple[str, int, int, int, int, float]]]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] not in ("4", "5"):
            continue
        key = tuple(cells[1:5])
        left, top, width, height = (int(c) for c in cells[6:10])
        if cells[0] == "4":
            lines[key] = ((left, top, left + width, top + height), [])
        elif key in lines and cells[11].strip():
            lines[key][1].append((cells[11].strip(), left, top, left + width, top + height, float(cells[10])))
    found = [line for line in lines.values() if line[1]]
    written = iter(found)
    out_text, out_conf = [], []
    for line in text.split("\n"):
        if not line.strip():
            out_text.append(line)
            continue
        box, words = next(written, ((0, 0, 0, 0), []))
        if "".join(w[0] for w in words) != "".join(line.split()):
            out_text.append(line)
            out_conf.append(f"{box[1]} {box[3]} ")
            continue
        line, marks = _reread_line(line, box, words, pixels)
        out_text.append(line)
        out_conf.append(f"{box[1]} {box[3]} " + "".join(f"{min(99, max(0, int(c))):02d}" for c in marks))
    return PageReading("\n".join(out_text), "\n".join(out_conf))


def _reread_line(line: str, box: tuple[int, int, int, int], words: list, pixels: np.ndarray | None,
                 ) -> tuple[str, list[float]]:
    """A text line with its runs of Thai digits read again, and the confidence of each of its characters but
    spaces (a digit read again: SURE_READ; a run left unread: 0)."""
    owner: list[int | None] = []  # the word each character of the line belongs to (None: a space)
    spaced: set[int] = set()
    word, used = 0, 0
    for ch in line:
        if ch.isspace():
            owner.append(None)
            if used == 0 or used == len(words[word][0]):
                spaced.add(word + (1 if used else 0))
            continue
        if used == len(words[word][0]):
            word, used = word + 1, 0
        owner.append(word)
        used += 1
    runs = thai_digits.reread(pixels, [w[:5] for w in words], box, frozenset(spaced)) if pixels is not None and \
        any(ch in thai_digits.THAI_DIGITS for ch in line) else []
    chars = list(line)
    marks: list[float | None] = [None if o is None else words[o][5] for o in owner]
    for first, after, reading in reversed(runs):
        start = owner.index(first)
        end = len(owner) - owner[::-1].index(after - 1)
        sure = 0.0 if reading == thai_digits.UNREAD else SURE_READ
        chars[start:end] = list(reading)
        marks[start:end] = [sure] * len(reading)
    text = "".join(chars)
    return text, [m for ch, m in zip(text, marks, strict=True) if not ch.isspace()]
