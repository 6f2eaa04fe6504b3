"""What a run tells the people who run it: the summary (printed, and in Prefect as artifacts) and a progress
bar for long runs in a terminal. One summary, rendered two ways (text and markdown) from the same parts."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common.text import markdown_escaped, printable

FILE_STATUSES = ("loaded", "unchanged", "quarantined")


@dataclass
class RunSummary:
    run_id: str
    raw_dir: str
    warehouse_dir: str
    fiscal_year: int | None
    files: Counter = field(default_factory=Counter)
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    rows: dict[str, int] = field(default_factory=dict)
    findings: Counter = field(default_factory=Counter)
    check_failures: int = 0
    fiscal_year_projects: int | None = None  # projects of the re-run fiscal year (None: a full run)
    report: str | None = None  # the run's report for people (report/index.html), an absolute path

    @property
    def year_note(self) -> str | None:
        """What a re-run of one fiscal year with nothing in it must say (it rebuilds no partition)."""
        if self.fiscal_year is not None and not self.fiscal_year_projects:
            return f"no documents for fiscal year {self.fiscal_year}: nothing to rebuild, other years unchanged"
        return None

    @property
    def reviews(self) -> int:
        return self.rows.get("entity_review", 0)

    def file_table(self) -> list[dict[str, object]]:
        return [{"status": k, "files": self.files.get(k, 0)} for k in FILE_STATUSES]

    def headline(self) -> str:
        year = f", fiscal year {self.fiscal_year} only" if self.fiscal_year else ""
        return (f"schoolnet run {self.run_id}: {sum(self.files.values())} file(s) in {printable(self.raw_dir)} -> "
                f"{printable(self.warehouse_dir)}{year}")

    def as_text(self) -> str:
        lines = [self.headline(), "  files: " + ", ".join(f"{r['status']} {r['files']}" for r in self.file_table())]
        lines += [f"  quarantined {printable(name)}: {printable(reason)}" for name, reason in self.quarantined]
        lines += [f"  {self.year_note}"] if self.year_note else []
        lines.append("  rows: " + ", ".join(f"{t} {n}" for t, n in sorted(self.rows.items())))
        if self.findings:
            lines.append("  data-quality findings: " + ", ".join(f"{k} {v}" for k, v in sorted(self.findings.items())))
        lines.append(f"  borderline identity pairs to review (entity_review): {self.reviews}")
        if self.check_failures:
            lines.append(f"  SQL checks found {self.check_failures} error(s): see dq_issue")
        if self.report:
            lines.append(f"  report: {self.report}")
        return "\n".join(lines)

    def as_markdown(self) -> str:
        """The summary as the Prefect markdown artifact shows it."""
        lines = [f"# {markdown_escaped(self.headline())}", "", "| files | count |", "|---|---|"]
        lines += [f"| {r['status']} | {r['files']} |" for r in self.file_table()]
        if self.quarantined:
            lines += ["", "## Quarantined", ""] + [f"- {markdown_escaped(name)}: {markdown_escaped(reason)}"
                                                  for name, reason in self.quarantined]
        lines += ["", f"**{self.year_note}**"] if self.year_note else []
        lines += ["", "## Rows per table", "", "| table | rows |", "|---|---|"]
        lines += [f"| {t} | {n} |" for t, n in sorted(self.rows.items())]
        lines += ["", "## Data-quality findings", ""]
        lines += [f"- {k}: {v}" for k, v in sorted(self.findings.items())] or ["- none"]
        lines += ["", f"Borderline identity pairs to review (entity_review): {self.reviews}"]
        if self.check_failures:
            lines += ["", f"**SQL checks found {self.check_failures} error(s)**: see dq_issue"]
        if self.report:
            lines += ["", f"Report: [{markdown_escaped(self.report)}]({Path(self.report).as_uri()})"]
        return "\n".join(lines)


def progress_bar(done: int, total: int) -> None:
    """A progress bar on stderr for long runs in a terminal."""
    if total < 500 or not sys.stderr.isatty():
        return
    width = 40
    filled = width * done // total
    sys.stderr.write(f"\rparsing [{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


@dataclass
class PullSummary:
    """What a pull did, per source and status; `failures` are the lines a person must read."""

    run_id: str
    raw_dir: str
    counts: dict[str, Counter] = field(default_factory=dict)  # source -> status -> files
    failures: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def lines(self) -> list[str]:
        out = [f"{source}: " + ", ".join(f"{s} {c.get(s, 0)}" for s in
                                         ("fetched", "unchanged", "failed", "refused", "gone_at_source"))
               for source, c in sorted(self.counts.items())]
        return out + [f"FAILED {printable(line)}" for line in self.failures]

    def as_text(self) -> str:
        head = f"schoolnet pull {self.run_id} into {printable(self.raw_dir)}" + (
            "" if self.counts else ": no source configured")
        return "\n".join([head, *(f"  {line}" for line in self.lines())])

    def as_markdown(self) -> str:
        return "\n".join([f"# schoolnet pull {markdown_escaped(self.run_id)}", "",
                          f"Into {markdown_escaped(self.raw_dir)}", "",
                          *(f"- {markdown_escaped(line)}" for line in self.lines())])


class RunFailedError(RuntimeError):
    """What a failed flow's state holds (Prefect raises it from state.result(); a failed state's data must be
    an exception): the message, and the summary of what the run did all the same."""

    def __init__(self, message: str, summary: RunSummary | PullSummary | None = None):
        super().__init__(message, summary)
        self.message, self.summary = message, summary

    def __str__(self) -> str:
        return self.message
