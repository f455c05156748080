#!/usr/bin/env bash
# Lint: ruff (code and notebooks), formatting, types (mypy, files and settings in
# pyproject.toml, cache in .mypy_cache) and the layering contracts (import-linter).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m mypy
.venv/bin/lint-imports --no-cache
