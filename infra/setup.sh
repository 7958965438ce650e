#!/usr/bin/env bash
# Installs what the platform needs on a fresh machine: uv, the locked Python
# environment, and the Kafka broker's jars (from Maven Central). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in java mvn python3; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is required" >&2; exit 1; }
done
# openssl: the tests verify result signatures with it, as any third party would.
if ! command -v openssl >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && apt-get install -y -qq openssl >/dev/null
fi
python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
python3 -m uv sync --frozen --quiet
python3 -m uv run --frozen python -c "from infra.stack import ensure_kafka_jars; ensure_kafka_jars()"
