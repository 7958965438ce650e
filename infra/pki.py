"""The development PKI: a certificate authority (root, issuing CA, OCSP responder) and a
timestamp authority's certificate, and the certificates the platform signs results with: one
personal certificate for each leader or receiving officer, one seal certificate for each unit.

DEVELOPMENT ONLY. A deployment gets its certificates from a licensed certification authority,
keeps the keys in a real HSM or a remote-signing service, and timestamps with a licensed
trust-service provider (docs/pki.md). This plays those outside parties with the real formats.

Every private key is generated inside a PKCS#11 token and used only through it (infra/hsm.py):
token `motcua-ca` holds the CA's and TSA's keys, token `motcua-signing` the platform's signing
keys, each with its certificate under the same label and CKA_ID. Certificates are built with
asn1crypto and their to-be-signed part is signed by the token.

    python -m infra.pki init --dir D --ca-url URL [--tsa-url URL] [--officials FILE] [--units FILE]
    python -m infra.pki issue official ID --name NAME --unit CODE     (or: issue unit CODE --name NAME)
    python -m infra.pki revoke official:ID --reason keyCompromise
    python -m infra.pki list

The commands that use the tokens read their PINs from MOTCUA_CA_PIN and MOTCUA_SIGNING_PIN
(and, when `init` creates the tokens, their SO PINs from MOTCUA_CA_SO_PIN and
MOTCUA_SIGNING_SO_PIN); D is --dir or MOTCUA_PKI_DIR (default .data/dev/pki).

Layout of D: softhsm2.conf and tokens/ (SoftHSM2's store), root-ca.pem, issuing-ca.pem,
ocsp.pem, tsa.pem (certificates only), index.json (every certificate the CA issued, which the
CRLs and the OCSP responder answer from), pki.json (the CA's and TSA's URLs).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import logging
import os
import secrets
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from asn1crypto import keys, pem, x509
from cryptography import x509 as cx509

from . import hsm
from .hsm import MODULE

ROOT = Path(__file__).resolve().parent.parent
OFFICIALS_FILE = ROOT / "services" / "routing" / "data" / "officials.json"
UNITS_FILE = ROOT / "services" / "runtime" / "data" / "units.json"
DEFAULT_DIR = Path(".data") / "dev" / "pki"

CA_TOKEN = "motcua-ca"
SIGNING_TOKEN = "motcua-signing"
ROOT_CA, ISSUING_CA, OCSP, TSA = "root-ca", "issuing-ca", "ocsp", "tsa"  # labels in the CA token
SIGNING_ROLES = ("leader", "receiving")  # leaders sign results, receiving officers sign scans

# Policy OIDs under 2.25 (RFC 9562's UUID arc: standard, needs no registration), one per kind.
PERSONAL_POLICY = "2.25.71579605196064214842311547594884394593"
SEAL_POLICY = "2.25.244863057880436939861928870538836692105"
TSA_POLICY = "2.25.295558932233814236262733146538182645238"  # also the policy of its timestamps

Kind = Literal["root", "ca", "ocsp", "tsa", "personal", "seal"]
Status = Literal["good", "revoked"]
ISSUED_BY_ISSUING_CA: tuple[Kind, ...] = ("ocsp", "tsa", "personal", "seal")
# RFC 5280 CRLReason names and codes (removeFromCRL belongs to delta CRLs only)
REASONS = {
    "unspecified": 0,
    "keyCompromise": 1,
    "cACompromise": 2,
    "affiliationChanged": 3,
    "superseded": 4,
    "cessationOfOperation": 5,
    "certificateHold": 6,
    "privilegeWithdrawn": 9,
    "aACompromise": 10,
}
ORGANISATION = "Motcua Development PKI"
YEARS: dict[Kind, int] = {"root": 20, "ca": 10, "ocsp": 3, "tsa": 3, "personal": 3, "seal": 3}
CA_SUBJECTS = {
    ROOT_CA: "Motcua Development Root CA",
    ISSUING_CA: "Motcua Development Issuing CA",
    OCSP: "Motcua Development OCSP Responder",
    TSA: "Motcua Development Timestamp Authority",
}
CA_KINDS: dict[str, Kind] = {ROOT_CA: "root", ISSUING_CA: "ca", OCSP: "ocsp", TSA: "tsa"}


class Official(NamedTuple):
    """A holder of a personal certificate: an official who signs in the platform's name."""

    id: str
    name: str
    unit_code: str
    unit_name: str


