"""`schoolnet generate --scans`: the reports as districts publish them, with truth. Each document is printed
once, as its printed form is (a progress form or a proposal; a web page has no printed form), to a PDF in a
Thai font by Chromium, then scanned: pages rasterised at 150-300 dpi, skewed up to +-2 degrees, blurred,
speckled and JPEG-compressed at quality 50-70, and kept as a scanned PDF, a PNG, a JPEG or a multi-page TIFF.
A text-layer corpus (--text-layer) keeps Chromium's PDF as it is.

Names, schools and districts are printed as they are: every misspelling in what the pipeline reads is a real
OCR fault of tesseract's, which is what the reconciliation meets. The truth is the corpus's (synth/corpus.py)
with one rendering per document; DIR.scans.json beside the folder says what each file is (pages, dpi, skew,
format) for the bench.
"""

from __future__ import annotations

import html
import io
import json
import random
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from common.records import Reference
from synth.corpus import DEPARTMENT_RATE, _causes, _truth, truth_path, world_path, world_record
from synth.render import FILLER, entry_parts, money, proposal
from synth.world import TruePerson, TrueProject, World, build_world, draw_project

SCAN_LAYOUTS = {"progress_form": 0.8, "proposal": 0.2}
FORMATS = {"pdf": 0.55, "png": 0.15, "jpg": 0.15, "tif": 0.15}
DPIS = (150, 200, 240, 300)
FONT = "Laksaman"  # fonts-thai-tlwg's Sarabun, the typeface of BMA's printed forms
PAGE_CSS = (f"@page {{ size: A4; margin: 14mm 14mm; }} body {{ font-family: '{FONT}', 'Garuda', sans-serif; "
            "font-size: 14pt; line-height: 1.4; }} h1 {{ font-size: 17pt; text-align: center; margin: 0 0 0.4em; }} "
            "p {{ margin: 0.15em 0; }}").replace("{{", "{").replace("}}", "}")


def scans_path(out_dir: Path) -> Path:
    return out_dir.parent / f"{out_dir.name}.scans.json"


@dataclass(frozen=True)
class Scan:
    """How one document was scanned."""

    dpi: int
    skew_deg: float
    blur: float
    speckle: float  # share of pixels flipped
    jpeg_quality: int | None
    file_format: str  # pdf, png, jpg, tif

    @classmethod
    def draw(cls, rng: random.Random, degraded: bool) -> Scan:
        file_format = rng.choices(list(FORMATS), list(FORMATS.values()))[0]
        if not degraded:
            return cls(300, 0.0, 0.0, 0.0, None, file_format)
        return cls(rng.choice(DPIS), round(rng.uniform(-2, 2), 2), round(rng.uniform(0.3, 1.0), 2),
                   round(rng.uniform(0.0005, 0.003), 4), rng.randint(50, 70), file_format)


