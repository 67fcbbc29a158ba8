"""Occupancy grids, networkx graph planning with clearance costs, base goals for the side-mounted arm."""
