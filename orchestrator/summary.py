"""Plain-text tables of run reports for the terminal (used by `ovmm run`, `ovmm demo` and `ovmm eval`)."""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.task_machine import PHASES, TaskReport

_SHORT = {"find_object": "find obj", "navigate_to_object": "nav obj", "pick": "pick",
          "find_receptacle": "find rec", "navigate_to_receptacle": "nav rec", "place": "place"}


def _cell(report: TaskReport, phase: str) -> str:
    p = report.phase(phase)
    if p is None:
        return "-"
    return "ok" if p.success else "FAIL"


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in out)  # the last column is not padded


def _fit(reason: str, used: int = 48) -> str:
    """A reason shortened to the terminal's width (the full text is in the log and the JSON report)."""
    import shutil

    room = max(40, shutil.get_terminal_size((120, 24)).columns - used)
    return reason if len(reason) <= room else reason[: room - 3].rstrip() + "..."


def phase_table(report: TaskReport) -> str:
    rows = [(p.name, "ok" if p.success else "FAILED", f"{p.seconds:.1f}", _fit(p.reason)) for p in report.phases]
    return table(rows, ("phase", "result", "seconds", "reason"))


def summary_table(reports: Sequence[TaskReport]) -> str:
    rows = []
    for i, r in enumerate(reports, 1):
        f = r.failure
        rows.append((str(i), r.request, *(_cell(r, ph) for ph in PHASES), "yes" if r.success else "no",
                     f"{r.seconds:.0f}", "" if f is None else f"{f.name}: {f.reason}"[:90]))
    return table(rows, ("#", "request", *(_SHORT[p] for p in PHASES), "success", "s", "failure"))
