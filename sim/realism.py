"""The realism profile of the simulated Stretch: which oracles are switched off, and how hard each sensor is.

`RealismConfig.oracle()` is the simulator as it always was (exact pose, exact depth, perfect instance masks,
exact joints, no slip, no lidar noise). `RealismConfig.realistic()` switches every model on with the
defaults below; each default comes from a published figure (docs/realism.md names the source of each).
A JSON file sets each part and each rate separately, e.g.

    {"odometry": {"enabled": true, "trans_per_m": 0.02}, "depth": {"enabled": false}}

Parts not named in the file keep their `realistic` defaults; `"base": "oracle"` starts from the oracle
profile instead. Unknown keys, negative values and rates above 1 are rejected with one error naming the key.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from core.errors import InputError


@dataclass(frozen=True)
class OdometryNoise:
    """Wheel-odometry error of a differential-drive base (Thrun et al., Probabilistic Robotics, the odometry
    motion model): each motion's rotations and translation are scaled by zero-mean Gaussian errors whose
    standard deviations grow with the rotation turned and the distance driven, plus a slow random walk."""

    enabled: bool = True
    rot_per_rad: float = 0.02  # heading error (rad) per rad turned (1 sigma): ~7 degrees per 360 degrees turned
    rot_per_m: float = 0.01  # heading error (rad) per metre driven (wheel-diameter mismatch, floor slip)
    trans_per_m: float = 0.02  # distance error (m) per metre driven: 2% (UMBmark-class uncalibrated base)
    trans_per_rad: float = 0.002  # distance error (m) per rad turned (wheel scrub while turning)
    walk_m_per_sqrt_s: float = 0.002  # slow random walk of the reported position, m / sqrt(s)
    walk_rad_per_sqrt_s: float = 0.001  # and of the reported heading, rad / sqrt(s)


@dataclass(frozen=True)
class DepthNoise:
    """Intel RealSense D435(i) depth: stereo RMS error Z^2 * subpixel / (f * baseline), a scale bias,
    invalid pixels at depth discontinuities, beyond the range limits and (dropouts) on dark surfaces;
    Gaussian RGB noise."""

    enabled: bool = True
    baseline_m: float = 0.050  # D435 stereo baseline
    subpixel: float = 0.08  # RealSense depth-quality white paper: 0.05-0.1 subpixel RMS on textured scenes
    focal_px: float = 446.0  # D435 depth focal length at 848 px width (87 degrees horizontal field of view)
    bias_frac: float = 0.02  # out-of-the-box bias, fraction of the depth (about 2% at 1 m), sign drawn per robot
    min_m: float = 0.28  # D435 minimum depth at 848 x 480
    max_m: float = 10.0  # D435 maximum range
    edge_jump_frac: float = 0.05  # a neighbour this much nearer/farther (fraction of depth) marks a discontinuity
    edge_invalid_rate: float = 0.7  # fraction of discontinuity pixels that come back invalid (0)
    dark_luma: float = 40.0  # RGB luminance (0-255) below which a surface counts as dark (no stereo texture)
    dark_dropout_rate: float = 0.3  # fraction of dark pixels with no depth
    rgb_sigma: float = 2.0  # RGB sensor noise, standard deviation in 0-255 units


@dataclass(frozen=True)
class PerceptionNoise:
    """Imperfect perception applied to the simulator's instance-id image before the ground-truth perception
    reads it: missed instances, false positives, mask erosion/dilation/shift and label confusion, at rates
    from published OWL-ViT / OWLv2 household-object results (docs/realism.md)."""

    enabled: bool = True
    miss_rate: float = 0.25  # an instance visible and large enough is missed in a frame
    small_miss_rate: float = 0.6  # ... when smaller than `small_px` pixels (far, small or mostly occluded)
    small_px: int = 400
    false_positive_rate: float = 0.1  # a frame gains a spurious detection (another object's id on a patch)
    confusion_rate: float = 0.05  # a detected instance carries another object's id (a nearby label)
    mask_jitter_px: int = 3  # masks are eroded or dilated by up to this many pixels
    mask_shift_px: int = 3  # and shifted by up to this many pixels
    reference_width: int = 640
    reference_height: int = 480
    """The pixel figures above are in an image of this size (the head camera's 640 x 480): a frame rendered
    smaller or larger (`--scan-camera 320x240` to make evaluations fast) is judged by the same angular sizes,
    so `small_px` scales with the pixel count and the mask jitter and shift with the width. The detector's
    recall belongs to the camera, not to the resolution the simulator renders at for speed."""


@dataclass(frozen=True)
class ArmNoise:
    """Joint offsets and backlash of the lift and telescoping arm; slip of a carried object."""

    enabled: bool = True
    lift_offset_m: float = 0.005  # 1 sigma calibration offset of the lift, drawn once per robot
    arm_offset_m: float = 0.005  # ... and of the telescoping arm
    backlash_m: float = 0.003  # a joint stops this short of a target approached from either side
    slip_rate_per_m: float = 0.01  # chance per metre driven that a carried object slips out ...
    slip_rate_per_kg: float = 0.05  # ... plus this per kg of the object per metre (heavier objects drop sooner)


@dataclass(frozen=True)
class LidarConfig:
    """A planar lidar like the Stretch's Slamtec RPLidar A1 (datasheet figures)."""

    enabled: bool = True
    fov_deg: float = 360.0
    step_deg: float = 1.0
    rate_hz: float = 5.5
    min_m: float = 0.15
    max_m: float = 12.0
    resolution_frac: float = 0.01  # range resolution: under 1% of the distance beyond 1.5 m
    near_resolution_m: float = 0.0005  # and 0.5 mm below 1.5 m (datasheet)
    noise: bool = True  # False: exact ray-cast ranges (the oracle lidar)


_PARTS = {"odometry": OdometryNoise, "depth": DepthNoise, "perception": PerceptionNoise, "arm": ArmNoise,
          "lidar": LidarConfig}
# Values that are probabilities (must lie in [0, 1]).
_RATES = {"edge_invalid_rate", "dark_dropout_rate", "miss_rate", "small_miss_rate", "false_positive_rate",
          "confusion_rate", "bias_frac", "edge_jump_frac", "resolution_frac", "slip_rate_per_m", "slip_rate_per_kg"}


@dataclass(frozen=True)
class RealismConfig:
    """The whole profile. `name` says where it came from (oracle, realistic, or a file)."""

    name: str = "realistic"
    seed: int = 0
    odometry: OdometryNoise = field(default_factory=OdometryNoise)
    depth: DepthNoise = field(default_factory=DepthNoise)
    perception: PerceptionNoise = field(default_factory=PerceptionNoise)
    arm: ArmNoise = field(default_factory=ArmNoise)
    lidar: LidarConfig = field(default_factory=LidarConfig)

    @classmethod
    def oracle(cls) -> RealismConfig:
        """Today's simulator: every noise model off; the lidar returns exact ray-cast ranges."""
        return cls(name="oracle", odometry=OdometryNoise(enabled=False), depth=DepthNoise(enabled=False),
                   perception=PerceptionNoise(enabled=False), arm=ArmNoise(enabled=False),
                   lidar=LidarConfig(noise=False))

    @classmethod
    def realistic(cls) -> RealismConfig:
        return cls(name="realistic")

    @property
    def is_oracle(self) -> bool:
        return not (self.odometry.enabled or self.depth.enabled or self.perception.enabled or self.arm.enabled
                    or self.lidar.noise)

    def with_seed(self, seed: int) -> RealismConfig:
        return replace(self, seed=int(seed))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, name: str = "file") -> RealismConfig:
        """A profile from a JSON object; raises InputError naming the first bad key."""
        if not isinstance(data, dict):
            raise InputError("realism file: the top level must be a JSON object")
        base_name = data.get("base", "realistic")
        if base_name not in ("oracle", "realistic"):
            raise InputError(f"realism file: 'base' must be 'oracle' or 'realistic', got {base_name!r}")
        base = cls.oracle() if base_name == "oracle" else cls.realistic()
        changes: dict = {"name": str(data.get("name", name))}
        for key, value in data.items():
            if key in ("base", "name"):
                continue
            if key == "seed":
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise InputError(f"realism file: 'seed' must be a non-negative integer, got {value!r}")
                changes["seed"] = value
                continue
            if key not in _PARTS:
                raise InputError(f"realism file: unknown key {key!r}; use {', '.join(['base', 'seed', *_PARTS])}")
            changes[key] = _part(key, getattr(base, key), value)
        return replace(base, **changes)


