"""``hookline webhooks create --key-type ed25519``, ``secret`` and ``rotate-secret``: the
private key and public key as a user sees them, and a delivery the public key verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookline.receiver import Verifier
from tests.support.cli import cli_json, client_env
from tests.support.processes import run_cli
from tests.support.receiver import Receiver
from tests.support.server import Running
from tests.support.signing import deliver

pytestmark = pytest.mark.slow


async def test_ed25519_keys_from_the_command_line(
    hookline: Running, receiver: Receiver, tmp_path: Path
) -> None:
    acme = await hookline.new_account()
    env = client_env(tmp_path, hookline.url, acme.headers["Authorization"].removeprefix("Bearer "))
    hook = await cli_json("webhooks", "create", receiver.url, "--key-type", "ed25519", env=env)
    assert hook["secret"].startswith("whsk_")
    public_key = hook["signature"]["public_key"]

    shown = await cli_json("webhooks", "secret", hook["webhook_id"], env=env)
    assert shown["public_key"] == public_key
    code, text, _ = await run_cli("webhooks", "secret", hook["webhook_id"], env=env)
    assert code == 0
    assert public_key in text
    assert "ed25519" in text

    rotated = await cli_json("webhooks", "rotate-secret", hook["webhook_id"], env=env)
    assert rotated["key_type"] == "ed25519"
    assert rotated["public_key"] not in (None, public_key)
    got = await deliver(acme, receiver, 1)
    for pk in (public_key, rotated["public_key"]):
        Verifier(pk).verify(got.body, got.headers)

    back = await cli_json(
        "webhooks", "rotate-secret", hook["webhook_id"], "--key-type", "hmac-sha256", env=env
    )
    assert back["secret"].startswith("whsec_")
    code, _, err = await run_cli(
        "webhooks", "rotate-secret", hook["webhook_id"], "--secret", "whsk_bad", env=env
    )
    assert code == 1
    assert "invalid_secret" in err or "whsk_" in err
