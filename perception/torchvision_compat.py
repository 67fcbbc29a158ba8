"""Import `segment_anything` whether or not torchvision is installed.

segment-anything imports four torchvision functions at module import time:
`torchvision.transforms.functional.resize` / `to_pil_image` (utils/transforms.py, used by SamPredictor) and
`torchvision.ops.boxes.batched_nms` / `box_area` (automatic_mask_generator.py). PyPI's torchvision is a CUDA
build that cannot be installed next to the CPU torch used here, so when `import torchvision` fails this module
provides exactly those four functions (same semantics for the inputs segment-anything passes) in a minimal
shim, installs it into `sys.modules` only for the duration of the `segment_anything` import, and removes it
again so nothing else (e.g. transformers' torchvision detection) ever sees it. An installed torchvision is
always used as is and never shadowed.
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from PIL import Image

log = logging.getLogger(__name__)

_SHIM_NAMES = (
    "torchvision",
    "torchvision.transforms",
    "torchvision.transforms.functional",
    "torchvision.ops",
    "torchvision.ops.boxes",
)
SHIM_MARKER = "__ovmm_torchvision_shim__"


def to_pil_image(pic: np.ndarray | torch.Tensor, mode: str | None = None) -> Image.Image:
    """HxWxC uint8 array (or CxHxW tensor) -> PIL image, as torchvision does for these inputs."""
    if isinstance(pic, torch.Tensor):
        arr = pic.detach().cpu()
        if arr.ndim == 3:
            arr = arr.permute(1, 2, 0)
        if arr.is_floating_point():
            arr = (arr * 255).clamp(0, 255).byte()
        pic = arr.numpy()
    arr = np.asarray(pic)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.dtype != np.uint8:
        raise TypeError(f"to_pil_image (torchvision shim) expects uint8 arrays, got {arr.dtype}")
    return Image.fromarray(arr, mode=mode) if mode else Image.fromarray(arr)


def resize(img: Image.Image, size: list[int] | tuple[int, int], interpolation=None, max_size=None, antialias=True):
    """Resize a PIL image to (h, w) with bilinear filtering (torchvision's default for PIL inputs)."""
    if not isinstance(img, Image.Image):
        raise TypeError("resize (torchvision shim) supports PIL images only, which is what segment-anything passes")
    if isinstance(size, int) or len(size) != 2:
        raise ValueError("resize (torchvision shim) needs an explicit (height, width)")
    h, w = int(size[0]), int(size[1])
    return img.resize((w, h), Image.BILINEAR)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Area of (N, 4) xyxy boxes."""
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of (N, 4) and (M, 4) xyxy boxes -> (N, M)."""
    lt = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    union = box_area(boxes1)[:, None] + box_area(boxes2)[None, :] - inter
    return inter / union.clamp(min=1e-12)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression; indices of kept boxes by decreasing score."""
    order = torch.argsort(scores, descending=True)
    if order.numel() == 0:
        return order
    iou = box_iou(boxes[order], boxes[order])
    keep: list[int] = []
    suppressed = torch.zeros(order.numel(), dtype=torch.bool)
    for i in range(order.numel()):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return order[torch.tensor(keep, dtype=torch.long)]


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """NMS applied independently per category `idxs` (torchvision's offset trick)."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.long, device=boxes.device)
    offsets = idxs.to(boxes) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def _build_shim() -> dict[str, types.ModuleType]:
    mods = {name: types.ModuleType(name) for name in _SHIM_NAMES}
    for m in mods.values():
        setattr(m, SHIM_MARKER, True)
    mods["torchvision.transforms.functional"].resize = resize
    mods["torchvision.transforms.functional"].to_pil_image = to_pil_image
    mods["torchvision.ops.boxes"].batched_nms = batched_nms
    mods["torchvision.ops.boxes"].box_area = box_area
    mods["torchvision.ops"].batched_nms = batched_nms
    mods["torchvision.ops"].box_area = box_area
    mods["torchvision.ops"].nms = nms
    mods["torchvision.ops"].boxes = mods["torchvision.ops.boxes"]
    mods["torchvision.transforms"].functional = mods["torchvision.transforms.functional"]
    mods["torchvision"].transforms = mods["torchvision.transforms"]
    mods["torchvision"].ops = mods["torchvision.ops"]
    return mods


def torchvision_available() -> bool:
    """True when a real torchvision imports (never counts the shim)."""
    try:
        mod = importlib.import_module("torchvision")
    except Exception:  # noqa: BLE001 - a broken CUDA torchvision raises more than ImportError
        return False
    return not getattr(mod, SHIM_MARKER, False)


@contextmanager
def torchvision_shim() -> Iterator[bool]:
    """Install the shim into sys.modules for the duration of the block if (and only if) torchvision is absent.

    Yields whether the shim was installed.
    """
    if torchvision_available():
        yield False
        return
    for name in _SHIM_NAMES:  # a failed import can leave half-imported entries behind
        sys.modules.pop(name, None)
    shim = _build_shim()
    log.info("torchvision is not importable; using ovmm's minimal torchvision shim for segment_anything")
    sys.modules.update(shim)
    try:
        yield True
    finally:
        for name, mod in shim.items():
            if sys.modules.get(name) is mod:
                del sys.modules[name]


_SHIM_USED: bool | None = None


def import_segment_anything() -> types.ModuleType:
    """Import and return the `segment_anything` package (see the module docstring)."""
    global _SHIM_USED
    if "segment_anything" in sys.modules and _SHIM_USED is not None:
        return sys.modules["segment_anything"]
    with torchvision_shim() as used:
        import segment_anything
    _SHIM_USED = used
    return segment_anything


def shim_was_used() -> bool | None:
    """Whether segment_anything was imported through the shim (None: not imported by this module yet)."""
    return _SHIM_USED
