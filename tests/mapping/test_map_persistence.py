"""Map files: save -> load -> query round trip, format validation, truncated and hand-edited files refused."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from map_synthetic_scene import default_boxes, observations_from_ids, random_features, render, scan_poses

from core.types import CameraIntrinsics
from mapping.persistence import FORMAT_NAME, MapFileError, load_map, map_arrays, read_header, save_map
from mapping.voxel_map import MapMetadata, VoxelMap, VoxelMapConfig

INTR = CameraIntrinsics.from_fov(160, 120, 1.0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    boxes = default_boxes()
    feats = random_features([b.instance_id for b in boxes], dim=24)
    meta = MapMetadata(embedding_model_id="sentence:test-model", perception={"pipeline": "ground-truth"})
    vmap = VoxelMap(VoxelMapConfig(voxel_size_m=0.04), meta)
    for T in scan_poses():
        f = render(boxes, T, INTR)
        vmap.add_frame(f, observations_from_ids(f, feats))
    path = save_map(vmap, tmp_path_factory.mktemp("maps") / "box_world.npz")
    return vmap, feats, path


def test_round_trip_keeps_everything(saved):
    vmap, feats, path = saved
    loaded = load_map(path)
    assert loaded.voxel_size == pytest.approx(0.04) and loaded.config == vmap.config
    assert loaded.metadata.embedding_model_id == "sentence:test-model"
    assert loaded.metadata.perception == {"pipeline": "ground-truth"}
    assert loaded.metadata.frames == vmap.metadata.frames
    a, b = map_arrays(vmap), map_arrays(loaded)
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert loaded.semantic.features.dtype == np.float32
    for f in feats.values():
        h1, h2 = vmap.query(f), loaded.query(f)
        assert len(h1) == len(h2)
        for x, y in zip(h1, h2, strict=True):
            assert np.allclose(x.center, y.center) and np.allclose(x.extent, y.extent)
            assert abs(x.score - y.score) < 2e-3  # float16 features on disk
    # A loaded map saved again and loaded once more answers identically.
    again = load_map(save_map(loaded, path.with_name("again.npz")))
    for f in feats.values():
        h2, h3 = loaded.query(f), again.query(f)
        assert [h.score for h in h2] == [h.score for h in h3]
        assert all(np.array_equal(x.center, y.center) for x, y in zip(h2, h3, strict=True))
    # Fusion continues on a loaded map.
    n = len(again)
    again.add_frame(render(default_boxes(), scan_poses()[0], INTR), [])
    assert len(again) == n and again.metadata.frames == vmap.metadata.frames + 1


def test_header_is_documented_json(saved):
    _, _, path = saved
    h = read_header(path)
    assert h["format"] == FORMAT_NAME and h["version"] == 1 and h["feature_dim"] == 24
    with zipfile.ZipFile(path) as z:
        assert sorted(n[:-4] for n in z.namelist()) == sorted(["header", *map_arrays(VoxelMap()).keys()])


def test_truncated_file_is_refused(saved, tmp_path):
    _, _, path = saved
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 100, 10):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(MapFileError, match=str(bad.name)) as exc:
            load_map(bad)
        assert "\n" not in str(exc.value)


def _rewrite(src, dst, edit):
    with np.load(src) as npz:
        arrays = {k: npz[k] for k in npz.files}
    edit(arrays)
    with open(dst, "wb") as fh:
        np.savez(fh, **arrays)


def test_hand_edited_files_are_refused(saved, tmp_path):
    _, _, path = saved

    def header_edit(**changes):
        def edit(arrays):
            h = json.loads(arrays["header"].tobytes())
            h.update(changes)
            arrays["header"] = np.frombuffer(json.dumps(h).encode(), np.uint8)
        return edit

    def flip_feature(arrays):
        arrays["sem_features"] = arrays["sem_features"].copy()
        arrays["sem_features"][0, 0] += 1

    cases = {
        "version": (header_edit(version=99), "version 99"),
        "format": (header_edit(format="other"), "not an ovmm-voxel-map"),
        "dim": (header_edit(feature_dim=12), "sem_features"),
        "feature": (flip_feature, "checksum"),
        "dtype": (lambda a: a.update(sem_weights=a["sem_weights"].astype(np.float64)), "sem_weights"),
        "missing": (lambda a: a.pop("occ_rgb"), "occ_rgb"),
        "header": (lambda a: a.update(header=np.frombuffer(b"{not json", np.uint8)), "header"),
    }
    for name, (edit, message) in cases.items():
        bad = tmp_path / f"{name}.npz"
        _rewrite(path, bad, edit)
        with pytest.raises(MapFileError, match=message):
            load_map(bad)
    with pytest.raises(MapFileError, match="does not exist"):
        load_map(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(MapFileError, match="text.npz"):
        load_map(tmp_path / "text.npz")


def test_empty_map_round_trips(tmp_path):
    path = save_map(VoxelMap(), tmp_path / "empty")
    assert path.suffix == ".npz"
    loaded = load_map(path)
    assert len(loaded) == 0 and len(loaded.occupancy) == 0 and loaded.feature_dim is None
