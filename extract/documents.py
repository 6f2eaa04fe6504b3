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

PDF_MAGIC = b"%PDF-"
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
TEXT_LAYER_MIN_CHARS = 40  # a page whose text layer holds fewer printable characters is a scan
MAX_PIXELS = 120_000_000  # an image larger than this (11,000 x 11,000) is refused unread: a decompression bomb
PREPARATION = "median3"  # what a page goes through before OCR (part of the cache key)
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
        spec = json.dumps([engine_version, self.languages, list(self.passes), self.dpi, PREPARATION])
        return hashlib.sha256(spec.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DocumentText:
    """A document read as text: one text per pass (a single one for a text layer), pages joined by \\f."""

    method: str  # 'text_layer' or 'ocr'
    passes: tuple[str, ...]
    pages: int
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
    scan: the junk characters at every line's ends and half the misread labels gone), as PGM bytes. It costs
    0.6 s a 300-dpi page (tesseract: ~4-5 s a pass); a separable median (0.06 s) lost 9 of 125 fields on
    three degraded scans that PIL's kept."""
    from PIL import ImageFilter

    out = io.BytesIO()
    image.filter(ImageFilter.MedianFilter(3)).save(out, format="PPM")  # grey saves as PGM: nothing to compress
    return out.getvalue()


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
            return DocumentText("ocr", tuple(record["passes"]), record["pages"], 0.0, cached=True)
        except (OSError, ValueError, KeyError):
            pass  # a damaged entry is read again
    started = time.perf_counter()
    passes, count = ocr_pages(pages(), settings)
    seconds = time.perf_counter() - started
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"passes": passes, "pages": count, "seconds": round(seconds, 3),
                                   "settings": {"languages": settings.languages, "passes": list(settings.passes),
                                                "dpi": settings.dpi}}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, cached)
    return DocumentText("ocr", tuple(passes), count, seconds)


def ocr_pages(pages: Iterator[bytes], settings: OcrSettings) -> tuple[list[str], int]:
    """Every page read in every pass, settings.threads tesseract processes at a time, pages rendered as the
    readings need them (a few in memory, never the whole document); returns (one text per pass, pages)."""
    texts: list[list[str]] = [[] for _ in settings.passes]
    in_flight: list[list[Future]] = []
    with ThreadPoolExecutor(max_workers=max(1, settings.threads)) as pool:
        count = 0
        for count, image in enumerate(pages, start=1):
            in_flight.append([pool.submit(tesseract_page, image, psm, settings, count) for psm in settings.passes])
            if len(in_flight) > settings.threads:
                _collect(in_flight.pop(0), texts)
        while in_flight:
            _collect(in_flight.pop(0), texts)
    return ["\f".join(pages_of_pass) for pages_of_pass in texts], count


def _collect(futures: list[Future], texts: list[list[str]]) -> None:
    for i, future in enumerate(futures):
        texts[i].append(future.result())


def tesseract_page(image: bytes, psm: int, settings: OcrSettings, page_no: int = 1) -> str:
    """One page (PGM or PNG bytes) read by tesseract in one page-segmentation mode, on one core."""
    path = shutil.which(settings.tesseract) or settings.tesseract
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        out = subprocess.run([path, "stdin", "stdout", "-l", settings.languages, "--psm", str(psm), "--dpi",
                              str(settings.dpi)], input=image, capture_output=True, timeout=settings.page_timeout_s,
                             env=env, check=False)
    except subprocess.TimeoutExpired:
        raise OcrUnavailableError(f"OCR of page {page_no} did not finish in {settings.page_timeout_s} s "
                            "(SCHOOLNET_OCR_PAGE_TIMEOUT_S): not read") from None
    except OSError as exc:
        raise OcrUnavailableError(f"tesseract does not start ({exc.strerror or exc}): not read") from None
    if out.returncode != 0:
        said = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrUnavailableError(f"tesseract failed on page {page_no}: {said[-1] if said else out.returncode}")
    return out.stdout.decode("utf-8", "replace")