class Unit(NamedTuple):
    """A holder of a seal (organisation) certificate."""

    code: str
    name: str


def official_label(official_id: str) -> str:
    return f"official:{official_id}"


def unit_label(unit_code: str) -> str:
    return f"unit:{unit_code}"


def softhsm_env(directory: str | Path) -> dict[str, str]:
    """What a process needs in its environment to use D's tokens."""
    return {"SOFTHSM2_CONF": str(Path(directory).resolve() / "softhsm2.conf")}


# --- the CA's record -------------------------------------------------------------------------


@dataclass
class Record:
    """One certificate the CA issued, as index.json keeps it (under its serial)."""

    serial: int
    label: str
    subject: str  # RFC 4514
    kind: Kind
    not_before: str  # ISO 8601, UTC
    not_after: str
    sha256: str  # fingerprint of the DER certificate, hex
    status: Status = "good"
    revoked_at: str | None = None
    reason: str | None = None  # an RFC 5280 CRLReason name (REASONS)

    def as_json(self) -> dict[str, Any]:
        """What index.json keeps under the serial."""
        return {name: getattr(self, name) for name in _RECORD_FIELDS}

    def revoked_time(self) -> datetime | None:
        return datetime.fromisoformat(self.revoked_at) if self.revoked_at else None


_RECORD_FIELDS = [field.name for field in fields(Record) if field.name != "serial"]


class Index:
    """index.json: serial (decimal string) → record; written whole, atomically."""

    def __init__(self, records: Mapping[int, Record] | None = None) -> None:
        self.records: dict[int, Record] = dict(records or {})

    @classmethod
    def load(cls, path: Path) -> Index:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls({int(serial): Record(serial=int(serial), **fields) for serial, fields in data.items()})

    def save(self, path: Path) -> None:
        data = {str(serial): record.as_json() for serial, record in self.records.items()}
        _write_atomically(path, json.dumps(data, ensure_ascii=False, indent=1).encode())

    def latest(self, label: str) -> Record | None:
        """The newest certificate issued under `label` (an earlier one may have been revoked and replaced)."""
        issued = [record for record in self.records.values() if record.label == label]
        return max(issued, key=lambda record: (record.not_before, record.status == "good")) if issued else None

    def __iter__(self) -> Iterator[Record]:
        return iter(sorted(self.records.values(), key=lambda record: (record.not_before, record.label)))


# --- the PKI in a directory ------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """A development PKI in its directory: where everything is, and the URLs its certificates name."""

    directory: Path
    ca_url: str
    tsa_url: str | None = None

    @property
    def index_path(self) -> Path:
        return self.directory / "index.json"

    def certificate_path(self, label: str) -> Path:
        """root-ca.pem, issuing-ca.pem, ocsp.pem or tsa.pem."""
        if label not in CA_KINDS:
            raise ValueError(f"{label!r} is not one of the CA's own certificates")
        return self.directory / f"{label}.pem"

    def certificate(self, label: str) -> bytes:
        """One of the CA's own certificates (DER)."""
        _, _, der = pem.unarmor(self.certificate_path(label).read_bytes())
        return der

    def index(self) -> Index:
        return Index.load(self.index_path)

    def env(self) -> dict[str, str]:
        return softhsm_env(self.directory)


def load(directory: str | Path) -> Pki:
    """The PKI `init` made in `directory`."""
    directory = Path(directory).resolve()
    settings_file = directory / "pki.json"
    if not settings_file.exists():
        raise FileNotFoundError(f"{directory} holds no development PKI (run `python -m infra.pki init`)")
    settings = json.loads(settings_file.read_text(encoding="utf-8"))
    return Pki(directory, settings["ca_url"], settings.get("tsa_url"))


