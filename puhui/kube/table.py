"""What runs in the cluster, written once: every workload, its size, the topics, the names of
the operators' resources. deploy/k8s/base is generated from this (`python -m puhui.kube`).

A consumer service is every name of `services.bootstrap.SERVICES` (`puhui service NAME`): a
new one gets its Deployment, Service, PodDisruptionBudget and scrape target from that list
and needs one line here, its `SIZING` (from its `puhui bench` figures). A workload started
some other way (finance review; a faust worker) is one `Workload` in `OTHER_WORKLOADS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version

from puhui.settings import DATABASE_SERVICES, METRICS_PORTS
from puhui.stack.kafka import LOG_RETENTION_HOURS
from schemas.topics import PARTITIONS, topic_configs
from services.bootstrap import SERVICES
from services.runtime.health import LIVE_PATH, READY_PATH

PART_OF = "puhui"
IMAGE = f"puhui:{version('puhui')}"  # Dockerfile; its ENTRYPOINT is `puhui`
KAFKA_CLUSTER = "puhui"  # Strimzi: the bootstrap Service is <cluster>-kafka-bootstrap
KAFKA_PORT = 9092
KAFKA_BOOTSTRAP = f"{KAFKA_CLUSTER}-kafka-bootstrap:{KAFKA_PORT}"
DATABASE_CLUSTER = "puhui-db"  # CloudNativePG: Services <cluster>-rw, Secret <cluster>-app
DATABASE_NAME = "puhui"
DATABASE_URL = f"postgresql://{DATABASE_CLUSTER}-rw:5432/{DATABASE_NAME}"
APP_SECRET = f"{DATABASE_CLUSTER}-app"  # made by CloudNativePG: username, password, uri, ...
"""The schema owner's sign-in: only the migrate Job reads it."""
PASSWORD_KEY = "password"  # noqa: S105  # the key's name in the Secret, not a password
AUDIT_KEY_SECRET = "puhui-audit-anchors"  # noqa: S105  # a Secret's name; its key `key`: `puhui audit keygen`'s file
AUDIT_KEY_DIR = "/run/secrets/audit-anchors"
AUDIT_ANCHOR_SECONDS = 300  # docker-compose.yml's
MIGRATE_JOB = f"puhui-migrate-{version('puhui').replace('.', '-')}"
"""One Job per release (a Job's template cannot change): `puhui db migrate` as the owner."""


def role_secret(service: str) -> str:
    """The Secret with the password (key `password`) of `service`'s own PostgreSQL role: the
    migrate Job sets it, the service signs in with it (docs/deploy.md says who makes it)."""
    return f"{DATABASE_CLUSTER}-{service}"
RETENTION_MS = LOG_RETENTION_HOURS * 3600 * 1000
"""The broker's retention, which every topic but the inbound ones keeps."""


def topic_table() -> dict[str, int]:
    """Every topic and its partition count: the one place deploy/k8s reads them from."""
    return dict(PARTITIONS)


def topic_retention_ms() -> dict[str, int]:
    """Every topic's retention: `puhui stack`'s per-topic configs (the inbound topics keep
    `INBOUND_RETENTION_DAYS`), else the broker's."""
    return {name: int(config.get("retention.ms", RETENTION_MS))
            for name, config in topic_configs().items()}


@dataclass(frozen=True)
class Sizing:
    """Requests and limits of one replica. `peak_rss_mb` is the highest peak RSS that
    docs/bench.md reports for the service (None: not measured); memory requests cover it
    with a quarter to spare, the limit is twice the request. CPU is requested, not limited:
    a throttled consumer only falls behind."""

    cpu_millicores: int
    memory_request_mi: int
    peak_rss_mb: int | None = None

    @property
    def memory_limit_mi(self) -> int:
        return 2 * self.memory_request_mi


