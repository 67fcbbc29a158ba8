"""The optional habitat-sim backend: habitat-sim renders the head camera (RGB, depth, semantic) in the scene
exported as a Habitat dataset; physics, contacts, grasping and ground truth stay in the MuJoCo world.

`sim.habitat_sim.config` is pure (tested everywhere); `sim.habitat_sim.world` imports habitat_sim and is
only imported by sim.backends when habitat-sim is installed. Unverified here: habitat-sim cannot be
installed on this platform (no Linux pip wheel)."""
