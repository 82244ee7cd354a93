"""Standard Webhooks v1a: whsk_ keys sign with Ed25519, and anyone holding the whpk_
public key verifies with nothing but an Ed25519 implementation (here ``cryptography``,
used the way its documentation shows, not through Hookline's code)."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from hookline.domain.signing import (
    KeyType,
    Scheme,
    generate_secret,
    key_type,
    public_key,
    secret_problem,
    sign_standard,
)

MSG, TS = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", 1_674_087_231


def receiver_verifies(whpk: str, header: str, msg_id: str, ts: int, body: bytes) -> bool:
    """A receiver's check: any v1a entry that verifies under the public key."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(whpk.removeprefix("whpk_")))
    for entry in header.split():
        version, _, signature = entry.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(signature), f"{msg_id}.{ts}.".encode() + body)
        except InvalidSignature:
            continue
        return True
    return False


def test_a_generated_key_is_the_64_byte_form_and_its_public_key_is_32_bytes() -> None:
    secret = generate_secret(KeyType.ED25519)
    raw = base64.b64decode(secret.removeprefix("whsk_"))
    assert secret.startswith("whsk_")
    assert len(raw) == 64
    pk = public_key(secret)
    assert pk is not None
    assert pk.startswith("whpk_")
    seed = Ed25519PrivateKey.from_private_bytes(raw[:32])
    assert base64.b64decode(pk.removeprefix("whpk_")) == seed.public_key().public_bytes_raw()
    assert raw[32:] == seed.public_key().public_bytes_raw()
    assert key_type(secret) is KeyType.ED25519
    assert secret_problem(secret, Scheme.STANDARD) is None
    assert generate_secret(KeyType.ED25519) != secret


@given(st.binary(), st.booleans())
def test_v1a_signatures_verify_with_the_public_key_alone(body: bytes, seed_only: bool) -> None:
    body = body.decode("utf-8", "replace").encode()
    secret = generate_secret(KeyType.ED25519)
    if seed_only:  # a key given as its 32-byte seed signs the same way
        raw = base64.b64decode(secret.removeprefix("whsk_"))[:32]
        secret = "whsk_" + base64.b64encode(raw).decode()
    pk = public_key(secret)
    assert pk is not None
    header = sign_standard([secret], MSG, TS, body)
    assert header.startswith("v1a,")
    assert " " not in header
    assert receiver_verifies(pk, header, MSG, TS, body)
    assert not receiver_verifies(pk, header, MSG, TS, body + b" ")
    assert not receiver_verifies(pk, header, MSG, TS + 1, body)
    assert not receiver_verifies(pk, header, "msg_other", TS, body)


def test_rotation_between_kinds_signs_with_each_and_hmac_receivers_still_pass() -> None:
    hmac_secret, old_key, new_key = (
        generate_secret(),
        generate_secret(KeyType.ED25519),
        generate_secret(KeyType.ED25519),
    )
    body, now = b'{"type":"a"}', int(time.time())
    header = sign_standard([new_key, old_key, hmac_secret], MSG, now, body)
    kinds = [entry.split(",")[0] for entry in header.split(" ")]
    assert kinds == ["v1a", "v1a", "v1"]
    for key in (old_key, new_key):
        pk = public_key(key)
        assert pk is not None
        assert receiver_verifies(pk, header, MSG, now, body)
    other = public_key(generate_secret(KeyType.ED25519))
    assert other is not None
    assert not receiver_verifies(other, header, MSG, now, body)
    # The standardwebhooks package checks the v1 entry and skips the v1a ones.
    headers = {"webhook-id": MSG, "webhook-timestamp": str(now), "webhook-signature": header}
    Webhook(hmac_secret).verify(body, headers)


def _whsk(raw: bytes) -> str:
    return "whsk_" + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("whsk_", "32 bytes"),
        ("whsk_not base64!", "base64"),
        (_whsk(b"\x01" * 31), "32 bytes"),
        (_whsk(b"\x01" * 48), "32 bytes"),
        (_whsk(b"\x01" * 64), "public key"),  # the second half is not the seed's key
        ("whpk_" + base64.b64encode(b"\x01" * 32).decode(), "whsec_"),  # a public key
    ],
)
def test_malformed_keys_are_refused(secret: str, problem: str) -> None:
    found = secret_problem(secret, Scheme.STANDARD)
    assert found is not None
    assert problem in found


def test_an_ed25519_key_cannot_sign_the_sha256_hex_scheme() -> None:
    problem = secret_problem(generate_secret(KeyType.ED25519), Scheme.SHA256_HEX)
    assert problem is not None
    assert "standard scheme" in problem
    # A sha256-hex secret is any string, so one that starts like a key stays HMAC there.
    assert key_type("whsk_" + "x" * 20, Scheme.SHA256_HEX) is KeyType.HMAC_SHA256
    assert public_key("whsk_" + "x" * 20, Scheme.SHA256_HEX) is None
    assert public_key(generate_secret()) is None