SIZING: dict[str, Sizing] = {
    # docs/bench.md, full day: peak RSS 92 / 193 / 71 / 67 MB (later default runs: up to 105 /
    # 136 / 78 / 89, so the peaks are the larger of the two); CPU per card event 111 µs
    # (disbursement), 31 µs (audit), 24 µs (relay) at ~5,000 card events/s. Enrolment's
    # CPU was not measured per event: 250m is a guess. Disbursement: 229 MB in the full day
    # of 2026-12-03 15:53 (184 MB in the morning's; not explained, see docs/bench.md).
    "enrolment": Sizing(cpu_millicores=250, memory_request_mi=128, peak_rss_mb=105),
    "disbursement": Sizing(cpu_millicores=500, memory_request_mi=288, peak_rss_mb=229),
    # audit and relay: 82 and 92 MB in the default run of 2026-12-02 12:24 (docs/bench.md)
    "audit": Sizing(cpu_millicores=150, memory_request_mi=104, peak_rss_mb=82),
    "relay": Sizing(cpu_millicores=125, memory_request_mi=112, peak_rss_mb=92),
    # services/watch: peak RSS 588 MB and 271 µs CPU per card event in `puhui bench
    # --full-day` (777,755 card events, one day) of 2026-12-03 (docs/bench.md). Requested
    # for what a live watch is projected to need, not measured: its join keeps a day's
    # pairings until 3 days after that day, so up to four days of them, 4 × (588 − 82 MB at
    # start) + 82 ≈ 2.1 GB, with a quarter to spare (advice, not money)
    "watch": Sizing(cpu_millicores=250, memory_request_mi=2560, peak_rss_mb=588),
}


@dataclass(frozen=True)
class Workload:
    """One Deployment, its Service and its PodDisruptionBudget."""

    name: str
    args: tuple[str, ...]  # after the image's entrypoint
    port_name: str
    port: int
    live_path: str
    ready_path: str
    sizing: Sizing
    replicas: int = 1
    service_port: int | None = None  # the Service's port, when not the container's
    kafka: bool = True  # gets PUHUI_KAFKA_BOOTSTRAP
    scraped: bool = True  # serves /metrics on its port
    env: tuple[tuple[str, str], ...] = ()  # its own settings, beside everyone's


def consumer(name: str) -> Workload:
    """A `puhui service NAME` process: metrics and probes on its metrics port."""
    return Workload(name=name, args=("service", name), port_name="metrics",
                    port=METRICS_PORTS[name], live_path=LIVE_PATH, ready_path=READY_PATH,
                    sizing=SIZING[name], replicas=REPLICAS.get(name, 1), env=ENV.get(name, ()))


ENV = {
    # faust's own files go under the pod's one writable place (its tables live in memory and
    # come back from their changelogs; nothing there needs to outlive the pod)
    "watch": (("PUHUI_WATCH_STATE_DIR", "/tmp/puhui-watch"),),  # noqa: S108  # an emptyDir
}


REPLICAS = {"disbursement": 2}
"""Base replicas where not 1 (the overlays change them): only disbursement scales out, up to
`card.transactions`' partitions (docs/deploy.md)."""

FINANCE = Workload(
    name="finance", args=("finance", "serve", "--host", "0.0.0.0", "--port", "8080"),  # noqa: S104  # the pod's own address
    port_name="http", port=8080, service_port=80,
    # the schema answers without a session, once the app has its pool (uvicorn listens only
    # after start-up, migrations included)
    live_path="/api/openapi.json", ready_path="/api/openapi.json",
    # not benchmarked: an HTTP app with a pool of 8; requests are a guess
    sizing=Sizing(cpu_millicores=100, memory_request_mi=192),
    replicas=2, kafka=True, scraped=False)  # kafka: the What if page replays the record

OTHER_WORKLOADS: tuple[Workload, ...] = (FINANCE,)


def database_roles() -> tuple[str, ...]:
    """The services the migrate Job gives a password (each one's own role)."""
    return DATABASE_SERVICES


def workloads() -> tuple[Workload, ...]:
    return (*(consumer(name) for name in SERVICES), *OTHER_WORKLOADS)