def generate_scans(out_dir: Path, docs: int, seed: int, reference: Reference, degraded: bool = True,
                   text_layer: bool = False) -> Path:
    """Write `docs` printed-and-scanned documents into out_dir, with their truth and world beside it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(random.Random(seed), reference)
    world_path(out_dir).write_text(json.dumps(world_record(world, reference), ensure_ascii=False, sort_keys=True,
                                              indent=1), encoding="utf-8")
    described = []
    with _Printer() as printer, truth_path(out_dir).open("w", encoding="utf-8") as truth:
        for i in range(docs):
            rng = random.Random(f"{seed}:scan:{i}")
            layout, page_html, record = _document(rng, world, i)
            pdf = printer.pdf(page_html)
            if text_layer:
                name, pages, scan = f"{i:06d}_{layout}.pdf", _page_count(pdf), None
                (out_dir / name).write_bytes(pdf)
            else:
                scan = Scan.draw(rng, degraded)
                name = f"{i:06d}_{layout}.{scan.file_format}"
                pages = _scan(pdf, scan, rng, out_dir / name)
            record["source_file"] = name
            truth.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            described.append({"file": name, "pages": pages, "layout": layout,
                              **(scan.__dict__ if scan else {"text_layer": True})})
    scans_path(out_dir).write_text(json.dumps(described, indent=1), encoding="utf-8")
    return truth_path(out_dir)


def _document(rng: random.Random, world: World, i: int) -> tuple[str, str, dict]:
    layout = rng.choices(list(SCAN_LAYOUTS), list(SCAN_LAYOUTS.values()))[0]
    department = rng.choice(sorted(world.departments)) if rng.random() < DEPARTMENT_RATE[layout] else None
    pr, story = draw_project(rng, world, with_code=layout != "proposal", with_reports=layout != "proposal",
                             serial=i, department=department)
    people: list[tuple[str, str]] = []
    schools: list[tuple[str, str]] = []
    spent: Decimal | None = None
    if layout == "progress_form":
        body, spent = _printed_form(rng, pr, schools, people)
    else:
        district_name = world.districts[pr.district_id] if pr.district_id else None
        text, _ = proposal(rng, pr, district_name, people, ocr_rate=0.0, filler=(3, 8))
        body = "".join(_paragraph(line.lstrip("#- ").strip()) for line in text.split("\n") if line.strip())
    record = _truth("", layout, 1, pr, spent, schools, None, story)
    record["people_spelled"] = [{"person_id": pid, "name": spelled} for pid, spelled in people]
    causes = _causes(layout, pr, spent, schools, [], world, None, story)
    record["causes"] = causes
    record["expected_findings"] = {check: sum(1 for c in causes if c["check"] == check)
                                   for check in sorted({c["check"] for c in causes})}
    page = (f"<!doctype html><html lang='th'><head><meta charset='utf-8'><style>{PAGE_CSS}</style></head>"
            f"<body>{body}</body></html>")
    return layout, page, record


def _paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def _person(p: TruePerson, spelled: list[tuple[str, str]]) -> str:
    spelled.append((p.person_id, f"{p.first} {p.last}"))
    phone = f" เบอร์โทร {p.phone}" if p.phone else ""
    return f"{p.title}{p.first} {p.last}{phone}"


def _printed_form(rng: random.Random, pr: TrueProject, schools: list[tuple[str, str]],
                  spelled: list[tuple[str, str]]) -> tuple[str, Decimal]:
    """One rendering of the progress form as the tracking system prints it (the body of the page)."""
    spent = pr.reports[-1].cumulative if rng.random() < 0.6 else sum((r.cumulative for r in pr.reports), Decimal(0))
    cells = [("ชื่อโครงการ/กิจกรรม", pr.name), ("รหัสโครงการ", pr.code), ("ปีงบประมาณ พ.ศ.", str(pr.fiscal_year)),
             ("เริ่มต้นโครงการ", f"{pr.start.isoformat()} 00:00:00"), ("งบประมาณที่ได้รับ", f"{money(pr.budget)} บาท"),
             ("สิ้นสุดโครงการ", f"{pr.end.isoformat()} 00:00:00"), ("งบประมาณที่ใช้ไป", f"{money(spent)} บาท"),
             ("หน่วยงานที่รับผิดชอบ", f"{pr.agency_name} / {pr.unit} / {pr.unit}"),
             ("ชื่อผู้รับผิดชอบ", _person(pr.officer, spelled)), ("ผู้ประสานงาน สยป", _person(pr.coordinator, spelled))]
    parts = ["<h1>แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ</h1>",
             _paragraph("1. ชื่อโครงการและหน่วยงานที่รับผิดชอบโครงการ"), _paragraph("1.1 รหัสโครงการและชื่อโครงการ")]
    parts += [_paragraph(f"{label} : {value}") for label, value in cells]
    parts.append(_paragraph("1.3 หลักการและเหตุผล"))
    narrative = f"{pr.agency_name} {rng.choice(FILLER)}"
    if pr.networks:
        items = []
        for k, school in enumerate(pr.leads, 1):
            items.append(f"{k}. เครือข่ายที่ {school.network_no} โรงเรียน{school.name}")
            schools.append(("โรงเรียน" + school.name, school.school_id))
        narrative += (f" เครือข่ายโรงเรียน {len(pr.networks)} เครือข่าย ได้แก่ "
                      + ", ".join(f"เครือข่ายที่ {n}" for n in pr.networks) + " ดังนี้ " + " ".join(items))
    parts.append(_paragraph(narrative))
    parts.append(_paragraph(rng.choice(FILLER)))
    parts.append(_paragraph("2. รายงานความก้าวหน้าของโครงการและการใช้จ่ายงบประมาณ"))
    for r in pr.reports:
        schools.extend(r.schools)
        date_part, pct, amount, status = entry_parts(rng, r, False)
        parts.append(_paragraph(f"รายงานครั้งที่{r.report_no} {date_part}"))
        parts.append(_paragraph(f"{pct} {amount} {status}"))
    return "".join(parts), spent


class _Printer:
    """Chromium (Debian's, driven by Playwright) printing pages to PDF: one browser for the whole corpus."""

    def __enter__(self) -> _Printer:
        from playwright.sync_api import sync_playwright

        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if browser is None:
            raise SystemExit("printing the scanned corpus needs Chromium: apt-get install chromium fonts-thai-tlwg")
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=browser, args=["--no-sandbox"])
        self._page = self._browser.new_page()
        return self

    def pdf(self, page_html: str) -> bytes:
        self._page.set_content(page_html, wait_until="load")
        return self._page.pdf(format="A4", print_background=False, prefer_css_page_size=True)

    def __exit__(self, *exc: object) -> None:
        self._browser.close()
        self._playwright.stop()


