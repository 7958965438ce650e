#!/usr/bin/env bash
# Installs what the platform needs on a fresh machine: uv, the locked Python
# environment, and the Kafka broker's jars (from Maven Central). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in java mvn python3; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is required" >&2; exit 1; }
done
# Debian packages: a Unicode font for PDFs (fonts-dejavu-core); Tesseract with its Vietnamese
# data for digitisation's OCR; and, for the tests, the
# independent tools that check what we produce as a third party would: openssl (result
# signatures), poppler-utils (PDF text and rendering), zbar-tools (QR codes), chromium.
need=()
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v openssl >/dev/null || need+=(openssl)
command -v pdftotext >/dev/null || need+=(poppler-utils)
command -v zbarimg >/dev/null || need+=(zbar-tools)
command -v chromium >/dev/null || need+=(chromium)  # browser tests of the web pages
command -v softhsm2-util >/dev/null || need+=(softhsm2)  # the development PKI's PKCS#11 tokens (keys never on disk in clear)
command -v certutil >/dev/null || need+=(libnss3-tools)  # an NSS trust store for poppler's pdfsig in the tests
command -v tesseract >/dev/null || need+=(tesseract-ocr)  # digitisation's OCR of scans
[ -f /usr/share/tesseract-ocr/5/tessdata/vie.traineddata ] || need+=(tesseract-ocr-vie)  # its Vietnamese data
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup: please install: ${need[*]}" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
python3 -m uv sync --frozen --quiet
python3 -m uv run --frozen python -c "from infra.stack import ensure_kafka_jars; ensure_kafka_jars()"
