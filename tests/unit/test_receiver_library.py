"""hookline_receiver's checks against signatures made by Hookline's own signer."""

from __future__ import annotations

import sys

import pytest

import hookline_receiver
from hookline.domain.signing import (
    KeyType,
    generate_secret,
    public_key,
    sign_sha256_hex,
    sign_standard,
)
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


def _key_pair() -> tuple[str, str]:
    secret = generate_secret(KeyType.ED25519)
    pk = public_key(secret)
    assert pk is not None
    return secret, pk


def test_v1a_signatures_verify_with_the_public_key() -> None:
    secret, pk = _key_pair()
    headers = _headers([secret])
    assert Verifier(pk).verify(BODY, headers, now=NOW) == {"type": "invoice.paid", "data": {"n": 1}}
    with pytest.raises(InvalidSignature, match="no matching"):
        Verifier(pk).verify(BODY.replace(b"1", b"2"), headers, now=NOW)
    with pytest.raises(InvalidSignature, match="no matching"):
        Verifier(_key_pair()[1]).verify(BODY, headers, now=NOW)
    with pytest.raises(InvalidSignature, match="tolerance"):
        Verifier(pk).verify(BODY, _headers([secret], ts=NOW - 301), now=NOW)
    # A v1a entry is no HMAC signature, and a v1 entry no Ed25519 one.
    with pytest.raises(InvalidSignature, match="no matching"):
        Verifier(generate_secret()).verify(BODY, headers, now=NOW)
    forged = headers | {"Webhook-Signature": headers["Webhook-Signature"].replace("v1a,", "v1,")}
    with pytest.raises(InvalidSignature, match="no matching"):
        Verifier(pk).verify(BODY, forged, now=NOW)


def test_v1a_rotation_from_hmac_and_between_keys() -> None:
    hmac_secret, (old, old_pk), (new, new_pk) = generate_secret(), _key_pair(), _key_pair()
    from_hmac = _headers([new, hmac_secret])
    assert Verifier(hmac_secret).verify(BODY, from_hmac, now=NOW)
    assert Verifier(new_pk).verify(BODY, from_hmac, now=NOW)
    assert Verifier(secrets=(hmac_secret, new_pk)).verify(BODY, from_hmac, now=NOW)
    between = _headers([new, old])
    assert Verifier(old_pk).verify(BODY, between, now=NOW)
    assert Verifier(new_pk).verify(BODY, between, now=NOW)
    with pytest.raises(InvalidSignature):
        Verifier(old_pk).verify(BODY, _headers([new]), now=NOW)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("whpk_not-base64", "base64"),
        ("whpk_" + "AAAA", "32 bytes"),
        (generate_secret(KeyType.ED25519), "public key"),  # the private key
    ],
    ids=["not-base64", "short", "private-key"],
)
def test_bad_public_keys_are_refused_at_construction(key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Verifier(key)


def test_without_cryptography_a_public_key_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes the import fail, as on a machine without the package.
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric.ed25519", None)
    with pytest.raises(ValueError, match=r"hookline-receiver\[ed25519\]"):
        Verifier(_key_pair()[1])
    assert Verifier(generate_secret())  # HMAC needs nothing more


def test_a_public_key_does_not_apply_to_the_sha256_hex_scheme() -> None:
    with pytest.raises(ValueError, match="v1a"):
        Verifier(_key_pair()[1], header="X-Signature")


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
