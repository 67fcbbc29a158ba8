"""The torchvision shim: used only when torchvision is absent, never shadowing an installed one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import torch

from perception.torchvision_compat import batched_nms, box_area, box_iou, resize, to_pil_image

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent("""
    import json, sys
    import perception.torchvision_compat as tc
    sa = tc.import_segment_anything()
    import segment_anything.utils.transforms as t
    import segment_anything.automatic_mask_generator as amg
    print(json.dumps({
        "shim_used": tc.shim_was_used(),
        "resize_module": t.resize.__module__,
        "nms_module": amg.batched_nms.__module__,
        "torchvision_in_sys_modules": "torchvision" in sys.modules,
        "predictor": hasattr(sa, "SamPredictor"),
    }))
""")


def _probe(extra_path: Path | None = None) -> dict:
    env_path = [str(REPO)] + ([str(extra_path)] if extra_path else [])
    code = f"import sys; sys.path[:0] = {env_path!r}\n" + PROBE
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _torchvision_importable() -> bool:
    out = subprocess.run([sys.executable, "-c", "import torchvision"], capture_output=True, timeout=60)
    return out.returncode == 0


def test_shim_branch_when_torchvision_absent():
    if _torchvision_importable():  # pragma: no cover - depends on the machine
        import pytest

        pytest.skip("a real torchvision is installed here; the shim branch cannot be exercised")
    r = _probe()
    assert r["shim_used"] is True and r["predictor"]
    assert r["resize_module"] == "perception.torchvision_compat"
    assert r["nms_module"] == "perception.torchvision_compat"
    assert r["torchvision_in_sys_modules"] is False  # removed again after the import


def test_real_torchvision_is_used_when_present(tmp_path):
    fake = tmp_path / "site" / "torchvision"
    (fake / "transforms").mkdir(parents=True)
    (fake / "ops").mkdir()
    (fake / "__init__.py").write_text("from . import transforms, ops\n")
    (fake / "transforms" / "__init__.py").write_text("from . import functional\n")
    (fake / "transforms" / "functional.py").write_text(
        "def resize(img, size):\n    return img.resize((size[1], size[0]))\n"
        "def to_pil_image(a):\n    from PIL import Image\n    return Image.fromarray(a)\n"
    )
    (fake / "ops" / "__init__.py").write_text("from .boxes import batched_nms, box_area\n")
    (fake / "ops" / "boxes.py").write_text("def batched_nms(*a):\n    pass\ndef box_area(b):\n    pass\n")
    r = _probe(tmp_path / "site")
    assert r["shim_used"] is False
    assert r["resize_module"] == "torchvision.transforms.functional"
    assert r["nms_module"] == "torchvision.ops.boxes"
    assert r["torchvision_in_sys_modules"] is True


def test_shim_functions_match_torchvision_semantics():
    img = (np.arange(6 * 8 * 3) % 251).astype(np.uint8).reshape(6, 8, 3)
    pil = to_pil_image(img)
    assert pil.size == (8, 6) and np.array_equal(np.array(pil), img)
    assert np.array(resize(pil, (12, 16))).shape == (12, 16, 3)
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.0]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    cats = torch.tensor([0, 0, 0, 1])
    np.testing.assert_allclose(box_area(boxes).numpy(), [100, 100, 100, 100])
    assert abs(float(box_iou(boxes[:1], boxes[1:2])) - 81 / 119) < 1e-6
    keep = batched_nms(boxes, scores, cats, 0.5).tolist()
    assert keep == [3, 0, 2]  # box 1 overlaps box 0 (same category); box 3 is another category
    assert batched_nms(boxes[:0], scores[:0], cats[:0], 0.5).numel() == 0
