"""Adoption simulator for planners (vectorised numpy); imports neither `api` nor `market`."""
