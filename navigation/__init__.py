"""Occupancy grids, roadmap planning (scipy csgraph) with clearance costs, base goals for the side-mounted arm."""
