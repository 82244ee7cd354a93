"""What the input guard costs one request body: ``python -m bench.guard``.

In process, no I/O: :func:`hookline.api.limits.parse_json` (the guard's check of every
JSON body, orjson first) against ``_parse_exactly`` (the exact parser alone, which the
guard ran on every body before orjson went first), on three bodies: a small event, a
payment-like event with nested objects, and an event carrying 200 records. Prints the
median of several repeats, in microseconds per body.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import timeit
from collections.abc import Callable

import orjson

from hookline.api.limits import _parse_exactly, parse_json

BODIES = {
    "small event": {"type": "bench.tick", "data": {"t": 1764000000.25, "seq": 1, "pad": "x" * 64}},
    "payment event": {
        "type": "payment.succeeded",
        "data": {
            "object": {
                "id": "pi_3Q0a",
                "amount": 2000,
                "currency": "usd",
                "metadata": {"order": "1234"},
                "charges": {"data": [{"id": "ch_1", "billing": {"address": {"city": "Lyon"}}}]},
                "customer": {"email": "a@example.com", "note": "y" * 300},
            }
        },
    },
    "200 records": {
        "type": "report.ready",
        "data": {"rows": [{"id": i, "name": f"row {i}", "value": i * 1.5} for i in range(200)]},
    },
}


def _per_op(fn: Callable[[], object], number: int, repeat: int) -> float:
    runs = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print("| body | bytes | exact parser alone, µs | guard (orjson first), µs |")
    print("|---|---|---|---|")
    for name, doc in BODIES.items():
        body = orjson.dumps(doc)
        exact = _per_op(functools.partial(_parse_exactly, body, 64), args.number, args.repeat)
        guard = _per_op(functools.partial(parse_json, body, 64), args.number, args.repeat)
        print(f"| {name} | {len(body):,} | {exact:.1f} | {guard:.1f} |")


if __name__ == "__main__":
    main()
