"""The top of ovmm: requests, the pick-and-place task machine, the CLI, evaluation and pictures."""
