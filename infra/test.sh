#!/usr/bin/env bash
# Install everything and run the whole test suite: lint, unit tests, and the
# integration and end-to-end tests, which start the real Kafka broker, the
# MongoDB-protocol server and every service as processes (the `test` stack).
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh
python3 -m uv run --frozen ruff check .
python3 -m uv run --frozen ruff format --check .
python3 -m uv run --frozen pytest "$@"
