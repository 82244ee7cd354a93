"""Ed25519 (Standard Webhooks v1a) webhooks end to end: real deliveries to a real
receiver, verified with the ``whpk_`` public key alone; rotations, refusals, and the
private key sealed at rest."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from standardwebhooks import Webhook

from hookline.receiver import InvalidSignature as Refused
from hookline.receiver import Verifier
from tests.integration.test_secrets_at_rest import stored_secrets
from tests.support.receiver import Receiver
from tests.support.server import Running
from tests.support.signing import deliver, expire_grace, v1a_valid

Make = Callable[..., Awaitable[Running]]


async def test_an_ed25519_webhook_signs_v1a_that_the_public_key_verifies(
    hookline: Running, receiver: Receiver
) -> None:
    acme = await hookline.new_account()
    r = await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "key_type": "ed25519"})
    assert r.status_code == 201, r.text
    hook = r.json()
    assert hook["secret"].startswith("whsk_")
    assert hook["signature"]["key_type"] == "ed25519"
    public_key = hook["signature"]["public_key"]
    assert public_key.startswith("whpk_")
    # The public key is part of the webhook; the secret endpoint has both.
    shown = (await acme.get(f"/v1/webhooks/{hook['webhook_id']}")).json()
    assert shown["signature"]["public_key"] == public_key
    assert "secret" not in shown
    secret = (await acme.get(f"/v1/webhooks/{hook['webhook_id']}/secret")).json()
    assert secret == {
        "webhook_id": hook["webhook_id"],
        "secret": hook["secret"],
        "key_type": "ed25519",
        "public_key": public_key,
    }

    got = await deliver(acme, receiver, 1)
    (entry,) = got.headers["webhook-signature"].split(" ")
    assert entry.startswith("v1a,")
    assert v1a_valid(public_key, got)
    assert Verifier(public_key).verify(got.body, got.headers)["data"] == {"n": 1}
    tampered = got.body.replace(b'"n":1', b'"n":2')
    assert not v1a_valid(public_key, got, tampered)
    with pytest.raises(Refused):
        Verifier(public_key).verify(tampered, got.headers)
    # The HMAC check of a Standard Webhooks library finds no v1 signature to accept.
    with pytest.raises(Exception, match="No matching signature"):
        Webhook("whsec_" + base64.b64encode(b"k" * 24).decode()).verify(got.body, got.headers)


async def test_given_keys_in_both_forms_and_refusals(hookline: Running, receiver: Receiver) -> None:
    acme = await hookline.new_account()
    seed = Ed25519PrivateKey.generate()
    raw_seed = seed.private_bytes_raw()
    expected = "whpk_" + base64.b64encode(seed.public_key().public_bytes_raw()).decode()
    for raw in (raw_seed, raw_seed + seed.public_key().public_bytes_raw()):
        secret = "whsk_" + base64.b64encode(raw).decode()
        r = await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "secret": secret})
        assert r.status_code == 201, r.text
        assert r.json()["secret"] == secret
        assert r.json()["signature"]["public_key"] == expected

    hook = r.json()["webhook_id"]
    bad = "whsk_" + base64.b64encode(b"\x01" * 64).decode()  # halves do not match
    refused: list[tuple[str, str, dict[str, Any]]] = [
        ("post", "/v1/webhooks", {"callback_url": receiver.url, "secret": bad}),
        ("post", "/v1/webhooks", {"callback_url": receiver.url, "secret": "whsk_abc"}),
        ("post", "/v1/webhooks", {"callback_url": receiver.url, "secret": "whsk_!!"}),
        (
            "post",
            "/v1/webhooks",
            {"callback_url": receiver.url, "secret": expected},  # a public key
        ),
        (
            "post",
            "/v1/webhooks",
            {"callback_url": receiver.url, "secret": secret, "key_type": "hmac-sha256"},
        ),
        (
            "post",
            "/v1/webhooks",
            {
                "callback_url": receiver.url,
                "key_type": "ed25519",
                "signature": {"scheme": "sha256-hex"},
            },
        ),
        ("post", f"/v1/webhooks/{hook}/secret/rotate", {"secret": bad}),
        ("post", f"/v1/webhooks/{hook}/secret/rotate", {"secret": secret[:-8]}),
        ("patch", f"/v1/webhooks/{hook}", {"signature": {"scheme": "sha256-hex"}}),
    ]
    for method, path, body in refused:
        r = await acme.request(method.upper(), path, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == "invalid_secret", (body, r.text)
    r = await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "key_type": "rsa"})
    assert r.status_code == 422
    # The gateway's signing secret stays HMAC: consumers verify it with their copy.
    r = await acme.post("/v1/signing-secret/rotate", json={"secret": secret})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_secret"


async def test_rotation_signs_with_both_keys_until_the_grace_period_ends(
    hookline: Running, receiver: Receiver
) -> None:
    acme = await hookline.new_account()
    hook = (
        await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "key_type": "ed25519"})
    ).json()
    old_pk = hook["signature"]["public_key"]
    r = await acme.post(f"/v1/webhooks/{hook['webhook_id']}/secret/rotate")
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["key_type"] == "ed25519"  # a rotation keeps the kind by default
    new_pk = rotated["public_key"]
    assert new_pk.startswith("whpk_")
    assert new_pk != old_pk
    assert rotated["previous_secret_expires_at"] is not None

    during = await deliver(acme, receiver, 1)
    assert [e.split(",")[0] for e in during.headers["webhook-signature"].split(" ")] == [
        "v1a",
        "v1a",
    ]
    for pk in (old_pk, new_pk):
        assert v1a_valid(pk, during)
        Verifier(pk).verify(during.body, during.headers)

    await expire_grace(hookline, hook["webhook_id"])
    after = await deliver(acme, receiver, 2)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert v1a_valid(new_pk, after)
    assert not v1a_valid(old_pk, after)
    with pytest.raises(Refused):
        Verifier(old_pk).verify(after.body, after.headers)


async def test_rotating_from_hmac_to_ed25519_and_back(
    hookline: Running, receiver: Receiver
) -> None:
    acme = await hookline.new_account()
    hook = (await acme.post("/v1/webhooks", json={"callback_url": receiver.url})).json()
    hmac_secret = hook["secret"]
    assert hook["signature"] | {"scheme": "standard"} == {
        "scheme": "standard",
        "header": None,
        "key_type": "hmac-sha256",
        "public_key": None,
    }
    path = f"/v1/webhooks/{hook['webhook_id']}/secret/rotate"
    switched = (await acme.post(path, json={"key_type": "ed25519"})).json()
    assert switched["secret"].startswith("whsk_")

    got = await deliver(acme, receiver, 1)
    # Receivers on either side of the switch keep verifying: HMAC ones with the v1 entry.
    assert sorted(e.split(",")[0] for e in got.headers["webhook-signature"].split(" ")) == [
        "v1",
        "v1a",
    ]
    Webhook(hmac_secret).verify(got.body, got.headers)
    Verifier(hmac_secret).verify(got.body, got.headers)
    assert v1a_valid(switched["public_key"], got)

    back = (await acme.post(path, json={"key_type": "hmac-sha256"})).json()
    assert back["secret"].startswith("whsec_")
    assert back["public_key"] is None
    got = await deliver(acme, receiver, 2)
    Webhook(back["secret"]).verify(got.body, got.headers)
    assert v1a_valid(switched["public_key"], got)  # the Ed25519 key is now in its grace


async def test_the_private_key_is_sealed_at_rest(
    make_hookline: Make, receiver: Receiver, tmp_path: Path, backend: str
) -> None:
    data = tmp_path / "data"
    hookline = await make_hookline(
        data_dir=data, **({"database_url": ""} if backend == "sqlite" else {})
    )
    acme = await hookline.new_account()
    seed = Ed25519PrivateKey.generate()
    raw = seed.private_bytes_raw()
    secret = "whsk_" + base64.b64encode(raw + seed.public_key().public_bytes_raw()).decode()
    hook = (
        await acme.post("/v1/webhooks", json={"callback_url": receiver.url, "secret": secret})
    ).json()
    path = f"/v1/webhooks/{hook['webhook_id']}/secret/rotate"
    rotated = (await acme.post(path)).json()["secret"]
    got = await deliver(acme, receiver, 1)
    assert v1a_valid(hook["signature"]["public_key"], got)

    hidden = [secret, rotated, base64.b64encode(raw).decode()]
    stored = await stored_secrets(hookline)
    assert all(s.lstrip('"').startswith("fernet:") for s in stored), stored
    for value in hidden:
        assert not any(value in s for s in stored)
    if backend == "sqlite":
        files = list(data.glob("hookline.db*"))
        assert files
        for f in files:
            content = f.read_bytes()
            assert raw not in content, f.name
            for value in hidden:
                assert value.encode() not in content, f.name
