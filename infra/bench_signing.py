"""Signing benchmark: the platform's signer against plain pyHanko, on the same PDFs and keys.

    python3 -m uv run python -m infra.bench_signing [--results 100]

Makes a development PKI in a temporary directory (keys in SoftHSM2), starts the CA (OCSP, CRL)
and the timestamp authority as processes, renders `--results` result documents, then signs
every one of them twice over, one after the other:

- plain pyHanko with its documented defaults: `PKCS11Signer` on the same token, `HTTPTimeStamper`,
  `PdfSignatureMetadata(subfilter=PADES, embed_validation_info=True)` with a validation context
  that fetches revocation data, `signers.sign_pdf` for the leader and then for the seal;
- the platform's signer (services/signing/pades.py): the same two signatures and appearances,
  PAdES B-LT with timestamps, the revocation data fetched once for the batch.

Both outputs are checked with pyHanko's validator before the figures are printed: signatures
per second, and p50/p99 latency per result (leader, seal, validation data).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import httpx

from . import pki

CA_PIN, SIGNING_PIN = "bench-ca-pin", "bench-signing-pin"
LEADER = pki.Official("h40101.chutich", "Hoàng Văn Nam", "H40.101", "Ủy ban nhân dân xã Mẫu Một")
UNIT = pki.Unit("H40.101", "Ủy ban nhân dân xã Mẫu Một")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(module: str, directory: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, **pki.softhsm_env(directory), "MOTCUA_HTTP_PORT": str(port)}
    env |= {"MOTCUA_PKI_DIR": str(directory), "MOTCUA_CA_PIN": CA_PIN}
    process = subprocess.Popen(
        [sys.executable, "-m", module], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{module} did not start")


def documents(count: int) -> list[bytes]:
    from services.signing.document import ResultFacts, Templates, render

    templates = Templates.load()
    fonts = (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    )
    made = []
    for n in range(count):
        code = f"H40.101-261124-{n:04d}"
        facts = ResultFacts(
            result_code=f"{code}-KQ1",
            dossier_code=code,
            procedure_code="1.001193",
            procedure_name="Đăng ký khai sinh",
            field="Hộ tịch",
            title="Trích lục khai sinh",
            holder="Nguyễn Thị Bé Na",
            unit_code=UNIT.code,
            unit_name=UNIT.name,
            signer_name=LEADER.name,
            approved_at=datetime.now(UTC),
            verify_url=f"https://dichvucong.example.vn/verify/{code}-KQ1",
        )
        made.append(render(facts, templates.for_procedure("1.001193", "Hộ tịch"), *fonts))
    return made


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(name: str, latencies: list[float], elapsed: float) -> tuple[str, float, float, float, float]:
    signatures = 2 * len(latencies)
    return (
        name,
        signatures / elapsed,
        len(latencies) / elapsed,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
    )


async def plain_pyhanko(pdfs: list[bytes], directory: Path, tsa_url: str) -> tuple[list[bytes], list[float], float]:
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    from services.signing import appearance

    session = open_pkcs11_session(
        pki.MODULE, token_criteria=TokenCriteria(label=pki.SIGNING_TOKEN), user_pin=SIGNING_PIN
    )
    issuing = load_cert_from_pemder(str(directory / "issuing-ca.pem"))
    root = load_cert_from_pemder(str(directory / "root-ca.pem"))
    # SoftHSM2 has no CKM_ECDSA_SHA256: pyHanko hashes and the token signs the digest (use_raw_mechanism)
    leader, seal = (
        PKCS11Signer(session, cert_label=label, key_label=label, ca_chain=[issuing], use_raw_mechanism=True)
        for label in (pki.official_label(LEADER.id), pki.unit_label(UNIT.code))
    )
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    leader_style, seal_style = appearance.leader_style(font), appearance.seal_style(UNIT.name, font)
    out, latencies = [], []
    started = time.perf_counter()
    for pdf in pdfs:
        begun = time.perf_counter()
        document = pdf
        for signer, field, box, style in (
            (leader, appearance.LEADER_FIELD, appearance.leader_box(), leader_style),
            (seal, appearance.SEAL_FIELD, appearance.seal_box(), seal_style),
        ):
            context = ValidationContext(trust_roots=[root], other_certs=[issuing], allow_fetching=True)
            metadata = signers.PdfSignatureMetadata(
                field_name=field,
                subfilter=SigSeedSubFilter.PADES,
                embed_validation_info=True,
                validation_context=context,
            )
            pdf_signer = signers.PdfSigner(
                metadata,
                signer=signer,
                timestamper=HTTPTimeStamper(tsa_url),
                stamp_style=style,
                new_field_spec=SigFieldSpec(field, on_page=-1, box=box),
            )
            result = await pdf_signer.async_sign_pdf(
                IncrementalPdfFileWriter(BytesIO(document)),
                appearance_text_params={"signer": signer.signing_cert.subject.native["common_name"]},
            )
            document = result.getvalue()
        out.append(document)
        latencies.append((time.perf_counter() - begun) * 1000)
    return out, latencies, time.perf_counter() - started


async def platform(pdfs: list[bytes], directory: Path, tsa_url: str) -> tuple[list[bytes], list[float], float]:
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    from services.signing import appearance
    from services.signing.cms import PreparedSigner
    from services.signing.keys import Pkcs11Keys
    from services.signing.pades import Mark, sign_result
    from services.signing.revocation import RevocationChecker, cryptography_certificate
    from services.signing.signatures import IN_FLIGHT
    from services.signing.timestamps import TimestampAuthority

    def certificate(name: str) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(pem.unarmor((directory / name).read_bytes())[2])

    issuing, root = certificate("issuing-ca.pem"), certificate("root-ca.pem")
    keys = Pkcs11Keys(pki.MODULE, pki.SIGNING_TOKEN, SIGNING_PIN)
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    out: list[bytes] = [b""] * len(pdfs)
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=30) as client:
        started = time.perf_counter()
        leader = PreparedSigner(keys.signatory(pki.official_label(LEADER.id)), [issuing])
        seal = PreparedSigner(keys.signatory(pki.unit_label(UNIT.code)), [issuing])
        stamps = TimestampAuthority(tsa_url, client)
        checker = RevocationChecker(client, cryptography_certificate(issuing), cryptography_certificate(root))
        tsa_certificates = await stamps.certificates()
        validation = await checker.collect(
            [
                cryptography_certificate(leader.signatory.certificate),
                cryptography_certificate(seal.signatory.certificate),
                *tsa_certificates,
            ]
        )
        leader_mark = Mark(
            appearance.LEADER_FIELD, appearance.leader_box(), appearance.leader_style(font), leader, "Phê duyệt kết quả"
        )
        seal_mark = Mark(
            appearance.SEAL_FIELD,
            appearance.seal_box(),
            appearance.seal_style(UNIT.name, font),
            seal,
            "Đóng dấu cơ quan",
        )
        limit = asyncio.Semaphore(IN_FLIGHT)

        async def one(index: int) -> None:
            async with limit:
                begun = time.perf_counter()
                signed = await sign_result(pdfs[index], leader_mark, seal_mark, stamps, validation, page=-1)
                out[index] = signed.document
                latencies.append((time.perf_counter() - begun) * 1000)

        await asyncio.gather(*(one(i) for i in range(len(pdfs))))
        elapsed = time.perf_counter() - started
    return out, latencies, elapsed


def _platform_share(share: list[bytes], directory: Path, tsa_url: str) -> tuple[list[bytes], list[float]]:
    """One replica's share of the batch, in a process of its own (its own PKCS#11 session)."""
    os.environ.update(pki.softhsm_env(directory))
    outputs, latencies, _ = asyncio.run(platform(share, directory, tsa_url))
    return outputs, latencies


