"""The attach chain (person → household → building → grid): validation, geometry repair,
cross-checks, grid coverage, roll-ups and reports."""
