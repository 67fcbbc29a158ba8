"""The simulated home: scene specs, generators, Habitat-format assets, the MuJoCo world and SimRobot."""
