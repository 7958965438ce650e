"""Document store and OCR benchmark.

    python3 -m uv run python -m infra.bench_documents [--stack dev] [--uploads 200] [--size-kb 400]
        [--concurrency 8] [--pages 12] [--workers 1 2]

Uploads: against a running stack (`motcua up`), `--uploads` scanned-page JPEGs of about
`--size-kb` each (all different) are uploaded to digitisation's `POST /documents`, `--concurrency`
at a time: each is spooled, checked in a worker process (decoded whole), stored in GridFS and
answered with its token. Side by side, the same files are written straight into GridFS with the
file store's own `put` (no HTTP, no checks): the baseline. Printed: uploads per second and MB/s
of each, and their ratio.

OCR: `--pages` Vietnamese scanned pages (A4, 150 dpi, crooked and speckled) are recognised with
digitisation's `recognise` in a pool of each `--workers` size, and, as the baseline, by one
`tesseract` process per page with its default threading. Printed: pages per second, and per
second per worker.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor

import httpx

from services.digitisation.ocr import recognise
from services.runtime.files import MongoFiles

from .scanner import scanned_page
from .stack import Stack

LINES = [
    "Ủy ban nhân dân xã Hòa Tiến xác nhận ông Nguyễn Văn Dân",
    "sinh ngày 12 tháng 3 năm 1985, thường trú tại thôn Đông,",
    "đã nộp đủ hồ sơ đăng ký thường trú theo quy định.",
    "Giấy tờ kèm theo: giấy khai sinh, giấy chứng nhận quyền sử dụng đất.",
]


def pages(count: int, size_kb: int, seed: int = 0) -> list[bytes]:
    """Distinct scanned pages of about `size_kb` kilobytes (JPEG quality chosen to get there)."""
    quality = max(30, min(95, 40 + size_kb // 10))
    return [scanned_page(LINES * 6, title="GIẤY XÁC NHẬN", seed=seed + i, quality=quality) for i in range(count)]


async def upload_all(url: str, files: list[bytes], concurrency: int) -> float:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:

        async def one(content: bytes) -> None:
            async with limit:
                answer = await client.post("/documents", files={"file": ("trang.jpg", content, "image/jpeg")})
                answer.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(content) for content in files))
        return time.perf_counter() - started


async def put_all(mongo_url: str, files: list[bytes], concurrency: int) -> float:
    store = MongoFiles(mongo_url, "motcua_files_benchmark")
    limit = asyncio.Semaphore(concurrency)

    async def one(content: bytes) -> None:
        async with limit:
            await store.put(hashlib.sha256(content).hexdigest(), content)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(content) for content in files))
        return time.perf_counter() - started
    finally:
        await store.client.drop_database("motcua_files_benchmark")
        await store.close()


def ocr_pool(scans: list[bytes], workers: int) -> float:
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(abs, range(workers)))  # start the processes before the clock
        started = time.perf_counter()
        list(pool.map(recognise, scans, ["image/jpeg"] * len(scans)))
        return time.perf_counter() - started


def ocr_plain(scans: list[bytes]) -> float:
    started = time.perf_counter()
    for scan in scans:
        subprocess.run(["tesseract", "stdin", "stdout", "-l", "vie"], input=scan, capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--size-kb", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    stack = Stack.named(args.stack)

    files = pages(args.uploads, args.size_kb, seed=int(time.time()))
    megabytes = sum(len(f) for f in files) / 1e6
    print(
        f"uploads: {len(files)} files, {megabytes:.1f} MB ({megabytes * 1000 / len(files):.0f} kB each), "
        f"{args.concurrency} at a time"
    )
    baseline = asyncio.run(put_all(stack.mongo_url, files, args.concurrency))
    platform = asyncio.run(upload_all(stack.service_url("digitisation"), files, args.concurrency))
    for name, seconds in (("GridFS put (baseline)", baseline), ("POST /documents", platform)):
        print(f"  {name:<22} {len(files) / seconds:7.1f} uploads/s  {megabytes / seconds:6.1f} MB/s")
    print(
        f"  the platform's uploads take {platform / baseline:.1f}x the baseline's time "
        "(HTTP, spooling, checks in a worker, token)"
    )

    scans = pages(args.pages, 250, seed=7)
    print(f"OCR: {len(scans)} scanned A4 pages (150 dpi), Vietnamese")
    plain = ocr_plain(scans)
    print(f"  tesseract per page (baseline)  {len(scans) / plain:5.2f} pages/s")
    for workers in args.workers:
        seconds = ocr_pool(scans, workers)
        rate = len(scans) / seconds
        print(
            f"  recognise, {workers} worker(s)        {rate:5.2f} pages/s  {rate / workers:5.2f} pages/s per worker"
            f"  ({plain / seconds:.2f}x the baseline)"
        )


if __name__ == "__main__":
    main()