def in_processes(
    count: int, pdfs: list[bytes], directory: Path, tsa_url: str
) -> tuple[list[bytes], list[float], float]:
    """The platform's signer as `count` replicas, each signing its share of the batch at once."""
    shares = [pdfs[i::count] for i in range(count)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(count, mp_context=context) as pool:
        list(pool.map(_warm, range(count)))  # interpreters started before the clock runs
        started = time.perf_counter()
        done = list(pool.map(_platform_share, shares, [directory] * count, [tsa_url] * count))
        elapsed = time.perf_counter() - started
    return [o for outputs, _ in done for o in outputs], [x for _, latencies in done for x in latencies], elapsed


def _warm(_: int) -> None:
    import services.signing.pades  # noqa: F401 - the imports a replica has done before it signs


async def check(outputs: list[bytes], directory: Path) -> None:
    """Every output: two intact, trusted, timestamped signatures."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = load_cert_from_pemder(str(directory / "root-ca.pem"))
    issuing = load_cert_from_pemder(str(directory / "issuing-ca.pem"))
    for document in (outputs[0], outputs[-1]):
        signatures = PdfFileReader(BytesIO(document)).embedded_signatures
        assert len(signatures) == 2, "two signatures expected"
        for signature in signatures:
            context = ValidationContext(trust_roots=[root], other_certs=[issuing], allow_fetching=True)
            status = await async_validate_pdf_signature(signature, context, ts_validation_context=context)
            assert status.bottom_line and status.timestamp_validity is not None, status.pretty_print_details()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=100)
    parser.add_argument(
        "--processes", type=int, default=1, help="also run the platform's signer as this many processes (replicas)"
    )
    parser.add_argument("--make-pki", nargs=2, metavar=("DIR", "CA_PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_pki:
        made, port = Path(args.make_pki[0]), args.make_pki[1]
        os.environ.update(pki.softhsm_env(made))
        pki.init(
            made,
            ca_url=f"http://127.0.0.1:{port}",
            officials=[LEADER],
            units=[UNIT],
            ca_pin=CA_PIN,
            signing_pin=SIGNING_PIN,
            ca_so_pin="so-" + CA_PIN,
            signing_so_pin="so-" + SIGNING_PIN,
        )
        return
    directory = Path(tempfile.mkdtemp(prefix="motcua-bench-pki-"))
    ca_port, tsa_port = free_port(), free_port()
    os.environ.update(pki.softhsm_env(directory))
    # the PKI is made in a process of its own: this one opens the token afresh, as a service would
    subprocess.run(
        [sys.executable, "-m", "infra.bench_signing", "--make-pki", str(directory), str(ca_port)], check=True
    )
    processes = [start("infra.ca", directory, ca_port), start("infra.tsa", directory, tsa_port)]
    tsa_url = f"http://127.0.0.1:{tsa_port}/tsa"
    try:
        pdfs = documents(args.results)
        rows = []
        for name, run in (("plain pyHanko (defaults)", plain_pyhanko), ("platform signer", platform)):
            outputs, latencies, elapsed = asyncio.run(run(pdfs, directory, tsa_url))
            asyncio.run(check(outputs, directory))
            rows.append(report(name, latencies, elapsed))
        if args.processes > 1:
            outputs, latencies, elapsed = in_processes(args.processes, pdfs, directory, tsa_url)
            asyncio.run(check(outputs, directory))
            rows.append(report(f"platform signer, {args.processes} processes", latencies, elapsed))
    finally:
        for process in processes:
            process.terminate()
    print(
        f"{args.results} results, each signed by the leader and sealed by the unit (PAdES B-LT, timestamps from the TSA)"
    )
    print(f"{'signer':28} {'signatures/s':>13} {'results/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for name, per_second, results, p50, p99 in rows:
        print(f"{name:28} {per_second:13.1f} {results:10.1f} {p50:8.1f} {p99:8.1f}")
    for row in rows[1:]:
        print(f"throughput ratio, {row[0]} / plain pyHanko: {row[1] / rows[0][1]:.1f}x")


if __name__ == "__main__":
    main()
