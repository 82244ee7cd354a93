"""hookline_receiver's checks against signatures made by Hookline's own signer."""

from __future__ import annotations

import pytest

import hookline_receiver
from hookline.domain.signing import generate_secret, sign_sha256_hex, sign_standard
from hookline_receiver import InvalidSignature, MemoryStore, Verifier, sign

BODY = b'{"type":"invoice.paid","data":{"n":1}}'
NOW = 1_800_000_000


def _headers(secrets: list[str], ts: int = NOW, msg: str = "msg_1") -> dict[str, str]:
    return {
        "Webhook-Id": msg,
        "Webhook-Timestamp": str(ts),
        "Webhook-Signature": sign_standard(secrets, msg, ts, BODY),
    }


def test_standard_signatures_verify_and_parse() -> None:
    secret = generate_secret()
    event = Verifier(secret).verify(BODY, _headers([secret]), now=NOW)
    assert event == {"type": "invoice.paid", "data": {"n": 1}}
    assert sign(secret, "msg_1", NOW, BODY) == _headers([secret])["Webhook-Signature"]


def test_rotation_a_request_signed_with_either_secret_passes() -> None:
    old, new = generate_secret(), generate_secret()
    both = _headers([new, old])
    assert Verifier(old).verify(BODY, both, now=NOW)
    assert Verifier(secrets=(new,)).verify(BODY, both, now=NOW)
    with pytest.raises(InvalidSignature, match="no matching"):
        Verifier(generate_secret()).verify(BODY, both, now=NOW)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Webhook-Timestamp": str(NOW - 301)}, "tolerance"),
        ({"Webhook-Timestamp": "soon"}, "malformed"),
        ({"Webhook-Id": ""}, "webhook-id"),
        ({"Webhook-Signature": "v2,abc"}, "missing webhook-signature"),
        ({"Webhook-Id": "msg_2"}, "no matching"),
    ],
)
def test_tampered_or_stale_requests_are_refused(change: dict[str, str], message: str) -> None:
    secret = generate_secret()
    headers = _headers([secret]) | change
    with pytest.raises(InvalidSignature, match=message):
        Verifier(secret).verify(BODY, headers, now=NOW)


def test_tolerance_is_configurable() -> None:
    secret = generate_secret()
    late = _headers([secret], ts=NOW - 600)
    assert Verifier(secret, tolerance=900).verify(BODY, late, now=NOW)
    with pytest.raises(InvalidSignature):
        hookline_receiver.verify(secret, BODY, late, now=NOW)


def test_sha256_hex_scheme() -> None:
    secret = "a-plain-shared-secret"
    headers = {"X-Signature": sign_sha256_hex(secret, BODY)}
    assert Verifier(secret, header="X-Signature").verify(BODY, headers)
    with pytest.raises(InvalidSignature, match="X-Signature"):
        Verifier(secret, header="X-Signature").verify(BODY + b" ", headers)


def test_memory_store_claims_once_and_forgets_on_release() -> None:
    store = MemoryStore(ttl=60, max_ids=2)
    assert store.claim("a")
    assert not store.claim("a")
    store.release("a")
    assert store.claim("a")
    assert store.claim("b")
    assert store.claim("c")  # over max_ids: the oldest id is forgotten
    assert store.claim("a")


def test_the_public_surface() -> None:
    assert set(hookline_receiver.__all__) >= {"Verifier", "InvalidSignature", "verify"}
    from hookline import receiver

    assert receiver.verify is hookline_receiver.verify