def serve(name: str, default_port: int, app_for: Callable[[Pki, str], Any]) -> None:
    """Run the CA's or the TSA's process: the PKI of MOTCUA_PKI_DIR, the token motcua-ca opened
    with MOTCUA_CA_PIN, HTTP on 127.0.0.1:MOTCUA_HTTP_PORT."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    pin = os.environ.get("MOTCUA_CA_PIN")
    if not pin:
        raise SystemExit(f"MOTCUA_CA_PIN must be set (the PIN of the token {CA_TOKEN})")
    app = app_for(load(os.environ.get("MOTCUA_PKI_DIR", DEFAULT_DIR)), pin)
    logging.getLogger(f"infra.{name}").warning("development %s: development only", name)
    port = int(os.environ.get("MOTCUA_HTTP_PORT", default_port))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def init(
    directory: str | Path,
    *,
    ca_url: str,
    tsa_url: str | None = None,
    officials: Iterable[Official | tuple[str, str, str, str]] = (),
    units: Iterable[Unit | tuple[str, str]] = (),
    ca_pin: str,
    signing_pin: str,
    ca_so_pin: str | None = None,
    signing_so_pin: str | None = None,
) -> Pki:
    """Make the PKI in `directory`, or complete it: idempotent. The first run creates both tokens
    (which needs their SO PINs), the root and issuing CAs, the OCSP responder's and the TSA's
    certificates; every run issues a personal certificate to each official and a seal certificate
    to each unit that has none yet. Nothing that exists is made again."""
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        made = _settle_settings(directory, ca_url.rstrip("/"), tsa_url.rstrip("/") if tsa_url else None)
        _write_softhsm_conf(directory)
        existing = hsm.token_labels(MODULE, made.env())
        for label, pin, so_pin in ((CA_TOKEN, ca_pin, ca_so_pin), (SIGNING_TOKEN, signing_pin, signing_so_pin)):
            if label not in existing:
                if not so_pin:
                    raise ValueError(f"creating token {label!r} needs its SO PIN")
                hsm.create_token(label, pin=pin, so_pin=so_pin, module=MODULE, env=made.env())
        issuer = _Issuer(made, ca_pin, signing_pin)
        try:
            for label in CA_KINDS:
                issuer.ensure(label, CA_KINDS[label], _ca_subject(label))
                made.certificate_path(label).write_bytes(pem.armor("CERTIFICATE", issuer.stored[label]))
            for holder in [*map(Official._make, officials), *map(Unit._make, units)]:
                issuer.ensure(*_holder(holder))
        finally:  # what was issued is recorded even when a later holder fails
            issuer.save()
        return made


def issue(directory: str | Path, holder: Official | Unit, *, ca_pin: str, signing_pin: str) -> Record:
    """A certificate for one official or unit; a holder whose certificate was revoked gets a new key
    pair and certificate (the revoked ones leave the token), any other holder keeps its own."""
    made = load(directory)
    with _locked(made.directory):
        issuer = _Issuer(made, ca_pin, signing_pin)
        try:
            return issuer.ensure(*_holder(holder), replace_revoked=True)
        finally:
            issuer.save()


def revoke(directory: str | Path, label: str, reason: str = "unspecified") -> Record:
    """Mark the certificate under `label` revoked. Nothing else needs doing: the CRLs and the OCSP
    responder answer from the index, which the CA process re-reads when it changes."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}: one of {', '.join(REASONS)}")
    made = load(directory)
    with _locked(made.directory):
        index = made.index()
        record = index.latest(label)
        if record is None:
            raise KeyError(f"no certificate was issued under {label!r}")
        if record.status == "revoked":
            raise ValueError(f"the certificate of {label!r} (serial {record.serial}) is already revoked")
        record.status, record.reason = "revoked", reason
        record.revoked_at = _now().isoformat()
        index.save(made.index_path)
        return record


def officials_who_sign(officials_file: Path = OFFICIALS_FILE, units_file: Path = UNITS_FILE) -> list[Official]:
    """Every leader and receiving officer in an officials file (routing's format)."""
    from services.runtime.units import load_units  # imported when needed: the runtime package is heavy

    units = load_units(units_file)
    found = []
    for row in json.loads(Path(officials_file).read_text(encoding="utf-8"))["officials"]:
        if set(row["roles"]) & set(SIGNING_ROLES):
            unit = units.get(row["unit"])
            if unit is None:
                raise ValueError(f"official {row['id']}: unknown unit {row['unit']!r}")
            found.append(Official(row["id"], row["name"], unit.code, unit.name))
    return found


def every_unit(units_file: Path = UNITS_FILE) -> list[Unit]:
    """The province, its departments and its communes."""
    from services.runtime.units import load_units

    units = load_units(units_file)
    return [Unit(u.code, u.name) for u in (units.province, *units.departments.values(), *units.communes.values())]


# --- issuing ---------------------------------------------------------------------------------


class _Issuer:
    """Issues certificates into the tokens and the index, within one locked run. What the tokens
    hold is read once at the start (one search per token, not one per holder)."""

    def __init__(self, pki: Pki, ca_pin: str, signing_pin: str) -> None:
        self.pki = pki
        self.index = pki.index()
        self.ca_token = hsm.open_token(CA_TOKEN, ca_pin, module=MODULE, env=pki.env())
        self.signing_token = hsm.open_token(SIGNING_TOKEN, signing_pin, module=MODULE, env=pki.env())
        tokens = (self.ca_token, self.signing_token)
        self.stored = {label: der for token in tokens for label, der in token.certificates().items()}
        self.keys = {label for token in tokens for label in token.labels()}

    def save(self) -> None:
        self.index.save(self.pki.index_path)

    def ensure(self, label: str, kind: Kind, subject: x509.Name, replace_revoked: bool = False) -> Record:
        """The certificate under `label`, issued now if there is none."""
        token = self.ca_token if kind in CA_KINDS.values() else self.signing_token
        record = self.index.latest(label)
        stored = self.stored.get(label)
        if record is not None and not (replace_revoked and record.status == "revoked"):
            if stored is None or hashlib.sha256(stored).hexdigest() != record.sha256:
                raise RuntimeError(
                    f"{self.pki.directory}: the index has a certificate for {label!r} that token {token.label} lacks; "
                    "the PKI is inconsistent: remove the directory and run init again"
                )
            return record
        if label in self.keys or stored is not None:
            token.destroy(label)  # a revoked holder's, or what an interrupted run left unrecorded
        return self._issue(token, label, kind, subject)

    def _issue(self, token: hsm.Token, label: str, kind: Kind, subject: x509.Name) -> Record:
        serial = secrets.randbits(127) | 1 << 126  # 16 bytes, positive, unpredictable
        public_key = keys.PublicKeyInfo.load(token.generate_key_pair(label, serial.to_bytes(16, "big")))
        if kind == "root":
            issuer_label, issuer_certificate = label, None
        else:
            issuer_label = ROOT_CA if kind == "ca" else ISSUING_CA
            issuer_certificate = x509.Certificate.load(self.stored[issuer_label])
        not_before = _now()
        not_after = _years_later(not_before, YEARS[kind])
        tbs = x509.TbsCertificate(
            {
                "version": "v3",
                "serial_number": serial,
                "signature": {"algorithm": "sha256_ecdsa"},
                "issuer": issuer_certificate.subject if issuer_certificate else subject,
                "validity": {"not_before": asn1_time(not_before), "not_after": asn1_time(not_after)},
                "subject": subject,
                "subject_public_key_info": public_key,
                "extensions": _extensions(kind, public_key, issuer_certificate, self.pki.ca_url),
            }
        )
        certificate = x509.Certificate(
            {
                "tbs_certificate": tbs,
                "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                "signature_value": self.ca_token.sign(issuer_label, tbs.dump()),
            }
        ).dump()
        token.store_certificate(label, certificate)
        self.stored[label] = certificate
        self.keys.add(label)
        checked = cx509.load_der_x509_certificate(certificate)  # a second parser agrees it is well formed
        record = Record(
            serial=serial,
            label=label,
            subject=checked.subject.rfc4514_string(),
            kind=kind,
            not_before=not_before.isoformat(),
            not_after=not_after.isoformat(),
            sha256=hashlib.sha256(certificate).hexdigest(),
        )
        self.index.records[serial] = record  # saved at the end of the run; if the run dies first,
        return record  # the next one finds the key unrecorded, removes it and issues anew


def _extensions(kind: Kind, public_key: keys.PublicKeyInfo, issuer: x509.Certificate | None, ca_url: str) -> list:
    """The extensions of each kind of certificate (docs/pki.md lists them)."""

    def ext(name: str, value: Any, critical: bool = False) -> dict[str, Any]:
        return {"extn_id": name, "critical": critical, "extn_value": value}

    def uri(url: str) -> x509.GeneralName:
        return x509.GeneralName(name="uniform_resource_identifier", value=url)

    def crl(name: str) -> dict[str, Any]:
        return ext("crl_distribution_points", [{"distribution_point": {"full_name": [uri(f"{ca_url}/crl/{name}")]}}])

    def policy(oid: str) -> dict[str, Any]:
        return ext("certificate_policies", [{"policy_identifier": oid}])

    found = [ext("key_identifier", public_key.sha1)]
    if issuer is not None:
        found.append(ext("authority_key_identifier", {"key_identifier": issuer.key_identifier}))
    if kind in ("root", "ca"):
        constraints = {"ca": True} if kind == "root" else {"ca": True, "path_len_constraint": 0}
        found += [
            ext("basic_constraints", constraints, critical=True),
            ext("key_usage", {"key_cert_sign", "crl_sign"}, critical=True),
        ]
        if kind == "ca":
            found += [crl("root-ca.crl"), policy("any_policy")]
        return found
    ca_issuers = {"access_method": "ca_issuers", "access_location": uri(f"{ca_url}/certs/issuing-ca.cer")}
    if kind == "ocsp":  # id-pkix-ocsp-nocheck: its own status is never asked, so no CRL nor OCSP address
        return [
            *found,
            ext("key_usage", {"digital_signature"}, critical=True),
            ext("extended_key_usage", ["ocsp_signing"]),
            ext("ocsp_no_check", None),
            ext("authority_information_access", [ca_issuers]),
        ]
    ocsp = {"access_method": "ocsp", "access_location": uri(f"{ca_url}/ocsp")}
    found += [
        ext("key_usage", {"digital_signature", "non_repudiation"}, critical=True),
        crl("issuing-ca.crl"),
        ext("authority_information_access", [ocsp, ca_issuers]),
        policy({"tsa": TSA_POLICY, "personal": PERSONAL_POLICY, "seal": SEAL_POLICY}[kind]),
    ]
    if kind == "tsa":
        found.append(ext("extended_key_usage", ["time_stamping"], critical=True))  # RFC 3161 §2.3
    # Signing certificates carry no extended key usage: with id-kp-documentSigning (RFC 9336)
    # poppler's pdfsig (NSS, which checks for e-mail signing) no longer trusts them.
    return found


def _ca_subject(label: str) -> x509.Name:
    return _name({"country_name": "VN", "organization_name": ORGANISATION, "common_name": CA_SUBJECTS[label]})


def _holder(holder: Official | Unit) -> tuple[str, Kind, x509.Name]:
    """The label, kind and subject of an official's personal or a unit's seal certificate."""
    if isinstance(holder, Official):
        subject = {"organization_name": holder.unit_name, "user_id": holder.id, "common_name": holder.name}
        return official_label(holder.id), "personal", _name({"country_name": "VN", **subject})
    subject = {"organization_name": holder.name, "organizational_unit_name": holder.code, "common_name": holder.name}
    return unit_label(holder.code), "seal", _name({"country_name": "VN", **subject})


def _name(attributes: dict[str, str]) -> x509.Name:
    """A distinguished name with UTF8String values (Vietnamese names); the country stays PrintableString."""
    return x509.Name.build(attributes, use_printable=False)


def asn1_time(moment: datetime) -> x509.Time:
    """UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)."""
    return x509.Time({"utc_time" if moment.year < 2050 else "general_time": moment})


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _years_later(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


# --- files -----------------------------------------------------------------------------------


def _settle_settings(directory: Path, ca_url: str, tsa_url: str | None) -> Pki:
    """pki.json: the URLs the certificates name; the CA's cannot change once certificates carry it."""
    settings_file = directory / "pki.json"
    if settings_file.exists():
        known = load(directory)
        if known.ca_url != ca_url:
            raise ValueError(
                f"{directory} was made for the CA at {known.ca_url}, which its certificates name; "
                f"to use {ca_url}, remove the directory and run init again"
            )
        tsa_url = tsa_url or known.tsa_url
    pki = Pki(directory, ca_url, tsa_url)
    _write_atomically(settings_file, json.dumps({"ca_url": ca_url, "tsa_url": tsa_url}, indent=1).encode())
    return pki


def _write_softhsm_conf(directory: Path) -> None:
    tokens = directory / "tokens"
    tokens.mkdir(mode=0o700, exist_ok=True)
    conf = f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    path = directory / "softhsm2.conf"
    if not path.exists() or path.read_text() != conf:
        _write_atomically(path, conf.encode())


def _write_atomically(path: Path, content: bytes) -> None:
    """Write a temporary file beside `path` and rename it over: a reader sees the old file or the new."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One writer at a time (init, issue and revoke read, change and write the index)."""
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --- command line ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.pki", description="The development PKI (DEVELOPMENT ONLY).")
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("MOTCUA_PKI_DIR", DEFAULT_DIR)))
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("init", help="create the PKI, or issue what it lacks (idempotent)")
    make.add_argument(
        "--ca-url", required=True, help="the CA's URL, named in certificates (CRLs, OCSP, CA certificates)"
    )
    make.add_argument("--tsa-url", help="the timestamp authority's URL, recorded for the platform")
    make.add_argument("--officials", type=Path, default=OFFICIALS_FILE, help="officials (routing's format)")
    make.add_argument("--units", type=Path, default=UNITS_FILE, help="units (the runtime's format)")
    give = commands.add_parser("issue", help="issue a certificate to one official or unit")
    give.add_argument("holder", choices=("official", "unit"))
    give.add_argument("id", help="the official's id or the unit's code")
    give.add_argument("--name", required=True, help="the official's or the unit's name")
    give.add_argument("--unit", help="an official's unit code")
    give.add_argument("--unit-name", help="an official's unit name (default: from --units)")
    give.add_argument("--units", type=Path, default=UNITS_FILE)
    withdraw = commands.add_parser("revoke", help="revoke the certificate under a label")
    withdraw.add_argument("label", help="e.g. official:h40101.lanhdao or unit:H40.101")
    withdraw.add_argument("--reason", default="unspecified", choices=tuple(REASONS))
    commands.add_parser("list", help="every certificate the CA issued")
    args = parser.parse_args(argv)

    if args.command == "revoke":
        record = revoke(args.dir, args.label, args.reason)
        print(f"revoked {record.label} (serial {record.serial}, {record.reason})")
    elif args.command == "list":
        _print_table(load(args.dir).index())
    elif args.command == "init":
        started = datetime.now(UTC)
        pki = init(
            args.dir,
            ca_url=args.ca_url,
            tsa_url=args.tsa_url,
            officials=officials_who_sign(args.officials, args.units),
            units=every_unit(args.units),
            **_pins(parser, "MOTCUA_CA_SO_PIN", "MOTCUA_SIGNING_SO_PIN"),
        )
        seconds = (datetime.now(UTC) - started).total_seconds()
        print(f"PKI ready in {pki.directory} ({len(pki.index().records)} certificates, {seconds:.1f}s)")
    else:
        if args.holder == "official":
            if not args.unit:
                parser.error("issue official needs --unit CODE")
            unit_name = args.unit_name or _unit_name(parser, args.units, args.unit)
            holder: Official | Unit = Official(args.id, args.name, args.unit, unit_name)
        else:
            holder = Unit(args.id, args.name)
        record = issue(args.dir, holder, **_pins(parser))
        print(f"issued {record.label}: {record.subject} (serial {record.serial}, until {record.not_after})")
    return 0


def _pins(parser: argparse.ArgumentParser, *optional: str) -> dict[str, str | None]:
    pins: dict[str, str | None] = {}
    for name in ("MOTCUA_CA_PIN", "MOTCUA_SIGNING_PIN", *optional):
        value = os.environ.get(name)
        if not value and name not in optional:
            parser.error(f"{name} must be set: the tokens' PINs are never made up here")
        pins[name.removeprefix("MOTCUA_").lower()] = value or None
    return pins


def _unit_name(parser: argparse.ArgumentParser, units_file: Path, code: str) -> str:
    from services.runtime.units import load_units

    unit = load_units(units_file).get(code)
    if unit is None:
        parser.error(f"unknown unit {code!r} in {units_file} (give --unit-name)")
    return unit.name


def _print_table(index: Index) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="certificates issued by the development CA")
    table.add_column("label", no_wrap=True)  # what `revoke` takes: never cut short
    table.add_column("kind", no_wrap=True)
    table.add_column("subject", overflow="fold")
    table.add_column("status")
    table.add_column("not after", no_wrap=True)
    for record in index:
        status = record.status if record.status == "good" else f"revoked ({record.reason})"
        table.add_row(record.label, record.kind, record.subject, status, record.not_after[:10])
    Console().print(table)


if __name__ == "__main__":
    sys.exit(main())
