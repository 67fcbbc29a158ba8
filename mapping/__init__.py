"""RGB-D frame sources (Record3D, Redwood/ICL, TUM, live streams) and the voxel semantic map."""
