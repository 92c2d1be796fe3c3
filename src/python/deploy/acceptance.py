"""The Swarm acceptance test CI runs (build-support/bin/swarm-acceptance): the real stack on a real
swarm, driven from outside through Caddy.

1. Deploy infra/swarm/stack.yml as the deploy command does (phases, secrets, migrations).
2. Smoke: without a token a write is refused (401); with an admin's token (the backend image's
   mint command, the operator's key) create a user through Caddy; the bot's welcome reaches a
   fake Telegram (on this host). Swagger UI at /backend/docs loads under the CSP. Least privilege: Caddy's security headers; from inside a backend task, Redis refuses a client
   without the password, the database role is no superuser, the environment is the backend's own.
3. Metrics: a Prometheus on the rendered infra/prometheus/ configuration, in the stack's network
   (deploy.stack_prometheus), scrapes every replica; under a steady load the backend's
   http_requests_total agrees with the load generator's count within 1%.
4. Kill one backend task (`docker kill`) under load: failed requests, seconds until replaced.
   Clients that send Idempotency-Keys and retry (deploy.load, keyed) must lose none.
5. Roll the backend to a new image under load: failed requests (keyed: none), seconds to
   converge. Then to an
   image that never gets healthy: Swarm rolls back, the deploy fails saying so, the old tasks serve.
6. Scale tg_bot from 1 to 3 while users are created: every welcome is sent exactly once.
7. Remove the stack, its volumes and secrets (and leave the swarm if this test created it).

Load comes from threads of this process: key-less clients that never retry, beside keyed ones
that retry as a careful client does; figures go to stdout and a JSON file.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import re
import socket
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from deploy import converge, least_privilege
from deploy.docker_cli import DockerError, docker, inspect, inspect_tasks, lines
from deploy.load import Client, Load, LoadReport, Request
from deploy.stack_file import StackFile
from deploy.stack_prometheus import StackPrometheus
from deploy.swarm import Deployment, DeployError, images_built_by_pants
from servicekit.auth.client import SERVICE
from servicekit.auth.keys import SigningKey, VerificationKeys, generate_signing_key
from servicekit.waiting import free_port, wait_until
from tg_bot.fake_telegram import FakeTelegram
from tg_bot.notifications import WELCOME

STACK = "specfirst"
# What Caddy adds to every answer (infra/caddy/Caddyfile).
SECURITY_HEADERS = (
    "content-security-policy",
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
)


class AcceptanceError(AssertionError):
    pass


def require_no_keyed_failure(phase: str, keyed: LoadReport) -> None:
    """Clients that send keys and retry lose nothing (#23): a dead replica's POST is sent again."""
    if keyed.failed:
        raise AcceptanceError(f"{phase}: clients sending Idempotency-Keys lost {keyed.describe()}")


def say(message: str) -> None:
    print(f"swarm-acceptance: {message}", flush=True)


def host_address() -> str:
    """This host's address on its default route: swarm tasks reach it through their gateway."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("203.0.113.1", 9))  # no packet is sent: this only picks the route
        return probe.getsockname()[0]


def ensure_swarm(stack: ExitStack) -> None:
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip()
    if state == "active":
        say("using the active swarm")
        return
    docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    say("initialised a single-node swarm")
    stack.callback(lambda: docker("swarm", "leave", "--force"))


@dataclass(frozen=True)
class Rollout:
    load: LoadReport
    keyed: LoadReport  # of the clients that send Idempotency-Keys and retry
    seconds: float
    timings: dict[str, float]
    error: converge.ConvergeError | None


class Acceptance:
    def __init__(
        self,
        deployment: Deployment,
        telegram: FakeTelegram,
        https_port: int,
        operator_key: SigningKey,
    ) -> None:
        self.deployment = deployment
        self.telegram = telegram
        self.https_port = https_port
        self.operator_key = operator_key
        self.token: str | None = None  # an admin's, once deployed
        self.figures: dict[str, Any] = {}
        self.images_made_here: list[str] = []
        self._telegram_ids = itertools.count(random.randrange(10**9, 2 * 10**9))

    def service(self, name: str) -> str:
        return f"{self.deployment.name}_{name}"

    def client(self) -> Client:
        return Client("localhost", self.https_port, self.token)

    def mint_admin_token(self) -> str:
        """The documented way: the backend image's mint command, with the operator's key (which no
        service of the stack holds)."""
        image = self.deployment.image_variables()["BACKEND_IMAGE"]
        return docker(
            *("run", "--rm", "-e", "AUTH_SIGNING_KEY", "--entrypoint", "/app/bin/python", image),
            *("-m", "servicekit.auth.mint", "admin", "--audience", "backend", "--ttl", "7200"),
            env={**os.environ, "AUTH_SIGNING_KEY": json.dumps(self.operator_key.to_jwk())},
        ).strip()

    def create_user(self, client: Client) -> int:
        telegram_id = next(self._telegram_ids)
        status, body = client.send("POST", "/backend/users", {"telegram_id": telegram_id})
        if status != 201:
            raise AcceptanceError(f"POST /backend/users answered {status}: {body!r}")
        return telegram_id

    def requests(self) -> Callable[[], Request]:
        """Reads of a known user, and now and then a new user (a write and an event)."""
        client = self.client()
        _, user = client.send("POST", "/backend/users", {"telegram_id": next(self._telegram_ids)})
        client.close()
        kinds = itertools.cycle(["read"] * 4 + ["write"])

        def next_request() -> Request:
            if next(kinds) == "write":
                return ("POST", "/backend/users", {"telegram_id": next(self._telegram_ids)})
            return ("GET", f"/backend/users/{user['id']}", None)

        return next_request

    def load(self, keyed: bool = False) -> Load:
        """Key-less: 4 clients that never retry. Keyed: 2 that send Idempotency-Keys and retry."""
        workers = 2 if keyed else 4
        return Load(
            "localhost", self.https_port, self.requests(), self.token, workers=workers, keyed=keyed
        )

    def deploy(self) -> None:
        start = time.monotonic()
        timings = self.deployment.run()
        self.figures["first_deploy_seconds"] = round(time.monotonic() - start, 1)
        self.figures["first_deploy_phases"] = {k: round(v, 1) for k, v in timings.items()}
        say(f"deployed in {self.figures['first_deploy_seconds']} s")
        print(self.deployment.state(), flush=True)
        self.token = self.mint_admin_token()

    def smoke(self) -> None:
        client = self.client()

        def ready() -> bool:
            try:
                return client.send("GET", "/backend/health/ready")[0] == 200
            except (OSError, http.client.HTTPException):
                return False

        # Caddy's first answers wait for its certificate and its first lookups.
        wait_until(ready, 60, "200 from GET /backend/health/ready through Caddy")
        anonymous = Client("localhost", self.https_port)
        status, _ = anonymous.send("POST", "/backend/users", {"telegram_id": 1})
        anonymous.close()
        if status != 401:
            raise AcceptanceError(f"POST /backend/users without a token answered {status}")
        telegram_id = self.create_user(client)
        client.close()
        seconds = wait_until(
            lambda: WELCOME in self.telegram.messages_to(telegram_id), 60, "the welcome"
        )
        say(f"smoke: user {telegram_id} created through Caddy, welcomed {seconds:.1f} s later")

    def docs_under_csp(self) -> None:
        """Swagger UI through Caddy: its page runs no inline script (which the CSP blocks), and
        loads only what this site serves."""
        client = self.client()
        status, headers, page = client.exchange("GET", "/backend/docs")
        if status != 200 or "content-security-policy" not in headers:
            raise AcceptanceError(f"GET /backend/docs answered {status} with {headers}")
        html = page.decode()
        scripts = re.findall(r"<script([^>]*)>", html)
        if not scripts or any("src=" not in script for script in scripts):
            raise AcceptanceError(f"/backend/docs runs an inline script the CSP blocks: {html}")
        loaded = re.findall(r'(?:src|href)="([^"]+)"', html)
        for url in loaded:
            status, _, _ = client.exchange("GET", url)
            if not url.startswith("/backend/") or status != 200:
                raise AcceptanceError(f"/backend/docs loads {url}: {status}")
        client.close()
        say(f"/backend/docs under the CSP: no inline script, loads {', '.join(loaded)}")

    def least_privilege(self) -> None:
        client = Client("localhost", self.https_port)
        for path in ("/", "/backend/health/live"):
            _, headers, _ = client.exchange("GET", path)
            missing = [name for name in SECURITY_HEADERS if name not in headers]
            if missing:
                raise AcceptanceError(f"GET {path} through Caddy lacks {', '.join(missing)}")
        client.close()
        backend = self.service("backend")
        container = next(iter(self.running_tasks(backend).values()))
        found = least_privilege.probe(container)
        [image] = inspect(inspect(container)[0]["Image"])
        allowed = {
            *self.deployment.stack.services()["backend"].get("environment", {}),
            *(variable.split("=", 1)[0] for variable in image["Config"]["Env"]),
            "HOSTNAME",
            "HOME",
        }
        wrong = least_privilege.problems(found, allowed)
        if wrong:
            raise AcceptanceError("; ".join(wrong))
        self.figures["least_privilege"] = {
            "redis_without_password": found["redis_without_password"],
            "create_table_as_the_backend": found["create_table"],
        }
        say(
            "least privilege: security headers through Caddy; Redis without a password: "
            f"{found['redis_without_password']}; the backend's role creating a table: "
            f"{found['create_table']}; the backend's environment is its own"
        )

    def running_tasks(self, service: str) -> dict[str, str]:
        """{task id: container id} of the running tasks of a service."""
        tasks = {}
        for task in inspect_tasks(*lines("service", "ps", "-q", "--no-trunc", service)):
            if task["DesiredState"] == "running" and task["Status"]["State"] == "running":
                tasks[task["ID"]] = task["Status"]["ContainerStatus"]["ContainerID"]
        return tasks

    def kill_one_backend_task(self) -> None:
        backend = self.service("backend")
        with self.load() as load, self.load(keyed=True) as keyed:
            time.sleep(5)
            before = self.running_tasks(backend)
            victim_task, victim_container = next(iter(before.items()))
            docker("kill", victim_container)
            killed = time.monotonic()
            say(f"killed task {victim_task[:12]} (container {victim_container[:12]})")

            def replaced() -> bool:
                now = self.running_tasks(backend)
                return victim_task not in now and len(now) == len(before)

            wait_until(replaced, 120, "the killed task's replacement")
            replace_seconds = time.monotonic() - killed
            time.sleep(10)  # Caddy sees the new task at its next DNS refresh (5 s)
        self.figures["task_kill"] = {
            **load.report.figures(),
            "keyed": keyed.report.figures(),
            "seconds_until_replaced": round(replace_seconds, 1),
        }
        say(
            f"task kill: key-less {load.report.describe()}; keyed {keyed.report.describe()}; "
            f"replaced in {replace_seconds:.1f} s"
        )
        require_no_keyed_failure("task kill", keyed.report)

    def build_backend_image(self, name: str, instructions: str) -> str:
        """A new backend image on the running one (a new content id, as a rebuild gives)."""
        current = self.deployment.image_variables()["BACKEND_IMAGE"]
        image = f"specfirst/backend:{name}-{int(time.time())}"
        docker("build", "-q", "-t", image, "-", stdin=f"FROM {current}\n{instructions}\n")
        self.images_made_here.append(image)
        return image

    def roll_backend_to(self, image: str) -> Rollout:
        """Deploys with BACKEND_IMAGE=image under load."""
        rollout = Deployment(
            self.deployment.stack,
            self.deployment.name,
            self.deployment.env_file,
            {**self.deployment.environment, "BACKEND_IMAGE": image},
            say,
            self.deployment.built_images,
        )
        timings: dict[str, float] = {}
        error = None
        with self.load() as load, self.load(keyed=True) as keyed:
            time.sleep(5)
            start = time.monotonic()
            try:
                timings = rollout.run()
            except converge.ConvergeError as failure:
                error = failure
            seconds = time.monotonic() - start
            time.sleep(10)
        return Rollout(load.report, keyed.report, seconds, timings, error)

    def backend_images(self) -> set[str]:
        tasks = inspect_tasks(*self.running_tasks(self.service("backend")))
        return {task["Spec"]["ContainerSpec"]["Image"] for task in tasks}

    def rolling_update(self) -> None:
        new_image = self.build_backend_image("rollout", "LABEL rollout=yes")
        rollout = self.roll_backend_to(new_image)
        if rollout.error is not None:
            raise rollout.error
        if self.backend_images() != {new_image}:
            raise AcceptanceError(
                f"after the rolling update the backend runs {self.backend_images()}"
            )
        self.figures["rolling_update"] = {
            **rollout.load.figures(),
            "keyed": rollout.keyed.figures(),
            "seconds_to_converge": round(rollout.seconds, 1),
            "phases": {k: round(v, 1) for k, v in rollout.timings.items()},
        }
        say(
            f"rolling update: key-less {rollout.load.describe()}; keyed "
            f"{rollout.keyed.describe()}; converged in {rollout.seconds:.1f} s"
        )
        require_no_keyed_failure("rolling update", rollout.keyed)

    def failed_rollout(self) -> None:
        """An image that never gets healthy: Swarm rolls back, the deploy says so, and the old
        tasks serve throughout (start-first: none was stopped)."""
        before = self.backend_images()
        broken = self.build_backend_image("broken", 'ENTRYPOINT ["sleep", "infinity"]')
        rollout = self.roll_backend_to(broken)
        if rollout.error is None:
            raise AcceptanceError(f"the deploy of {broken} (never healthy) reported success")
        if "rollback" not in str(rollout.error):
            raise rollout.error
        # Swarm goes on reporting the finished rollback (which wait_for takes for a failure):
        # wait for the old image's tasks themselves.
        wait_until(lambda: self.backend_images() == before, 120, f"the backend back on {before}")
        self.figures["failed_rollout"] = {
            **rollout.load.figures(),
            "seconds_until_rolled_back": round(rollout.seconds, 1),
            "deploy_said": str(rollout.error),
        }
        say(f"failed rollout: {rollout.load.describe()}; rolled back in {rollout.seconds:.1f} s")

    def metrics_agree(self, prometheus: StackPrometheus) -> None:
        """Under a steady load, the backend's own request counts, as the stack's Prometheus scraped
        them from every replica, agree with the load generator's within 1%."""
        replicas = {
            job: len(self.running_tasks(self.service(job))) for job in ("backend", "tg_bot")
        }
        wait_until(
            lambda: all(prometheus.targets_up(job) == n for job, n in replicas.items()),
            60,
            f"Prometheus scraping every replica ({replicas})",
        )
        served = (
            'sum(http_requests_total{job="backend",operation=~"get_user|create_user",'
            'status=~"2xx|4xx"})'
        )
        time.sleep(2)
        before = prometheus.value(served)
        with self.load() as load:
            time.sleep(15)
        time.sleep(3)  # a scrape after the last answer
        counted = prometheus.value(served) - before
        # The load's set-up creates the user it then reads: one request more than it reports.
        answered = load.report.sent - load.report.failed + 1
        difference = abs(counted - answered) / answered
        self.figures["metrics_agree"] = {
            **load.report.figures(),
            "counted_by_prometheus": counted,
            "difference": round(difference, 4),
            "replicas_scraped": replicas,
            "alerts_firing": sorted(
                sample["metric"]["alertname"]
                for sample in prometheus.query('ALERTS{alertstate="firing"}')
            ),
        }
        say(
            f"metrics: the load generator had {answered} requests answered, the replicas' "
            f"http_requests_total counted {counted:.0f} ({difference:.2%} apart)"
        )
        if difference > 0.01:
            raise AcceptanceError(
                f"Prometheus counted {counted:.0f} requests, the load generator {answered}"
            )

    def remove_built_images(self) -> None:
        for image in self.images_made_here:
            docker("rmi", image)

    def scale_workers(self) -> None:
        bot = self.service("tg_bot")
        docker("service", "scale", "--detach", f"{bot}=1")
        converge.wait_for([bot], 120, say)
        created: list[int] = []
        stop = threading.Event()

        def produce() -> None:
            client = self.client()
            while not stop.is_set():
                created.append(self.create_user(client))
                stop.wait(0.1)
            client.close()

        producer = threading.Thread(target=produce)
        producer.start()
        try:
            time.sleep(5)
            docker("service", "scale", "--detach", f"{bot}=3")
            scale_seconds = converge.wait_for([bot], 120, say)
            time.sleep(5)
        finally:
            stop.set()
            producer.join()

        def welcomes() -> list[int]:
            return [self.telegram.messages_to(user).count(WELCOME) for user in created]

        wait_until(lambda: all(count >= 1 for count in welcomes()), 120, "every welcome")
        time.sleep(3)  # a duplicate would come from a second handling: give it time to show
        counts = welcomes()
        duplicated = sum(1 for count in counts if count > 1)
        self.figures["scale_tg_bot_1_to_3"] = {
            "users_created": len(created),
            "welcomed_once": sum(1 for count in counts if count == 1),
            "welcomed_twice_or_more": duplicated,
            "seconds_to_scale": round(scale_seconds, 1),
        }
        if duplicated:
            raise AcceptanceError(f"{duplicated} of {len(created)} users were welcomed twice")
        say(f"scale 1 -> 3: {len(created)} users, each welcomed once")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="swarm-acceptance", description=__doc__)
    parser.add_argument("--report", type=Path, default=Path("dist/swarm-acceptance.json"))
    parser.add_argument("--keep", action="store_true", help="leave the stack running (debugging)")
    options = parser.parse_args(argv)
    started = time.monotonic()
    telegram = FakeTelegram()
    # The ports Swarm publishes (this, HTTP_PORT, the Prometheus's) bind every address of the host.
    https_port = free_port("0.0.0.0")
    with ExitStack() as stack:
        ensure_swarm(stack)
        api_url = stack.enter_context(telegram.serve("0.0.0.0"))
        env_file = options.report.parent / "swarm-acceptance.env"
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.write_text(
            f"TELEGRAM_API_URL={api_url.replace('0.0.0.0', host_address())}\n"
            "TELEGRAM_POLL_TIMEOUT=5\nEVENTS_CLAIM_IDLE=5\nBACKEND_DOCS=true\n"
        )
        # As infra/.env.example has the operator make them: the operator's key, and tg_bot's own.
        operator_key, bot_key = generate_signing_key("operator"), generate_signing_key("tg_bot")
        jwks = VerificationKeys.of(
            operator_key.verification_key(),
            bot_key.verification_key(roles=[SERVICE], audiences=["backend"]),
        )
        environment = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "HTTP_PORT": str(free_port("0.0.0.0")),
            "HTTPS_PORT": str(https_port),
            "SITE_ADDRESS": "localhost",
            "CADDY_TLS": "internal",
            "AUTH_JWKS": jwks.to_json(),  # the secret auth_jwks (the backend's)
            "AUTH_SIGNING_KEY": json.dumps(bot_key.to_jwk()),  # auth_signing_key (tg_bot's)
        }
        deployment = Deployment(
            StackFile.read(), STACK, env_file, environment, say, images_built_by_pants()
        )
        acceptance = Acceptance(deployment, telegram, https_port, operator_key)
        if not options.keep:
            # Last in, first out: the stack goes first, then the images its tasks ran.
            stack.callback(acceptance.remove_built_images)
            stack.callback(deployment.remove)
        if deployment.name in lines("stack", "ls", "--format", "{{.Name}}"):
            say(f"removing stack {deployment.name}, left by an interrupted run")
            deployment.remove()
        try:
            acceptance.deploy()
            acceptance.smoke()
            acceptance.least_privilege()
            acceptance.docs_under_csp()
            prometheus = StackPrometheus(STACK, f"{STACK}_specfirst", free_port("0.0.0.0"))
            if not options.keep:
                stack.callback(prometheus.remove)
            prometheus.start(deployment.image_variables()["BACKEND_IMAGE"])
            acceptance.metrics_agree(prometheus)
            acceptance.kill_one_backend_task()
            acceptance.rolling_update()
            acceptance.failed_rollout()
            acceptance.scale_workers()
        except (
            AcceptanceError,
            TimeoutError,
            converge.ConvergeError,
            DeployError,
            DockerError,
        ) as error:
            print(deployment.state(), flush=True)
            sys.exit(f"swarm-acceptance: FAILED: {error}")
        finally:
            acceptance.figures["total_seconds"] = round(time.monotonic() - started, 1)
            options.report.write_text(json.dumps(acceptance.figures, indent=2) + "\n")
            print(json.dumps(acceptance.figures, indent=2), flush=True)


if __name__ == "__main__":
    main()
