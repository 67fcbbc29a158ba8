"""Engine-neutral simulated homes: scene specs and their JSON files, generated apartments (floor plans,
furniture and object placement), the object library and meshes, Habitat-format assets, ground truth computed
from a spec's geometry, scan routes and pick-and-place episodes. Imports no simulator."""
