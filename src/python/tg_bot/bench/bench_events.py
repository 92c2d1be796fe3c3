"""Events/s and latency of EventBus against a hand-written redis-py consumer doing the same work.

    pants run src/python/tg_bot/bench:bench_events [-- --events 10000 --rate 1000]

Each run starts one or two worker processes (this file with --worker). Throughput: the workers drain
a backlog published while they were stopped (handler -> ack, first to last handled). Latency: a
series paced at --rate, publish -> handled. Both kinds get the same events from the same publisher
(EventBus.publish, in FastStream's message format). The hand-written loop is what a competent
engineer writes: XREADGROUP COUNT 100, decode each entry (`decode_entry`, the format's reader) and
validate it, handle it, then one pipelined round trip per batch that marks each event processed
(for deduplication, as the bus does) and acknowledges the batch with one XACK.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel
from redis.asyncio import Redis

from servicekit.events import DeliveryPolicy, EventBus, EventChannel
from servicekit.events.envelope import decode_entry

GROUP = "bench"
# Entries read at once, by both kinds.
BATCH = 100
PROCESSED_TTL = 7 * 24 * 3600
WARM_UP = 50

# Publisher and workers on CPUs of their own (Redis runs where the OS puts it): left to the
# scheduler, a run is twice as fast when they happen to share no core as when they do.
ALL_CPUS = sorted(os.sched_getaffinity(0))
PUBLISHER_CPUS = ALL_CPUS[:1]
WORKER_CPUS = ALL_CPUS[1:] or ALL_CPUS


def pin_to(cpus: list[int]) -> None:
    os.sched_setaffinity(0, cpus)


class BenchEvent(BaseModel):
    n: int
    published_at: float


def channel(stream: str) -> EventChannel[BenchEvent]:
    return EventChannel(name="bench", stream=stream, message=BenchEvent)


# Workers: each records (published_at, handled_at) per event and prints them when terminated.


async def run_worker(kind: str, url: str, stream: str, consumer: str) -> None:
    timings: list[tuple[float, float]] = []

    async def handle(event: BenchEvent) -> None:
        if event.n >= 0:
            timings.append((event.published_at, time.time()))

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    consume = bus_worker if kind == "bus" else raw_worker
    task = asyncio.create_task(consume(url, stream, consumer, handle))
    print("ready", flush=True)
    await stop.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    print(json.dumps(timings), flush=True)


async def bus_worker(
    url: str,
    stream: str,
    consumer: str,
    handle: Callable[[BenchEvent], Awaitable[None]],
) -> None:
    bus = EventBus(url, consumer=consumer, policy=DeliveryPolicy(batch_size=BATCH))
    bus.subscribe(channel(stream), GROUP, handle)
    await bus.start()
    try:
        await asyncio.Event().wait()
    finally:
        await bus.stop()


async def raw_worker(
    url: str,
    stream: str,
    consumer: str,
    handle: Callable[[BenchEvent], Awaitable[None]],
) -> None:
    redis = Redis.from_url(url)
    try:
        await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except Exception:  # noqa: BLE001  # the other worker created it
        pass
    while True:
        for _, entries in await redis.xreadgroup(
            GROUP, consumer, {stream: ">"}, count=BATCH, block=100
        ):
            async with redis.pipeline(transaction=False) as pipeline:
                for entry_id, fields in entries:
                    payload, _, event_id = decode_entry(entry_id, fields)
                    await handle(BenchEvent.model_validate_json(payload))
                    pipeline.set(f"{stream}:{GROUP}:processed:{event_id}", 1, ex=PROCESSED_TTL)
                pipeline.xack(stream, GROUP, *[entry_id for entry_id, _ in entries])
                await pipeline.execute()


# The parent: publishes, waits for the group to finish, collects the workers' timings.


@dataclass
class Result:
    label: str
    events_per_second: float
    p50_ms: float
    p99_ms: float
    paced_rate: float  # events/s the paced series reached: a loaded machine may fall short


async def publish(url: str, stream: str, numbers: range, rate: float | None) -> None:
    """Events numbered `numbers`, as fast as possible or at `rate` per second."""
    bus = EventBus(url)
    # Connected before the first timestamp: latency is delivery, not connection set-up.
    await bus.connect()
    started = time.monotonic()
    for index, n in enumerate(numbers):
        if rate is not None:
            await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
        await bus.publish(channel(stream), BenchEvent(n=n, published_at=time.time()))
    await bus.stop()


async def wait_until_consumed(url: str, stream: str, count: int) -> None:
    """Until the stream holds `count` entries, all delivered to the group and acknowledged."""
    redis = Redis.from_url(url)
    try:
        while True:
            stream_info = await redis.xinfo_stream(stream)
            groups = await redis.xinfo_groups(stream)
            if (
                stream_info["length"] >= count
                and groups
                and groups[0]["last-delivered-id"] == stream_info["last-generated-id"]
                and groups[0]["pending"] == 0
            ):
                return
            await asyncio.sleep(0.01)
    finally:
        await redis.aclose()


def start_workers(kind: str, url: str, stream: str, workers: int) -> list[subprocess.Popen[str]]:
    processes = []
    for index in range(workers):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                __spec__.name,
                "--worker",
                kind,
                url,
                stream,
                f"worker-{index}",
            ],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: pin_to(WORKER_CPUS),
        )
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        processes.append(process)
    return processes


def stop_workers(processes: list[subprocess.Popen[str]]) -> list[tuple[float, float]]:
    timings: list[tuple[float, float]] = []
    for process in processes:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        timings += json.loads(output.strip().splitlines()[-1])
    return timings


async def measure(
    kind: str, url: str, workers: int, count: int, rate: float | None
) -> list[tuple[float, float]]:
    """Handled events' (published, handled) times. Without `rate`: a backlog of `count` events
    published while the workers are stopped (SIGSTOP), which they then drain together, so the
    publisher does not limit them; with it: events published at `rate` to running workers."""
    stream = f"bench.{kind}.{uuid.uuid4().hex}"
    processes = start_workers(kind, url, stream, workers)
    try:
        # Warm-up events (numbered below 0, not timed): workers' first messages pay for lazy
        # imports and connection set-up, which is not what a running worker costs.
        await publish(url, stream, range(-WARM_UP, 0), rate=None)
        await wait_until_consumed(url, stream, WARM_UP)
        if rate is None:
            for process in processes:
                process.send_signal(signal.SIGSTOP)
            await publish(url, stream, range(count), rate=None)
            for process in processes:
                process.send_signal(signal.SIGCONT)
        else:
            await publish(url, stream, range(count), rate)
        await wait_until_consumed(url, stream, WARM_UP + count)
    finally:
        timings = stop_workers(processes)
        redis = Redis.from_url(url)
        await redis.delete(
            stream, *[key async for key in redis.scan_iter(f"{stream}:*", count=1000)]
        )
        await redis.aclose()
    assert len(timings) == count, f"{kind}: handled {len(timings)} of {count}"
    return timings


async def bench(kind: str, url: str, workers: int, count: int, rate: float) -> Result:
    backlog = await measure(kind, url, workers, count, rate=None)
    handled_at = [handled for _, handled in backlog]
    throughput = count / (max(handled_at) - min(handled_at))
    paced = await measure(kind, url, workers, min(count, int(rate * 2)), rate=rate)
    latencies = sorted((handled - published) * 1000 for published, handled in paced)
    p99 = statistics.quantiles(latencies, n=100)[98]
    label = f"{'EventBus' if kind == 'bus' else 'hand-written'}, {workers} worker{'s' if workers > 1 else ''}"
    published_at = [published for published, _ in paced]
    paced_rate = (len(paced) - 1) / (max(published_at) - min(published_at))
    return Result(label, throughput, statistics.median(latencies), p99, paced_rate)


async def run_benchmark(url: str, count: int, rate: float, repeats: int) -> None:
    pin_to(PUBLISHER_CPUS)
    print(
        f"{count} events per throughput run; latency at {rate:.0f} events/s; median of {repeats} runs"
    )
    print(
        f"Redis at {url}; publisher on CPU {PUBLISHER_CPUS}, workers on CPUs {WORKER_CPUS}; "
        "EventBus and raw runs alternate, so both see the same machine\n"
    )
    print(f"{'':28} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'paced at':>9}")
    for workers in (1, 2):
        runs: dict[str, list[Result]] = {"bus": [], "raw": []}
        for _ in range(repeats):
            for kind, results in runs.items():
                results.append(await bench(kind, url, workers, count, rate))
        medians = {
            kind: Result(
                results[0].label,
                statistics.median(run.events_per_second for run in results),
                statistics.median(run.p50_ms for run in results),
                statistics.median(run.p99_ms for run in results),
                statistics.median(run.paced_rate for run in results),
            )
            for kind, results in runs.items()
        }
        for result in medians.values():
            print(
                f"{result.label:28} {result.events_per_second:10.0f} {result.p50_ms:8.2f}"
                f" {result.p99_ms:8.2f} {result.paced_rate:7.0f}/s"
            )
        ratio = medians["bus"].events_per_second / medians["raw"].events_per_second
        print(
            f"EventBus / hand-written, {workers} worker(s): {ratio:.2f}x events/s (target >= 0.5x)\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
    )
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s of the latency runs")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--worker",
        nargs=4,
        metavar=("KIND", "URL", "STREAM", "CONSUMER"),
        help=argparse.SUPPRESS,
    )
    arguments = parser.parse_args()
    if arguments.worker:
        asyncio.run(run_worker(*arguments.worker))
    else:
        asyncio.run(
            run_benchmark(arguments.redis_url, arguments.events, arguments.rate, arguments.repeats)
        )


if __name__ == "__main__":
    main()
