"""What `ovmm eval` shows a person: the per-phase table, the failure reasons fitted to the terminal, and a
picture of the failure reasons by phase (`--plot eval.png`). All of it is drawn from the evaluation JSON
(orchestrator.evaluation.aggregate_records), so a results file can be re-drawn without re-running."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

from orchestrator.evaluation import EVAL_PHASES

PHASE_TITLES = {"find_object": "find object", "pick": "pick", "find_receptacle": "find receptacle",
                "place": "place"}
_MAX_REASON_LINES = 2


def terminal_width(stream=None, default: int = 100) -> int:
    """Columns of the terminal `stream` (stderr by default) is on; COLUMNS or `default` when not a terminal."""
    stream = stream or sys.stderr
    try:
        return max(40, os.get_terminal_size(stream.fileno()).columns)
    except (OSError, ValueError, AttributeError):
        try:
            return max(40, int(os.environ.get("COLUMNS", default)))
        except ValueError:
            return default


def phase_table(out: dict) -> str:
    """One row per phase: episodes that got through it (cumulative), the rate, and how many failed there."""
    n = out["episodes"]
    by_phase = out.get("failures_by_phase", {})
    rows = []
    for p in EVAL_PHASES:
        ok = round(out["success"][p] * n)
        rows.append((PHASE_TITLES[p], f"{ok}/{n}", f"{out['success'][p]:.2f}", str(sum(by_phase.get(p, {}).values()))))
    header = ("phase", "succeeded", "rate", "failed here")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
              for r in rows]
    lines.append(f"overall: {round(out['success']['overall'] * n)}/{n} episodes ({out['success']['overall']:.2f})")
    return "\n".join(lines)


def failure_lines(out: dict, width: int) -> str:
    """Failure reasons grouped by the phase that failed, each wrapped to `width` columns (at most two
    lines, then shortened with an ellipsis)."""
    by_phase = out.get("failures_by_phase", {})
    lines = []
    for p in EVAL_PHASES:
        reasons = by_phase.get(p, {})
        if not reasons:
            continue
        lines.append(f"failed at {PHASE_TITLES[p]} ({sum(reasons.values())}):")
        for reason, count in reasons.items():
            prefix = f"  {count:>3}  "
            body = textwrap.wrap(reason, width=max(20, width - len(prefix)), max_lines=_MAX_REASON_LINES,
                                 placeholder=" …")
            lines.append(prefix + body[0])
            lines += [" " * len(prefix) + b for b in body[1:]]
    return "\n".join(lines) if lines else "no failures"


def left_out_line(out: dict) -> str:
    """What the episode generator left out as impossible for any Stretch (sim.scene.episodes), or ''."""
    left = out.get("episodes_left_out")
    if not left:
        return ""
    why = "; ".join(f"{n} {reason}" for reason, n in left["object_reasons"].items())
    return (f"left out as no Stretch could pick them: {left['objects_left_out']} of {left['objects']} objects "
            f"({100 * left['objects_left_out_share']:.1f}%) in {left['scenes']} apartments" + (f" ({why})" if why else ""))


def text_report(out: dict, width: int | None = None) -> str:
    left = left_out_line(out)
    return phase_table(out) + ("\n" + left if left else "") + "\n\n" + failure_lines(out, width or terminal_width())


def save_plot(out: dict, path: str | os.PathLike, title: str | None = None) -> Path:
    """A PNG: cumulative success per phase (left) and the failure reasons, coloured by the phase that failed
    (right). Written atomically; the folder must exist."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from core.io import atomic_path

    path = Path(path)
    colours = dict(zip(EVAL_PHASES, ("#4c72b0", "#dd8452", "#55a868", "#c44e52"), strict=True))
    reasons = [(p, r, c) for p in EVAL_PHASES for r, c in out.get("failures_by_phase", {}).get(p, {}).items()]
    label_w = 60
    fig_h = max(3.2, 1.2 + 0.42 * max(len(reasons), 4))
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(13, fig_h), width_ratios=(1, 2.4))
    names = [PHASE_TITLES[p] for p in EVAL_PHASES]
    rates = [out["success"][p] for p in EVAL_PHASES]
    ax0.bar(names, rates, color=[colours[p] for p in EVAL_PHASES])
    for i, v in enumerate(rates):
        ax0.text(i, v + 0.02, f"{v:.2f}", ha="center", fontsize=9)
    ax0.set_ylim(0, 1.1)
    ax0.set_ylabel("episodes through this phase (cumulative)")
    ax0.tick_params(axis="x", labelrotation=20)
    ax0.set_title(f"success over {out['episodes']} episodes")
    if reasons:
        ys = list(range(len(reasons)))[::-1]
        counts = [c for _, _, c in reasons]
        ax1.barh(ys, counts, height=0.6, color=[colours[p] for p, _, _ in reasons])
        ax1.set_yticks(ys, [textwrap.shorten(r, label_w, placeholder=" …") for _, r, _ in reasons], fontsize=8)
        ax1.set_ylim(-0.8, len(reasons) - 0.2)
        ax1.set_xlim(0, max(counts) * 1.45)  # room for the legend on the right
        ax1.set_xlabel("episodes")
        ax1.xaxis.get_major_locator().set_params(integer=True)
        shown = [p for p in EVAL_PHASES if any(q == p for q, _, _ in reasons)]
        handles = [plt.Rectangle((0, 0), 1, 1, color=colours[p]) for p in shown]
        ax1.legend(handles, [f"failed at {PHASE_TITLES[p]}" for p in shown], loc="lower right", fontsize=8)
    else:
        ax1.text(0.5, 0.5, "no failures", ha="center", va="center", transform=ax1.transAxes)
        ax1.set_axis_off()
    ax1.set_title("failure reasons")
    fig.suptitle(title or "ovmm eval")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path
