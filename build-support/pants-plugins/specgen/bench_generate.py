"""Times load + generation of a large synthetic spec set against the 1 s target, without and
with storage (every model kept in a table), side by side.

Run: PYTHONPATH=build-support/pants-plugins python -m specgen.bench_generate
"""

from __future__ import annotations

import time
from typing import Dict, List, Tuple

from specgen import load
from specgen.generate import asyncapi_document, generate_python, generate_typescript

MODELS = 500
OPERATIONS = 200
DOMAINS = 8
TARGET_SECONDS = 1.0


def _model_yaml(index: int) -> str:
    # chains of ten models, each referencing the one before
    reference = (
        f"\n      parent:\n        type: Model{index - 1}Read\n        optional: true"
        if index % 10
        else ""
    )
    return f"""
  Model{index}:
    description: Synthetic model {index}.
    fields:
      id:
        type: uuid
        readonly: true
      name:
        type: string
        max_length: 40
        description: Display name
      count:
        type: int
        ge: 0
      ratio:
        type: float
        optional: true
      state:
        type:
          type: enum
          values: [draft, live, gone]
          default: draft
      tags:
        type: list[string]
        default: []
      scores:
        type: dict[string,int]
        default: {{}}
      created_at:
        type: datetime
        readonly: true{reference}
    variants:
      Create: {{}}
      Update:
        optional: [name, count]
      Read: {{}}"""


def _operation_yaml(index: int) -> str:
    model = f"Model{index % MODELS}"
    kind = index % 4
    if kind == 0:
        return f"""
  create_{index}:
    input: {model}Create
    output: {model}Read
    rest:
      method: POST
      path: "/m{index}"
    events:
      publish_on_success: changed_{index % MODELS}"""
    if kind == 1:
        return f"""
  list_{index}:
    output: list[{model}Read]
    params:
      - name: limit
        type: int
        default: 10
        ge: 1
    rest:
      method: GET
      path: "/m{index}\""""
    if kind == 2:
        return f"""
  update_{index}:
    input: {model}Update
    output: {model}Read
    params:
      - name: item_id
        type: uuid
    rest:
      method: PATCH
      path: "/m{index}/{{item_id}}\""""
    return f"""
  delete_{index}:
    params:
      - name: item_id
        type: uuid
    rest:
      method: DELETE
      path: "/m{index}/{{item_id}}\""""


def _storage_yaml(domain: int) -> str:
    """Each model stored by one domain, in a table of its own."""
    return "storage:" + "".join(f"""
  Model{index}:
    table: model{index}
    primary_key: id
    unique: [name]
    indexes: [[count, created_at]]
    defaults: {{created_at: now}}""" for index in range(domain, MODELS, DOMAINS))


def synthetic_specs(stored: bool = False) -> Dict[str, str]:
    files = {
        "shared/spec/models.yaml": "models:"
        + "".join(_model_yaml(i) for i in range(MODELS))
        + "\n",
        "shared/spec/events.yaml": "events:"
        + "".join(f"\n  changed_{i}:\n    message: Model{i}Read" for i in range(MODELS))
        + "\n",
    }
    per_domain: List[List[int]] = [list(range(d, OPERATIONS, DOMAINS)) for d in range(DOMAINS)]
    for domain, operations in enumerate(per_domain):
        files[f"bench/spec/domain{domain}.yaml"] = (
            f"domain: domain{domain}\nconfig:\n  rest:\n    prefix: /d{domain}\n    tags: [d{domain}]\n"
            + (_storage_yaml(domain) + "\n" if stored else "")
            + "operations:"
            + "".join(_operation_yaml(i) for i in operations)
            + "\n"
        )
    files["client/spec/manifest.yaml"] = (
        "consumes:"
        + "".join(
            f"\n  - service: bench\n    domain: domain{d}\n    operations: []"
            for d in range(DOMAINS)
        )
        + "\n"
    )
    return files


def main() -> None:
    totals = {}
    for label, stored in (("without storage", False), ("with storage", True)):
        print(f"== {label}")
        totals[label] = run(synthetic_specs(stored))
    (plain_wall, plain_cpu), (stored_wall, stored_cpu) = totals.values()
    print(
        f"storage on every model: wall {stored_wall:.3f} s ({stored_wall / plain_wall:.2f}x), "
        f"CPU {stored_cpu:.3f} s ({stored_cpu / plain_cpu:.2f}x) of the spec set without it"
    )


def run(files: Dict[str, str]) -> Tuple[float, float]:
    """Loads and generates everything; prints the phases; returns wall and CPU seconds."""
    cpu = [time.process_time()]  # CPU seconds too: wall time suffers on a busy machine
    started = time.perf_counter()
    spec = load(files)
    loaded = time.perf_counter()
    cpu.append(time.process_time())
    timings = {}
    for path in files:
        begin = time.perf_counter()
        outputs = generate_python(spec, path)
        timings[path] = (time.perf_counter() - begin, sum(len(text) for text in outputs.values()))
    python_done = time.perf_counter()
    cpu.append(time.process_time())
    for path in files:
        generate_typescript(spec, path)
    asyncapi_document(spec)
    finished = time.perf_counter()
    cpu.append(time.process_time())

    total = finished - started
    print(
        f"spec: {len(spec.models)} models, {len(spec.schemas)} classes, {len(spec.events)} events, "
        f"{sum(len(d.operations) for d in spec.domains)} operations in {len(spec.domains)} domains"
    )
    for path, (seconds, size) in timings.items():
        print(f"  generate {path:32} {seconds:.3f} s  ({size / 1024:.0f} KiB)")
    print(
        f"{'phase':22} {'seconds':>8} {'x target':>9} {'CPU s':>8}   (target: {TARGET_SECONDS:.0f} s for the whole run)"
    )
    for phase, seconds, cpu_seconds in (
        ("load", loaded - started, cpu[1] - cpu[0]),
        ("generate_python", python_done - loaded, cpu[2] - cpu[1]),
        ("typescript+asyncapi", finished - python_done, cpu[3] - cpu[2]),
        ("total", total, cpu[3] - cpu[0]),
    ):
        print(f"{phase:22} {seconds:8.3f} {seconds / TARGET_SECONDS:9.2f} {cpu_seconds:8.3f}")
    verdict = "within" if total < TARGET_SECONDS else "OVER"
    print(
        f"total {total:.3f} s = {total / TARGET_SECONDS:.2f} x the {TARGET_SECONDS:.0f} s target: {verdict}"
    )
    return total, cpu[3] - cpu[0]


if __name__ == "__main__":
    main()
