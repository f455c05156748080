"""Solvers: the bisection/local search and the fewest-moves program."""
