"""Plans: community jobs, the planner, partition, redistrict (current plan, plan lines, repair) and
plan comparison."""
