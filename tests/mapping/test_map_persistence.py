"""Map files: save -> load -> query round trip, format validation, truncated and hand-edited files refused."""

from __future__ import annotations

import hashlib
import json
import logging
import tracemalloc
import zipfile

import numpy as np
import pytest
from map_synthetic_scene import default_boxes, observations_from_ids, random_features, render, scan_poses

from core.types import CameraIntrinsics
from mapping.persistence import FORMAT_NAME, MapFileError, map_arrays, read_header, save_map
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
    loaded = VoxelMap.load(path)
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
    again = VoxelMap.load(save_map(loaded, path.with_name("again.npz")))
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
    assert h["format"] == FORMAT_NAME and h["version"] == 2 and h["feature_dim"] == 24
    with zipfile.ZipFile(path) as z:
        assert sorted(n[:-4] for n in z.namelist()) == sorted(["header", "header_sha256",
                                                                *map_arrays(VoxelMap()).keys()])


def test_truncated_file_is_refused(saved, tmp_path):
    _, _, path = saved
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 100, 10):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(MapFileError, match=str(bad.name)) as exc:
            VoxelMap.load(bad)
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
        "dim": (header_edit(feature_dim=12), "header does not match its checksum"),
        "voxel": (header_edit(voxel_size_m=0.10), "header does not match its checksum"),
        "feature": (flip_feature, "checksum"),
        "dtype": (lambda a: a.update(sem_weights=a["sem_weights"].astype(np.float64)), "sem_weights"),
        "missing": (lambda a: a.pop("occ_rgb"), "occ_rgb"),
        "header": (lambda a: a.update(header=np.frombuffer(b"{not json", np.uint8)), "header"),
    }
    for name, (edit, message) in cases.items():
        bad = tmp_path / f"{name}.npz"
        _rewrite(path, bad, edit)
        with pytest.raises(MapFileError, match=message):
            VoxelMap.load(bad)
    with pytest.raises(MapFileError, match="does not exist"):
        VoxelMap.load(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(MapFileError, match="text.npz"):
        VoxelMap.load(tmp_path / "text.npz")


def test_empty_map_round_trips(tmp_path):
    path = save_map(VoxelMap(), tmp_path / "empty")
    assert path.suffix == ".npz"
    loaded = VoxelMap.load(path)
    assert len(loaded) == 0 and len(loaded.occupancy) == 0 and loaded.feature_dim is None


def _resigned_header_edit(**changes):
    """A header edit with a recomputed checksum: what the field checks alone must refuse."""
    def edit(arrays):
        h = json.loads(arrays["header"].tobytes())
        h.update(changes)
        raw = json.dumps(h).encode()
        arrays["header"] = np.frombuffer(raw, np.uint8)
        arrays["header_sha256"] = np.frombuffer(hashlib.sha256(raw).digest(), np.uint8)
    return edit


@pytest.mark.parametrize(("changes", "message"), [
    ({"voxel_size_m": 1e-300}, "voxel_size_m"),
    ({"voxel_size_m": "0.1"}, "voxel_size_m"),
    ({"counts": [1, 2]}, "counts"),
    ({"counts": {"semantic": 1 << 40, "occupancy": 3}}, "counts"),
    ({"crc32": None}, "crc32"),
    ({"frames": "abc"}, "frames"),
    ({"map_config": "x"}, "map_config"),
    ({"map_config": {"max_depth_m": -5.0}}, "map_config.max_depth_m"),
    ({"feature_dim": 1.5}, "feature_dim"),
    ({"perception": [1]}, "perception"),
    ({"version": True}, "version"),
])
def test_every_header_field_is_type_and_range_checked(saved, tmp_path, changes, message):
    _, _, path = saved
    bad = tmp_path / "bad.npz"
    _rewrite(path, bad, _resigned_header_edit(**changes))
    with pytest.raises(MapFileError, match=message) as info:
        VoxelMap.load(bad)
    assert "\n" not in str(info.value) and "bad.npz" in str(info.value)


def test_infinite_voxel_size_cannot_even_be_written_into_a_header(saved, tmp_path):
    _, _, path = saved
    bad = tmp_path / "inf.npz"
    _rewrite(path, bad, _resigned_header_edit(voxel_size_m=float("inf")))  # json writes Infinity
    with pytest.raises(MapFileError, match="unreadable header|voxel_size_m"):
        VoxelMap.load(bad)


def test_npy_renamed_npz_and_huge_header_are_refused(saved, tmp_path):
    _, _, path = saved
    npy = tmp_path / "array.npz"
    np.save(tmp_path / "array.npy", np.zeros(10))
    (tmp_path / "array.npy").rename(npy)
    with pytest.raises(MapFileError, match="not a readable ovmm map"):
        VoxelMap.load(npy)
    bad = tmp_path / "claims.npz"
    _rewrite(path, bad, _resigned_header_edit(counts={"semantic": 1 << 40, "occupancy": 1 << 40}))
    with pytest.raises(MapFileError, match="counts"):
        VoxelMap.load(bad)


def test_deflate_bomb_is_refused_without_decompressing_it(saved, tmp_path):
    _, _, path = saved
    deflated = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "sem_features.npy":
                dst.writestr(info.filename, src.read(info))
                continue
            member = zipfile.ZipInfo("sem_features.npy")
            member.compress_type = zipfile.ZIP_DEFLATED
            zeros = bytes(1 << 20)
            with dst.open(member, "w", force_zip64=True) as fh:
                for _ in range(200):  # 200 MiB of zeros, ~200 KiB compressed
                    fh.write(zeros)
    assert deflated.stat().st_size < 5 << 20
    tracemalloc.start()
    try:
        with pytest.raises(MapFileError, match="sem_features.*declares"):
            VoxelMap.load(deflated)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 << 20, f"{peak / 1e6:.0f} MB allocated while refusing the bomb"


def test_member_that_decompresses_past_its_header_bound_is_refused(saved, tmp_path):
    from mapping.map_file_checks import read_member

    _, _, path = saved
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("occ_rgb.npy")
        with pytest.raises(MapFileError, match="declares"):
            read_member(z, "occ_rgb", info.file_size - 1, path)


def test_version_1_maps_load_with_a_warning_when_their_arrays_verify(saved, tmp_path, caplog):
    _, _, path = saved

    def to_v1(arrays):
        h = json.loads(arrays["header"].tobytes())
        h["version"] = 1
        arrays["header"] = np.frombuffer(json.dumps(h).encode(), np.uint8)
        del arrays["header_sha256"]

    old = tmp_path / "old.npz"
    _rewrite(path, old, to_v1)
    with caplog.at_level(logging.WARNING, logger="mapping.persistence"):
        vmap = VoxelMap.load(old)
    assert len(vmap) == len(VoxelMap.load(path)) and "older ovmm" in caplog.text

    def flipped(arrays):
        to_v1(arrays)
        arrays["occ_counts"] = arrays["occ_counts"] + 1

    bad = tmp_path / "old_edited.npz"
    _rewrite(path, bad, flipped)
    with pytest.raises(MapFileError, match="checksum"):
        VoxelMap.load(bad)
