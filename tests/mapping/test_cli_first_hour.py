"""What a new user runs into first: one clear line for each mistake, several queries on one encoder load."""

from __future__ import annotations

import io

import pytest
from fixtures_sim_map import minilm_encoder
from map_synthetic_scene import DESCRIPTIONS, default_boxes, observations_from_ids, render, scan_poses

from core.types import CameraIntrinsics
from mapping.map_encoder import perception_record
from mapping.voxel_map import MapMetadata, VoxelMap
from orchestrator.cli import main
from perception.config import PerceptionConfig
from perception.vocabulary import ensemble_features, instance_text


@pytest.mark.parametrize("argv", [["demo", "--seed", "-1"], ["sim", "generate", "--seed", "-1", "--out", "s.json"],
                                  ["eval", "--seed", "-2"]])
def test_negative_seeds_are_refused_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "a seed is a whole number" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["run", "--map", "m.npz", "--map-registration", "1,2,north", "put the mug on the table"],
                                  ["robot-server", "--backend", "sim", "--map-registration", "nan,0"]])
def test_a_bad_map_registration_is_explained_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "expected 'x,y' or 'x,y,theta'" in err and "invalid parse value" not in err


def test_a_map_given_as_a_scene_and_a_scene_given_as_a_map(tmp_path, capsys):
    vmap = VoxelMap(metadata=MapMetadata(embedding_model_id="x"))
    path = vmap.save(tmp_path / "home")
    (tmp_path / "scene.json").write_text('{"format": "ovmm-scene"}')
    for argv, needle in ((["sim", "check", str(path)], "not a JSON text file (that is a map"),
                         (["sim", "render", str(path), "--out", str(tmp_path / "v.png")], "that is a map"),
                         (["query", str(tmp_path / "scene.json"), "mug"], "not a map"),
                         (["query", str(tmp_path / "absent"), "mug"], "does not exist")):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:") and needle in err[0], (argv, err)


def _gt_map(tmp_path):
    enc = minilm_encoder()
    ids = sorted(DESCRIPTIONS)
    texts = [instance_text(DESCRIPTIONS[i]) for i in ids]
    feats = dict(zip(ids, ensemble_features(enc.encode_text, texts), strict=True))
    meta = MapMetadata(embedding_model_id=enc.embedding_model_id,
                       perception=perception_record(PerceptionConfig(pipeline="ground-truth")))
    vmap = VoxelMap(metadata=meta)
    intr = CameraIntrinsics.from_fov(200, 150, 1.0)
    for T in scan_poses():
        f = render(default_boxes(), T, intr)
        vmap.add_frame(f, observations_from_ids(f, feats, score=0.8))
    vmap.metadata.instances = [t.to_dict() for t in texts]
    return vmap.save(tmp_path / "home")


def test_several_queries_and_the_prompt_share_one_encoder(tmp_path, capsys, monkeypatch):
    _gt_map(tmp_path)
    home = str(tmp_path / "home")  # without the .npz
    code = main(["query", home, "sink", "red coffee mug", "grand piano", "--top-k", "1"])
    out, err = capsys.readouterr()
    assert code == 1  # one of them is not found
    assert "sink:\n1. kitchen sink" in out and "red coffee mug:\n1. red coffee mug" in out
    assert "not found: 'grand piano'" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("cardboard box\n\n"))
    assert main(["query", home, "--top-k", "1"]) == 0
    assert "1. cardboard box" in capsys.readouterr().out
    assert main(["query", home, "--calibration"]) == 0
    assert "threshold" in capsys.readouterr().out
    assert main(["query", home, "a", "b", "--png", str(tmp_path / "q.png")]) == 1
    assert "exactly one text" in capsys.readouterr().err
    assert main(["query", home, "mug", "--png", str(tmp_path / "no" / "q.png")]) == 1
    assert "does not exist for --png" in capsys.readouterr().err and not (tmp_path / "no").exists()