def _part(part: str, default, value):
    if not isinstance(value, dict):
        raise InputError(f"realism file: {part!r} must be a JSON object, got {value!r}")
    known = {f.name: f for f in fields(default)}
    out = {}
    for key, v in value.items():
        where = f"{part}.{key}"
        if key not in known:
            raise InputError(f"realism file: unknown key {where!r}; {part} has {', '.join(known)}")
        want = type(getattr(default, key))
        if want is bool:
            if not isinstance(v, bool):
                raise InputError(f"realism file: {where!r} must be true or false, got {v!r}")
        elif isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise InputError(f"realism file: {where!r} must be a number, got {v!r}")
        elif v < 0:
            raise InputError(f"realism file: {where!r} must not be negative, got {v!r}")
        elif key in _RATES and v > 1:
            raise InputError(f"realism file: {where!r} is a rate and must not exceed 1, got {v!r}")
        elif want is int:
            if int(v) != v:
                raise InputError(f"realism file: {where!r} must be a whole number, got {v!r}")
            v = int(v)
        else:
            v = float(v)
        out[key] = v
    return replace(default, **out)


def load_realism(text: str) -> RealismConfig:
    """`oracle`, `realistic` or the path of a JSON file -> a profile (InputError with one line if bad)."""
    if text == "oracle":
        return RealismConfig.oracle()
    if text == "realistic":
        return RealismConfig.realistic()
    path = Path(text)
    if not path.is_file():
        raise InputError(f"--realism: expected 'oracle', 'realistic' or a JSON file, got {text!r} (no such file)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"realism file {path}: not valid JSON ({e})") from None
    try:
        return RealismConfig.from_dict(data, name=path.stem)
    except InputError as e:
        raise InputError(f"{e} ({path})") from None


def parse_profiles(text: str) -> list[RealismConfig]:
    """A comma-separated list of profiles (`oracle,realistic`) for `ovmm eval --realism`."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise InputError("--realism: expected at least one profile (oracle, realistic or FILE.json)")
    profiles = [load_realism(n) for n in names]
    seen = [p.name for p in profiles]
    if len(set(seen)) != len(seen):
        raise InputError(f"--realism: the profiles' names repeat ({', '.join(seen)})")
    return profiles
