"""Apache Kafka 4.x in KRaft mode from its Maven Central artifacts, one broker on loopback.

The jars are resolved once by Maven into ``.cache/kafka/<version>/libs`` of the checkout (a lock
keeps two first runs from resolving at once); each broker gets its own folder for storage, config
and logs, formatted with a fresh cluster id, and listens on free ports.
"""

import base64
import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kamu_devstack.errors import InfraError
from kamu_devstack.paths import cache_dir, kafka_pom
from kamu_devstack.ports import LOOPBACK, free_port, port_accepts
from kamu_devstack.processes import pid_alive, run, spawn, stop_group
from kamu_devstack.watched import minutes, run_watched

MAVEN_TIMEOUT = 900.0  # seconds for a first resolve (about a minute on a good network)
JVM_OPTIONS = [
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
]

# Sized for a 2-core machine; a single broker needs replication factor 1 for internal topics.
BROKER_SETTINGS = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "10",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "num.partitions": "3",
    "num.network.threads": "2",
    "num.io.threads": "2",
    "log.cleaner.dedupe.buffer.size": "33554432",
    "auto.create.topics.enable": "false",
}

LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
"""


def kafka_version() -> str:
    """The Kafka version pinned in the project's pom."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(kafka_pom()).getroot().find("m:properties/m:kafka.version", ns)  # noqa: S314 - our own file
    if node is None or not node.text:
        raise InfraError(f"{kafka_pom()} does not pin kafka.version")
    return node.text.strip()


def java_major(java: str) -> int:
    """The major version of the given ``java`` executable."""
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise InfraError(f"could not read the Java version from: {out.strip()!r}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def require_java() -> str:
    """The ``java`` to run Kafka with (17 or newer), or an error naming what to install."""
    java_home = os.environ.get("JAVA_HOME")
    java = (java_home and shutil.which("java", path=f"{java_home}/bin")) or shutil.which("java")
    if java is None:
        raise InfraError(
            "Kafka needs Java 17 or newer and no `java` was found on PATH. Install a JDK or JRE, "
            "for example `apt-get install openjdk-17-jre-headless`, or set JAVA_HOME. "
            "Or point KAMU_KAFKA_BOOTSTRAP at a running broker."
        )
    if (major := java_major(java)) < 17:
        raise InfraError(f"Kafka 4 needs Java 17 or newer; {java} is Java {major}.")
    return java


def ensure_jars(
    progress: bool = True,
    say: Callable[[str], None] | None = None,
    timeout: float = MAVEN_TIMEOUT,
) -> Path:
    """Folder holding the broker's class path, resolved by Maven on first use: with a line
    every 15 s while Maven runs (to ``say``, else printed unless ``progress`` is false) and a
    limit of ``timeout`` seconds."""
    version = kafka_version()
    libs = cache_dir() / "kafka" / version / "libs"
    done = libs.parent / ".resolved"
    if done.exists():
        return libs

    def tell(line: str) -> None:
        if say is not None:
            say(line)
        elif progress:
            print(line, flush=True)

    libs.parent.mkdir(parents=True, exist_ok=True)
    with (libs.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise InfraError(
                "Resolving Apache Kafka's jars needs Maven and no `mvn` was found on PATH. "
                "Install it, for example `apt-get install maven`, "
                "or point KAMU_KAFKA_BOOTSTRAP at a running broker."
            )
        tell(
            f"kafka: resolving Apache Kafka {version} and its dependencies with Maven "
            "(first run only) ..."
        )
        started = time.monotonic()
        shutil.rmtree(libs, ignore_errors=True)
        run_watched(
            [
                mvn,
                "-B",
                "-q",
                "-f",
                str(kafka_pom()),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={libs}",
                "-DincludeScope=runtime",
            ],
            what="kafka: resolving Kafka's jars with Maven",
            hint="is the Maven repository reachable?",
            say=tell,
            deadline=started + timeout,
        )
        done.write_text(version + "\n")
        jars = len(list(libs.glob("*.jar")))
        tell(f"kafka: {jars} jars resolved in {minutes(time.monotonic() - started)}")
    return libs


def cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding. Never one that
    starts with ``-`` (1 in 64 would): ``kafka-storage format -t -abc...`` reads it as an option
    and refuses to start."""
    while (made := base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode())[0] == "-":
        pass
    return made


@dataclass
class KafkaBroker:
    """One single-node KRaft broker living in ``home`` (storage, config, logs)."""

    home: Path
    port: int = 0
    controller_port: int = 0
    pid: int = 0

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.home / "kafka.log"

    def start(self, timeout: float = 90.0, attempts: int = 3) -> None:
        """Format the storage if new and start the broker; return once clients can connect."""
        java = require_java()
        libs = ensure_jars()
        for attempt in range(1, attempts + 1):
            self._configure()
            if not (self.home / "data" / "meta.properties").exists():
                self._format(java, libs)
            proc = spawn(
                [
                    java,
                    *JVM_OPTIONS,
                    f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
                    "-cp",
                    f"{libs}/*",
                    "kafka.Kafka",
                    str(self.home / "server.properties"),
                ],
                self.home / "stdout.log",
            )
            self.pid = proc.pid
            if self._wait_ready(proc, timeout):
                return
            stop_group(self.pid)
            if attempt == attempts:
                raise InfraError(
                    f"Kafka did not become ready in {timeout:g}s; see {self.log_file} and "
                    f"{self.home / 'stdout.log'}"
                )
            self.port = self.controller_port = 0  # lost a port race: try fresh ports

    def stop(self) -> None:
        """Stop the broker cleanly (SIGTERM), forcefully if it does not stop in time."""
        if self.pid and pid_alive(self.pid):
            stop_group(self.pid, timeout=30.0)

    def kill(self) -> None:
        """``kill -9`` of the broker's process group, as a crash would: nothing is flushed or
        handed over. :meth:`start` brings it back on the same ports and data (log recovery)."""
        if not (self.pid and pid_alive(self.pid)):
            return
        os.killpg(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pid_alive(self.pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):  # reap it if it is our child
                os.waitpid(self.pid, os.WNOHANG)
            time.sleep(0.02)
        if pid_alive(self.pid):
            raise InfraError(f"Kafka (pid {self.pid}) did not exit after SIGKILL")

    def _configure(self) -> None:
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.controller_port = self.controller_port or free_port()
        settings = {
            **BROKER_SETTINGS,
            "listeners": f"PLAINTEXT://{LOOPBACK}:{self.port},CONTROLLER://{LOOPBACK}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{self.port}",
            "controller.quorum.voters": f"1@{LOOPBACK}:{self.controller_port}",
            "log.dirs": str(self.home / "data"),
        }
        (self.home / "server.properties").write_text(
            "".join(f"{k}={v}\n" for k, v in settings.items())
        )
        (self.home / "log4j2.properties").write_text(LOG4J2.format(log=self.log_file))

    def _format(self, java: str, libs: Path) -> None:
        run(
            [
                java,
                *JVM_OPTIONS,
                f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
                "-cp",
                f"{libs}/*",
                "kafka.tools.StorageTool",
                "format",
                "--ignore-formatted",
                "-t",
                cluster_id(),
                "-c",
                str(self.home / "server.properties"),
            ],
            "formatting Kafka's storage",
        )

    def _wait_ready(self, proc: subprocess.Popen[bytes], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            if port_accepts(self.port):
                return True
            time.sleep(0.1)
        return False
