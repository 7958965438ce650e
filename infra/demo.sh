#!/usr/bin/env bash
# Install everything, start the platform (Kafka, MongoDB-protocol server, every
# service) and run a demo load of dossiers across 130 communes.
# Afterwards: `python3 -m uv run motcua status`, and `... motcua down` to stop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh
python3 -m uv run --frozen motcua up
python3 -m uv run --frozen motcua load --count "${DEMO_DOSSIERS:-150}" --rate "${DEMO_RATE:-2}" --timeout "${DEMO_TIMEOUT_S:-600}"
python3 -m uv run --frozen motcua status
