"""Habitat scene datasets, engine-neutral: read `*.scene_dataset_config.json` / `*.scene_instance.json`
(and their stage, object and articulated-object configs) into our SceneSpec, and write a SceneSpec as a
complete Habitat dataset. Imports no simulator; docs/sim-scenes.md describes what is read and written."""
