"""Geometry of a partition: cells, adjacency, street blocks, units, metrics, numbering and output
snapping."""
