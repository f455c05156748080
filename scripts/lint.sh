#!/usr/bin/env bash
# Lint: ruff (code and notebooks), formatting, and the layering contracts (import-linter).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache
