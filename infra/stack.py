"""A local stack: the real Kafka broker, the MongoDB-protocol server and every
service, each a separate OS process, with all data under `.data/<stack>/`.

Two stacks never collide: `dev` uses the standard ports, `test` shifts them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

import httpx
from motcua_contracts import SERVICES
from motcua_contracts.access import principals
from pymongo import MongoClient

from services.notification.templates import load as load_templates
from services.runtime.approvals import public_key_path, write_key_pair
from services.runtime.files import FILES_DATABASE

from . import pki
from .kafka_access import admin_client, provision
from .staffing import simulated_signers

ROOT = Path(__file__).resolve().parent.parent
KAFKA_DIR = ROOT / "infra" / "kafka"
KAFKA_LIB = KAFKA_DIR / "target" / "lib"
INFRA = ("kafka", "mongodb")
ISSUER = "issuer"  # the development OIDC issuer (infra/issuer.py)
GATEWAY = "gateway"  # the sandbox payment gateway (infra/gateway.py)
CA = "ca"  # the development certificate authority: CRLs and OCSP (infra/ca.py)
TSA = "tsa"  # the development timestamp authority, RFC 3161 (infra/tsa.py)
MESSAGING = "messaging"  # the sandbox SMS and ZNS gateways, mail server and integrator (infra/messaging.py)
# Outside parties: each its own process speaking the real protocol, managed like a service.
OUTSIDE = (ISSUER, GATEWAY, CA, TSA, MESSAGING)
WEBHOOK_SUBSCRIBER = "sandbox"  # the sandbox integrator's name: it takes every milestone
LOCAL_TRACKING_PER_MINUTE = 1200
LOCAL_UPLOADS_PER_MINUTE = 6000
# The services that keep files in the file store (their settings include FileStore).
FILE_STORE_USERS = ("digitisation", "signing")
LOCAL_FINANCE_OFFICIALS = "h40.ketoan1"  # the sample finance officer who reconciles statements
LOCAL_PARTNER_CODE = "MOTCUA"  # the province's partner code at the sandbox gateway: payment and gateway agree
# Broker users that are not principals of the access plan: the operator and the controller.
KAFKA_OPERATORS = ("admin", "controller")
KAFKA_SECURED = "kafka-secured"  # marks broker data formatted with its administrator's SCRAM user
MONGODB_PROVISIONED = "mongodb-provisioned"  # marks a storage whose administrator exists
APPROVAL_KEY = "approval-key.pem"  # routing signs approvals with it (signing checks with its public part)
PKI_PINS = ("ca_pin", "ca_so_pin", "signing_pin", "signing_so_pin")  # the development PKI's tokens


class StackError(RuntimeError):
    """A process of the stack did not start, or would not stop."""


@dataclass(frozen=True)
class Stack:
    name: str = "dev"
    kafka_port: int = 9092
    mongo_port: int = 27017
    first_service_port: int = 8001
    # Settings of one service that differ in this stack, e.g. a faster deadline watcher for tests.
    settings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # The database syncs its log on every commit, so an acknowledged commit survives a crash.
    # Off only to measure what that costs (docs/benchmarks.md); never for data that matters.
    sync_on_commit: bool = True

    @classmethod
    def named(cls, name: str) -> Stack:
        if name == "test":
            fast_watcher = {
                "routing": {"MOTCUA_DEADLINE_SWEEP_S": "0.5"},
                # tests run at any hour: no quiet hours; complaint reminders looked for often
                "notification": {"MOTCUA_QUIET_HOURS": "00:00-00:00", "MOTCUA_JOBS_EVERY_S": "1"},
            }
            return cls("test", kafka_port=19092, mongo_port=27027, first_service_port=18001, settings=fast_watcher)
        return cls(name)

    # --- where things are ----------------------------------------------------
    @property
    def data(self) -> Path:
        return ROOT / ".data" / self.name

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mongo_address(self) -> str:
        return f"127.0.0.1:{self.mongo_port}"

    @property
    def mongo_url(self) -> str:
        """The database server as its administrator (operators' tools and tests)."""
        return self.mongo_url_of("admin")

    def mongo_url_of(self, user: str) -> str:
        """The database server as `user`: a service reaches only its own database."""
        password = quote_plus(self.secrets()[f"mongodb.{user}"])
        return f"mongodb://{user}:{password}@{self.mongo_address}/?replicaSet=secantus&authSource=admin"

    def service_port(self, service: str, replica: int = 1) -> int:
        return self.first_service_port + SERVICES.index(service) + 100 * (replica - 1)

    def service_url(self, service: str, replica: int = 1) -> str:
        return f"http://127.0.0.1:{self.service_port(service, replica)}"

    @property
    def issuer_port(self) -> int:
        return self.first_service_port + 8

    @property
    def issuer_url(self) -> str:
        return f"http://127.0.0.1:{self.issuer_port}"

    @property
    def gateway_port(self) -> int:
        return self.first_service_port + 9

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def ca_url(self) -> str:
        return f"http://127.0.0.1:{self.first_service_port + 10}"

    @property
    def tsa_url(self) -> str:
        return f"http://127.0.0.1:{self.first_service_port + 11}/tsa"

    @property
    def messaging_url(self) -> str:
        return f"http://127.0.0.1:{self.first_service_port + 12}"

    @property
    def smtp_port(self) -> int:
        return self.first_service_port + 24

    @property
    def pki_dir(self) -> Path:
        return self.data / "pki"

    def secrets(self) -> dict[str, str]:
        """This stack's secrets, made once and kept under `.data/<stack>/` (never the
        well-known development values: a local stack is reachable by whoever shares the host).
        Kafka passwords are named `kafka.<principal>`."""
        path = self.data / "secrets.json"
        kept = json.loads(path.read_text()) if path.exists() else {}
        wanted = [
            "gateway_secret",
            "gateway_hmac_secret",
            "sms_api_key",
            "sms_callback_secret",
            "zns_access_token",
            "zns_secret",
            "webhook_secret",
            "identity_hash_key",
            "receipt_token_key",
            "personal_data_key",
            *PKI_PINS,
            *(f"kafka.{p}" for p in (*KAFKA_OPERATORS, *principals())),
            *(f"mongodb.{user}" for user in ("admin", *SERVICES)),
        ]
        if missing := [name for name in wanted if name not in kept]:
            kept.update({name: secrets.token_urlsafe(32) for name in missing})
            if "personal_data_key" in missing:  # an AES-256 key: 32 bytes in base64
                kept["personal_data_key"] = base64.b64encode(secrets.token_bytes(32)).decode()
            if "webhook_secret" in missing:  # Standard Webhooks: whsec_ and 32 bytes in base64
                kept["webhook_secret"] = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
            write_private(path, json.dumps(kept))
        return kept

    def kafka_client(self, principal: str = "admin") -> dict[str, str]:
        """aiokafka connection settings for one of the broker's users (`admin` operates the
        stack; `reader` is the departments' and dashboards' read-only user)."""
        return {
            "bootstrap_servers": self.kafka_bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": principal,
            "sasl_plain_password": self.secrets()[f"kafka.{principal}"],
        }

    def trace_file(self, service: str) -> Path:
        return self.data / "traces" / f"{service}.jsonl"

    def log_file(self, process: str) -> Path:
        return self.data / "logs" / f"{process}.log"

    def log_tail(self, process: str, lines: int = 30) -> str:
        """The end of a process's log, for error messages."""
        try:
            text = self.log_file(process).read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            text = ["(no log)"]
        return f"--- last lines of {self.log_file(process)} ---\n" + "\n".join(text)

    def pid_file(self, process: str) -> Path:
        return self.data / "run" / f"{process}.pid"

    # --- processes -----------------------------------------------------------
    def pid(self, process: str) -> int | None:
        """The pid of `process` if it runs (a zombie or a recycled pid does not count)."""
        try:
            pid = int(self.pid_file(process).read_text())
        except (FileNotFoundError, ValueError):
            return None
        marker = MARKERS.get(process) or f"services.{process.split('-')[0]}"  # replicas: "intake-2"
        return pid if _alive(pid, marker) else None

    def _pid_state(self, process: str) -> str:
        """What the pid file points at, for error messages."""
        try:
            pid = int(self.pid_file(process).read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            return f"pid {pid}: {cmdline.strip() or 'no command line'}"
        except (FileNotFoundError, ValueError, ProcessLookupError) as error:
            return f"no live process: {type(error).__name__}"

    def _spawn(self, process: str, command: list[str], env: dict[str, str] | None = None) -> int:
        for folder in ("logs", "run", "traces"):
            (self.data / folder).mkdir(parents=True, exist_ok=True)
        with open(self.log_file(process), "ab") as log:
            child = subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        _wait_exec(child)
        self.pid_file(process).write_text(str(child.pid))
        return child.pid

    def stop(self, process: str, sig: signal.Signals = signal.SIGTERM, timeout: float = 20) -> None:
        """Stop one process (SIGTERM, then SIGKILL after `timeout`); SIGKILL stops at once."""
        pid = self.pid(process)
        if pid is not None:
            _signal(pid, sig)
            if not self._wait_gone(process, pid, timeout):
                _signal(pid, signal.SIGKILL)
                if not self._wait_gone(process, pid, 10):
                    raise StackError(f"{process} (pid {pid}) survived SIGKILL")
        self.pid_file(process).unlink(missing_ok=True)

    def _wait_gone(self, process: str, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(pid)
            if self.pid(process) is None:
                return True
            time.sleep(0.1)
        return False

    # --- infrastructure ------------------------------------------------------
    def start_kafka(self) -> None:
        if self.pid("kafka"):
            return
        ensure_kafka_jars()
        log_dir = self.data / "kafka"
        config = self.data / "kafka.properties"
        config.parent.mkdir(parents=True, exist_ok=True)
        shared = self.secrets()
        template = string.Template((KAFKA_DIR / "server.properties").read_text())
        write_private(  # it holds the administrator's password
            config,
            template.substitute(
                kafka_port=self.kafka_port,
                controller_port=self.kafka_port + 1,
                log_dir=log_dir,
                admin_password=shared["kafka.admin"],
                controller_password=shared["kafka.controller"],
            ),
        )
        if not (log_dir / "meta.properties").exists():
            admin = f"SCRAM-SHA-512=[name=admin,password={shared['kafka.admin']}]"
            command = ["format", "-t", _cluster_id(), "-c", str(config), "--standalone", "--add-scram", admin]
            subprocess.run([*_java(), "kafka.tools.StorageTool", *command], check=True, capture_output=True)
            (self.data / KAFKA_SECURED).touch()
        elif not (self.data / KAFKA_SECURED).exists():
            raise StackError(
                f"the broker data in {log_dir} predates authentication (no administrator user): "
                f"remove the stack's data to start afresh (motcua --stack {self.name} down; rm -rf {self.data})"
            )
        self._spawn("kafka", [*_java("-Xms256m", "-Xmx768m"), "kafka.Kafka", str(config)])

    def start_mongodb(self) -> None:
        """Start the database server with authentication required and every commit made durable
        before it is acknowledged (`--sync-on-commit`: a commit survives a crash of the server).
        On the first start of a new storage its administrator is created first, without
        authentication, on a server that listens only for that."""
        if self.pid("mongodb"):
            return
        storage = self.data / "mongodb"
        if not (self.data / MONGODB_PROVISIONED).exists():
            storage.mkdir(parents=True, exist_ok=True)
            self._spawn_mongodb(storage, "--log-level", "WARNING")
            client: MongoClient = MongoClient(
                f"mongodb://{self.mongo_address}/?replicaSet=secantus", serverSelectionTimeoutMS=60_000
            )
            try:
                password = self.secrets()["mongodb.admin"]
                client.admin.command("createUser", "admin", pwd=password, roles=[{"role": "root", "db": "admin"}])
            finally:
                client.close()
            self.stop("mongodb")
            (self.data / MONGODB_PROVISIONED).touch()
        durable = ("--sync-on-commit",) if self.sync_on_commit else ()
        self._spawn_mongodb(storage, "--log-level", "WARNING", "--auth", *durable)

    def _spawn_mongodb(self, storage: Path, *options: str) -> None:
        server = Path(sys.executable).parent / "secantusd-py"
        command = [str(server), "--host", "127.0.0.1", "--port", str(self.mongo_port), "--storage-path", str(storage)]
        self._spawn("mongodb", [*command, *options])

    def provision_mongodb(self) -> None:
        """One user per service, allowed only its own database, and the file store for the services
        that keep files in it (run as the administrator)."""
        client: MongoClient = MongoClient(self.mongo_url, serverSelectionTimeoutMS=30_000)
        try:
            existing = {user["user"] for user in client.admin.command("usersInfo")["users"]}
            for service in SERVICES:
                command = "updateUser" if service in existing else "createUser"
                roles = [{"role": "readWrite", "db": f"motcua_{service}"}]
                if service in FILE_STORE_USERS:
                    roles.append({"role": "readWrite", "db": FILES_DATABASE})
                client.admin.command(command, service, pwd=self.secrets()[f"mongodb.{service}"], roles=roles)
        finally:
            client.close()

    def wait_for_mongodb(self, timeout: float = 60) -> None:
        client: MongoClient = MongoClient(self.mongo_url, serverSelectionTimeoutMS=int(timeout * 1000))
        try:
            client.admin.command("ping")
        except Exception as exc:
            raise StackError(f"MongoDB-protocol server did not come up: {exc}\n{self.log_tail('mongodb')}") from exc
        finally:
            client.close()

    def provision_kafka(self, timeout: float = 120) -> None:
        """Wait for the broker, then create the registry's topics, users and ACLs."""
        shared = self.secrets()
        admin = admin_client(self.kafka_bootstrap, "admin", shared["kafka.admin"], "SASL_PLAINTEXT")
        try:
            provision(admin, {p: shared[f"kafka.{p}"] for p in principals()}, timeout)
        except Exception as exc:
            raise StackError(f"Kafka not provisioned: {exc}\n{self.log_tail('kafka')}") from exc

    # --- services ------------------------------------------------------------
    def service_env(self, service: str, replica: int = 1) -> dict[str, str]:
        """A service's settings in this stack: the development profile (logged by each service
        at start), the stack's addresses, and the generated secrets that service needs (no other)."""
        shared = self.secrets()
        keys = self.data / "keys"
        own: dict[str, dict[str, str]] = {
            "intake": {
                "MOTCUA_IDENTITY_HASH_KEY": shared["identity_hash_key"],
                "MOTCUA_RECEIPT_TOKEN_KEY": shared["receipt_token_key"],
                "MOTCUA_PERSONAL_DATA_KEY": shared["personal_data_key"],
                "MOTCUA_PUBLIC_URL": self.service_url("intake"),
                "MOTCUA_PAYMENT_URL": self.service_url("payment"),  # receipts link each fee's payment page
                "MOTCUA_NOTIFICATION_URL": self.service_url("notification"),  # complaint and preferences links
                # every client of a local stack comes from one address: raise the per-address limit
                "MOTCUA_TRACKING_PER_MINUTE": str(LOCAL_TRACKING_PER_MINUTE),
            },
            "payment": {
                "MOTCUA_GATEWAY_URL": self.gateway_url,
                "MOTCUA_GATEWAY_SECRET": shared["gateway_secret"],
                "MOTCUA_GATEWAY_PARTNER_CODE": LOCAL_PARTNER_CODE,
                "MOTCUA_GATEWAY_ADDRESSES": "127.0.0.1/32",  # the sandbox gateway calls back from this machine
                "MOTCUA_HMAC_GATEWAY_URL": self.gateway_url,  # the sandbox speaks both protocols
                "MOTCUA_HMAC_GATEWAY_SECRET": shared["gateway_hmac_secret"],
                "MOTCUA_HMAC_GATEWAY_TERMINAL": LOCAL_PARTNER_CODE,
                "MOTCUA_RECEIPT_TOKEN_KEY": shared["receipt_token_key"],  # pay links' tokens
                "MOTCUA_PUBLIC_URL": self.service_url("payment"),
                "MOTCUA_OIDC_ISSUER": self.issuer_url,  # counter payments, reconciliations
                "MOTCUA_FINANCE_OFFICIALS": LOCAL_FINANCE_OFFICIALS,
                "MOTCUA_PERSONAL_DATA_KEY": shared["personal_data_key"],  # seals the pay link for notification
            },
            "routing": {
                "MOTCUA_OIDC_ISSUER": self.issuer_url,
                "MOTCUA_APPROVAL_KEY_FILE": str(keys / APPROVAL_KEY),
                "MOTCUA_PERSONAL_DATA_KEY": shared["personal_data_key"],
            },
            "notification": {
                "MOTCUA_PERSONAL_DATA_KEY": shared["personal_data_key"],  # opens contacts and pay links
                "MOTCUA_RECEIPT_TOKEN_KEY": shared["receipt_token_key"],  # links: result, survey, complaint
                "MOTCUA_OIDC_ISSUER": self.issuer_url,  # officials answer complaints
                "MOTCUA_PUBLIC_URL": self.service_url("notification"),
                "MOTCUA_TRACKING_URL": self.service_url("intake"),
                "MOTCUA_SIGNING_URL": self.service_url("signing"),
                "MOTCUA_WORKSPACE_URL": f"{self.service_url('routing')}/queue",
                "MOTCUA_SMTP_PORT": str(self.smtp_port),
                "MOTCUA_SMS_URL": self.messaging_url,
                "MOTCUA_SMS_API_KEY": shared["sms_api_key"],
                "MOTCUA_SMS_CALLBACK_SECRET": shared["sms_callback_secret"],
                "MOTCUA_ZNS_URL": self.messaging_url,
                "MOTCUA_ZNS_ACCESS_TOKEN": shared["zns_access_token"],
                "MOTCUA_ZNS_SECRET": shared["zns_secret"],
                "MOTCUA_WEBHOOKS": json.dumps(
                    [
                        {
                            "name": WEBHOOK_SUBSCRIBER,
                            "url": f"{self.messaging_url}/hooks/{WEBHOOK_SUBSCRIBER}",
                            "secret": shared["webhook_secret"],
                        }
                    ]
                ),
            },
            "digitisation": {
                "MOTCUA_RECEIPT_TOKEN_KEY": shared["receipt_token_key"],  # owners' files, upload tokens
                "MOTCUA_PERSONAL_DATA_KEY": shared["personal_data_key"],  # opens the owner (e-data store)
                "MOTCUA_OIDC_ISSUER": self.issuer_url,  # officials' files and scans
                "MOTCUA_TRUST_ROOTS_FILE": str(self.pki_dir / "root-ca.pem"),  # officers' scan signatures
                # every client of a local stack comes from one address: raise the per-address limit
                "MOTCUA_UPLOADS_PER_MINUTE": str(LOCAL_UPLOADS_PER_MINUTE),
            },
            "stats": {
                "MOTCUA_OIDC_ISSUER": self.issuer_url,  # administrators start rebuilds
            },
            "signing": {
                "MOTCUA_APPROVAL_PUBLIC_KEY_FILE": str(public_key_path(keys / APPROVAL_KEY)),
                "MOTCUA_RECEIPT_TOKEN_KEY": shared["receipt_token_key"],  # results open with the receipt's token
                "MOTCUA_OIDC_ISSUER": self.issuer_url,  # or an official's
                "MOTCUA_PERSONAL_DATA_KEY": shared["personal_data_key"],  # opens the holder's name
                "MOTCUA_PKCS11_PIN": shared["signing_pin"],
                "MOTCUA_CA_CERTIFICATES_FILE": str(self.pki_dir / "issuing-ca.pem"),
                "MOTCUA_TRUST_ROOTS_FILE": str(self.pki_dir / "root-ca.pem"),
                "MOTCUA_TSA_URL": self.tsa_url,
                "MOTCUA_PUBLIC_URL": self.service_url("signing"),
                **pki.softhsm_env(self.pki_dir),
            },
        }
        return {
            "MOTCUA_PROFILE": "development",
            "MOTCUA_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "MOTCUA_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",  # loopback; a cluster uses SASL_SSL
            "MOTCUA_KAFKA_USERNAME": service,
            "MOTCUA_KAFKA_PASSWORD": shared[f"kafka.{service}"],
            "MOTCUA_MONGO_URL": self.mongo_url_of(service),
            "MOTCUA_HTTP_PORT": str(self.service_port(service, replica)),
            "MOTCUA_TRACE_FILE": str(self.trace_file(service)),
            **own.get(service, {}),
            **self.settings.get(service, {}),
        }

    def make_keys(self) -> None:
        """Routing's approval key pair, and the development PKI (its keys in SoftHSM2 tokens): made
        on the first start, completed on later ones (a new leader in the officials' file gets a
        certificate), before the services start."""
        if not (self.data / "keys" / APPROVAL_KEY).exists():
            write_key_pair(self.data / "keys" / APPROVAL_KEY)
        self.pki("init", "--ca-url", self.ca_url, "--tsa-url", self.tsa_url, "--officials", str(self.signers_file()))

    def signers_file(self) -> Path:
        """The officials the development CA issues personal certificates to: the sample officials
        and the leaders and receiving officers the officer simulator may add to any unit."""
        officials = json.loads(Path(pki.OFFICIALS_FILE).read_text(encoding="utf-8"))["officials"]
        units = json.loads(Path(pki.UNITS_FILE).read_text(encoding="utf-8"))
        codes = [units["province"]["code"], *(u["code"] for u in units["departments"] + units["communes"])]
        path = self.pki_dir.parent / "signers.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"officials": officials + simulated_signers(codes)}, ensure_ascii=False))
        return path

    def pki(self, *arguments: str) -> str:
        """`python -m infra.pki` on this stack's PKI, in its own process (a process loads one
        SoftHSM2 configuration for good): `init`, `issue`, `revoke`, `list`."""
        pins = self.secrets()
        env = {
            **os.environ,
            "MOTCUA_PKI_DIR": str(self.pki_dir),
            **{f"MOTCUA_{name.upper()}": pins[name] for name in PKI_PINS},
        }
        run = subprocess.run(
            [sys.executable, "-m", "infra.pki", "--dir", str(self.pki_dir), *arguments],
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise StackError(f"infra.pki {arguments[0]} failed:\n{run.stdout}{run.stderr}")
        return run.stdout

    def start_service(self, service: str, replica: int = 1, env: dict[str, str] | None = None) -> None:
        """Start a service process; replicas beyond the first join the same consumer group.
        `env` overrides the stack's settings for this process."""
        process = replica_name(service, replica)
        if not self.pid(process):
            self._spawn(
                process,
                [sys.executable, "-m", f"services.{service}"],
                {**self.service_env(service, replica), **(env or {})},
            )

    def wait_ready(self, service: str, timeout: float = 90, replica: int = 1) -> None:
        self._wait_ready(replica_name(service, replica), self.service_url(service, replica), timeout)

    def _wait_ready(self, process: str, url: str, timeout: float) -> None:
        """Wait until the process at `url` answers 200 on /ready; fail early if it exits."""
        deadline, missing = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            # gone at three looks in a row: a process in the middle of exec can look gone once
            missing = missing + 1 if self.pid(process) is None else 0
            if missing >= 3:
                raise StackError(f"{process} exited ({self._pid_state(process)})\n{self.log_tail(process)}")
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise StackError(f"{process} not ready after {timeout}s\n{self.log_tail(process)}")

    # --- the development identity provider -----------------------------------
    def issuer_env(self) -> dict[str, str]:
        return {
            "MOTCUA_ISSUER_URL": self.issuer_url,
            "MOTCUA_HTTP_PORT": str(self.issuer_port),
            "MOTCUA_ISSUER_KEY_FILE": str(self.data / "keys" / "issuer-key.pem"),
        }

    def gateway_env(self) -> dict[str, str]:
        return {
            "MOTCUA_HTTP_PORT": str(self.gateway_port),
            "MOTCUA_GATEWAY_URL": self.gateway_url,
            "MOTCUA_GATEWAY_SECRET": self.secrets()["gateway_secret"],
            "MOTCUA_GATEWAY_PARTNER_CODE": LOCAL_PARTNER_CODE,
            "MOTCUA_GATEWAY_HMAC_SECRET": self.secrets()["gateway_hmac_secret"],
            "MOTCUA_GATEWAY_IPN_URL": f"{self.service_url('payment')}/payments/ipn",
            "MOTCUA_GATEWAY_CARD_IPN_URL": f"{self.service_url('payment')}/payments/ipn/card",
        }

    def messaging_env(self) -> dict[str, str]:
        """The sandbox providers: the same secrets as notification, ZNS templates registered from
        notification's own, delivery reports to notification."""
        shared = self.secrets()
        registry = self.data / "zns-templates.json"
        registry.parent.mkdir(parents=True, exist_ok=True)
        registry.write_text(json.dumps(load_templates().zns_registry(), ensure_ascii=False), encoding="utf-8")
        return {
            "MOTCUA_HTTP_PORT": str(self.first_service_port + 12),
            "MOTCUA_SMTP_PORT": str(self.smtp_port),
            "MOTCUA_SMS_API_KEY": shared["sms_api_key"],
            "MOTCUA_SMS_CALLBACK_SECRET": shared["sms_callback_secret"],
            "MOTCUA_ZNS_ACCESS_TOKEN": shared["zns_access_token"],
            "MOTCUA_ZNS_SECRET": shared["zns_secret"],
            "MOTCUA_ZNS_WEBHOOK_URL": f"{self.service_url('notification')}/deliveries/zns",
            "MOTCUA_ZNS_TEMPLATES_FILE": str(registry),
            "MOTCUA_WEBHOOK_SECRET": shared["webhook_secret"],
        }

    def trust_env(self, port: int) -> dict[str, str]:
        """The CA's and the TSA's environment: their PKI, its token's PIN, their port."""
        return {
            "MOTCUA_HTTP_PORT": str(port),
            "MOTCUA_PKI_DIR": str(self.pki_dir),
            "MOTCUA_CA_PIN": self.secrets()["ca_pin"],
            **pki.softhsm_env(self.pki_dir),
        }

    def start_outside_parties(self) -> None:
        """Start the development issuer, the sandbox payment gateway, the CA and the timestamp
        authority (never in a deployment)."""
        commands = {
            ISSUER: ([sys.executable, "-m", "infra.issuer"], self.issuer_env()),
            GATEWAY: ([sys.executable, "-m", "infra.gateway"], self.gateway_env()),
            CA: ([sys.executable, "-m", "infra.ca"], self.trust_env(self.first_service_port + 10)),
            TSA: ([sys.executable, "-m", "infra.tsa"], self.trust_env(self.first_service_port + 11)),
            MESSAGING: ([sys.executable, "-m", "infra.messaging"], self.messaging_env()),
        }
        for process, (command, env) in commands.items():
            if not self.pid(process):
                self._spawn(process, command, env)

    def wait_outside_parties_ready(self, timeout: float = 30) -> None:
        self._wait_ready(ISSUER, self.issuer_url, timeout)
        self._wait_ready(GATEWAY, self.gateway_url, timeout)
        self._wait_ready(CA, self.ca_url, timeout)
        self._wait_ready(TSA, self.tsa_url.removesuffix("/tsa"), timeout)
        self._wait_ready(MESSAGING, self.messaging_url, timeout)

    # --- the whole stack -----------------------------------------------------
    def up(self, services: tuple[str, ...] = SERVICES) -> None:
        """Start infrastructure, the outside parties and services; return when every service is ready."""
        self.make_keys()
        self.start_mongodb()
        self.start_kafka()
        self.start_outside_parties()
        self.wait_for_mongodb()
        self.provision_mongodb()
        self.provision_kafka()
        self.wait_outside_parties_ready()
        for service in services:
            self.start_service(service)
        for service in services:
            self.wait_ready(service)

    def down(self) -> None:
        """Stop every service process (replicas included) and the outside parties, then the infrastructure."""
        running = {path.stem for path in (self.data / "run").glob("*.pid")}
        for process in sorted(running - set(INFRA)):
            self.stop(process)
        for process in INFRA:
            self.stop(process)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from its first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode on open: tighten it
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def ensure_kafka_jars() -> None:
    """Fetch the Kafka broker's jars from Maven Central once."""
    if KAFKA_LIB.exists() and any(KAFKA_LIB.glob("kafka_2.13-*.jar")):
        return
    subprocess.run(["mvn", "-q", "-f", str(KAFKA_DIR / "pom.xml"), "dependency:copy-dependencies"], check=True)


def _cluster_id() -> str:
    """A Kafka cluster id: a random UUID in URL-safe base64, never starting with "-"
    (the storage tool would read that as an option; Kafka's own generator avoids it too)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _java(*options: str) -> list[str]:
    return ["java", *options, f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.yaml'}", "-cp", f"{KAFKA_LIB}/*"]


MARKERS = {
    "kafka": "kafka.Kafka",
    "mongodb": "secantusd",
    ISSUER: "infra.issuer",
    GATEWAY: "infra.gateway",
    CA: "infra.ca",
    TSA: "infra.tsa",
    MESSAGING: "infra.messaging",
}


def replica_name(service: str, replica: int) -> str:
    """Process name of a service replica: "intake", "intake-2", ..."""
    return service if replica == 1 else f"{service}-{replica}"


def _alive(pid: int, marker: str) -> bool:
    """True if `pid` is a live process whose command line contains `marker`."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return marker.encode() in cmdline.read()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _wait_exec(child: subprocess.Popen, timeout: float = 5) -> None:
    """Wait until the forked child runs its own program: until then its command line is
    ours, and a liveness check by command line would take it for dead."""
    own = Path("/proc/self/cmdline").read_bytes()
    deadline = time.monotonic() + timeout
    while child.poll() is None and time.monotonic() < deadline:
        try:
            if Path(f"/proc/{child.pid}/cmdline").read_bytes() not in (own, b""):
                return
        except FileNotFoundError:
            return
        time.sleep(0.01)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    """Collect a child that exited, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
