"""`ovmm eval --realism oracle,realistic`: the same episodes under several realism profiles, side by side.

Each profile runs the whole evaluation (the apartments and their scans are shared through the cache; the
episode keys differ because the profile is part of EvalConfig), and the JSON gains
`profiles: {name: {success, failures, ..., realism: {every parameter}}}`.
"""

from __future__ import annotations

from dataclasses import replace

from orchestrator.configs import EvalConfig
from orchestrator.evaluation import EVAL_PHASES


def profile_configs(config: EvalConfig) -> list[tuple[str, EvalConfig, dict]]:
    """(profile name, the EvalConfig running it, its parameters) per profile in config.realism."""
    from sim.realism import load_realism, parse_profiles

    parse_profiles(config.realism)  # one error line for a bad or repeated profile
    out = []
    for text in (t.strip() for t in config.realism.split(",") if t.strip()):
        prof = load_realism(text)
        params = prof.to_dict()
        params.pop("seed")  # each episode seeds its own noise from its key
        out.append((prof.name, replace(config, realism=text), params))
    return out


def compare_table(profiles: dict[str, dict]) -> str:
    """Per-phase success and the commonest failure reasons, one column per profile."""
    names = list(profiles)
    width = max(12, *(len(n) + 2 for n in names))
    lines = ["realism profiles (ground-truth success per phase)",
             f"{'phase':<18}" + "".join(f"{n:>{width}}" for n in names)]
    for phase in (*EVAL_PHASES, "overall"):
        lines.append(f"{phase:<18}" + "".join(f"{profiles[n]['success'][phase]:>{width}.3f}" for n in names))
    for n in names:
        top = list(profiles[n]["failures"].items())[:3]
        lines.append(f"{n} failures: " + ("; ".join(f"{k} x{v}" for k, v in top) if top else "none"))
    return "\n".join(lines)
