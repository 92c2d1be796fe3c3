"""A Prometheus inside a deployed stack's network, on the rendered infra/prometheus/ configuration,
so that the acceptance run reads its figures from the services' own metrics too.

No image can be pulled here: the image is the backend's with Debian's `prometheus` binary (it needs
only libc) copied in. The service publishes its port on the host (mode host, as Caddy does), and
scrapes every second instead of the configuration's 15 s.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from deploy.docker_cli import DockerError, docker, exists
from servicekit.prometheus_server import prometheus_binary
from servicekit.waiting import answers_200, wait_until

CONFIG_DIR = Path("infra/prometheus")
SCRAPE_INTERVAL = "1s"


class StackPrometheus:
    def __init__(self, stack: str, network: str, port: int) -> None:
        self.service = f"{stack}_prometheus"
        self.network = network
        self.url = f"http://127.0.0.1:{port}"
        self._port = port
        self.image = ""

    def start(self, base_image: str) -> None:
        """Builds the image on `base_image` and runs the service; returns once it answers."""
        binary = prometheus_binary()
        self.image = f"specfirst/prometheus-acceptance:{int(time.time())}"
        with tempfile.TemporaryDirectory() as context:
            shutil.copy(binary, Path(context, "prometheus"))
            config = yaml.safe_load((CONFIG_DIR / "prometheus.yml").read_text())
            config["global"].update(scrape_interval=SCRAPE_INTERVAL, evaluation_interval="1s")
            Path(context, "prometheus.yml").write_text(yaml.safe_dump(config))
            shutil.copy(CONFIG_DIR / "alerts.yml", context)
            Path(context, "Dockerfile").write_text(
                f"FROM {base_image}\n"
                "COPY prometheus /usr/local/bin/prometheus\n"
                "COPY prometheus.yml alerts.yml /etc/prometheus/\n"
                'ENTRYPOINT ["/usr/local/bin/prometheus", "--config.file=/etc/prometheus/'
                'prometheus.yml", "--storage.tsdb.path=/tmp/prometheus", '
                '"--web.listen-address=0.0.0.0:9090"]\n'
            )
            docker("build", "-q", "-t", self.image, context)
        docker(
            *("service", "create", "--detach", "--name", self.service),
            *("--network", self.network),
            *("--publish", f"mode=host,target=9090,published={self._port}"),
            self.image,
        )
        wait_until(lambda: answers_200(f"{self.url}/-/ready"), 120, f"{self.service} ready")

    def query(self, promql: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def value(self, promql: str) -> float:
        """The sum of a query's values (0 when it has none)."""
        return sum(float(sample["value"][1]) for sample in self.query(promql))

    def targets_up(self, job: str) -> int:
        return int(self.value(f'sum(up{{job="{job}"}})'))

    def remove(self) -> None:
        if exists("service", self.service):
            docker("service", "rm", self.service)
        if self.image:
            # The service's container goes first; its image can go once it has.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    docker("image", "rm", self.image)
                    return
                except DockerError:  # still in use by the stopping container
                    time.sleep(1)