def _page_count(pdf: bytes) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def _scan(pdf: bytes, scan: Scan, rng: random.Random, path: Path) -> int:
    """The printed PDF as a scanner gives it back, written to path; returns its pages."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    noise = np.random.default_rng(rng.getrandbits(32))
    doc = pdfium.PdfDocument(pdf)
    pages = []
    for page in doc:
        image = page.render(scale=scan.dpi / 72, grayscale=True).to_pil().convert("L")
        page.close()
        if scan.skew_deg:
            image = image.rotate(scan.skew_deg, resample=Image.BICUBIC, fillcolor=255)
        if scan.blur:
            image = image.filter(ImageFilter.GaussianBlur(scan.blur * scan.dpi / 300))
        if scan.speckle:
            pixels = np.asarray(image).copy()
            flips = noise.random(pixels.shape) < scan.speckle
            pixels[flips] = np.where(noise.random(int(flips.sum())) < 0.6, 0, 255)
            image = Image.fromarray(pixels, mode="L")
        if scan.jpeg_quality:
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=scan.jpeg_quality)
            image = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
        pages.append(image)
    doc.close()
    first, rest = pages[0], pages[1:]
    dpi = (scan.dpi, scan.dpi)
    if scan.file_format == "pdf":
        first.save(path, format="PDF", save_all=True, append_images=rest, resolution=scan.dpi)
    elif scan.file_format == "tif":
        first.save(path, format="TIFF", save_all=True, append_images=rest, dpi=dpi, compression="tiff_lzw")
    else:  # png and jpg hold one page: a longer form is stacked into one tall image, as a phone scan app does
        tall = Image.new("L", (max(p.width for p in pages), sum(p.height for p in pages)), 255)
        y = 0
        for p in pages:
            tall.paste(p, (0, y))
            y += p.height
        if scan.file_format == "png":
            tall.save(path, format="PNG", dpi=dpi)
        else:
            tall.save(path, format="JPEG", quality=scan.jpeg_quality or 90, dpi=dpi)
    return len(pages)
