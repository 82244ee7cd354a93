"""What signing one delivery costs, HMAC (``v1``) against Ed25519 (``v1a``), and what
verifying costs a receiver: ``python -m bench.signing``.

In process, no I/O: the signature header value as the sender builds it
(``sign_standard``, keys already cached as they are after a webhook's first delivery),
and a receiver's check with the ``cryptography`` package (Ed25519) or ``hmac`` (HMAC).
Prints the median of several repeats, in microseconds per operation.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import statistics
import timeit
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hookline.domain.signing import KeyType, generate_secret, public_key, sign_standard

MSG, TS = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", 1_764_000_000


def _per_op(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Median microseconds per call over ``repeat`` runs of ``number`` calls."""
    runs = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def measure(size: int, number: int, repeat: int) -> dict[str, float]:
    body = (b'{"type":"invoice.paid","data":{"pad":"' + b"x" * size)[:size] + b'"}}'
    hmac_secret, ed_secret = generate_secret(), generate_secret(KeyType.ED25519)
    pk_text = public_key(ed_secret)
    assert pk_text is not None
    pk = Ed25519PublicKey.from_public_bytes(base64.b64decode(pk_text.removeprefix("whpk_")))
    hmac_key = base64.b64decode(hmac_secret.removeprefix("whsec_"))
    signed = f"{MSG}.{TS}.".encode() + body
    v1 = sign_standard([hmac_secret], MSG, TS, body)
    v1a = base64.b64decode(sign_standard([ed_secret], MSG, TS, body).removeprefix("v1a,"))

    def verify_hmac() -> None:
        expected = base64.b64encode(hmac.new(hmac_key, signed, hashlib.sha256).digest())
        assert hmac.compare_digest(b"v1," + expected, v1.encode())

    return {
        "sign v1 (HMAC)": _per_op(
            lambda: sign_standard([hmac_secret], MSG, TS, body), number, repeat
        ),
        "sign v1a (Ed25519)": _per_op(
            lambda: sign_standard([ed_secret], MSG, TS, body), number, repeat
        ),
        "verify v1 (HMAC)": _per_op(verify_hmac, number, repeat),
        "verify v1a (Ed25519)": _per_op(lambda: pk.verify(v1a, signed), number, repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per repeat")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sizes", default="1024,65536", help="body sizes in bytes")
    args = parser.parse_args()
    print("| body | operation | µs per operation |")
    print("|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        for name, micros in measure(size, args.number, args.repeat).items():
            print(f"| {size:,} B | {name} | {micros:.1f} |")


if __name__ == "__main__":
    main()
