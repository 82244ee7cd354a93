"""``hookline secrets rotate-key``: every stored secret sealed again under a new key,
readable with it, unreadable with the old key alone, whether keys come from
HOOKLINE_SECRET_KEY or from the data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hookline.errors import SecretsUnreadable
from hookline.store.sealing import generate_key, parse_keys
from tests.support.server import Running, make_settings, start


def _cli(
    *args: str, database_url: str, data_dir: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    clean |= {"HOOKLINE_DATABASE_URL": database_url, "HOOKLINE_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [sys.executable, "-m", "hookline", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _webhook_with_secret(hookline: Running) -> tuple[str, str, str]:
    r = await hookline.admin.post("/v1/accounts", json={"name": "acme"})
    key = r.json()["api_key"]["key"]
    client = hookline.client(key)
    r = await client.post(
        "/v1/webhooks",
        json={"callback_url": "https://example.com/h", "headers": {"X-Token": "t0ken-value"}},
    )
    assert r.status_code == 201, r.text
    return key, r.json()["webhook_id"], r.json()["secret"]


async def _secret_of(hookline: Running, key: str, webhook: str) -> str:
    r = await hookline.client(key).get(f"/v1/webhooks/{webhook}/secret")
    assert r.status_code == 200, r.text
    return str(r.json()["secret"])


def test_generate_key_prints_a_usable_key(tmp_path: Path) -> None:
    done = _cli("secrets", "generate-key", database_url="", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(parse_keys(done.stdout)) == 1


async def test_rotating_a_configured_key(database_url: str, tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    settings = make_settings(tmp_path, database_url=database_url, secret_key=old)
    hookline = await start(settings, worker=False)
    key, webhook, secret = await _webhook_with_secret(hookline)
    await hookline.stop()

    done = _cli(
        "secrets", "rotate-key", "--new-key", new,
        database_url=database_url, data_dir=tmp_path, HOOKLINE_SECRET_KEY=old,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "sealed the secrets of" in done.stdout
    assert old not in done.stdout + done.stderr
    assert new not in done.stdout + done.stderr

    with pytest.raises(SecretsUnreadable):
        await start(make_settings(tmp_path, database_url=database_url, secret_key=old))
    refused = _cli("migrate", database_url=database_url, data_dir=tmp_path)
    assert refused.returncode == 0  # migrating needs no key
    served = _cli(
        "serve", "--port", "0", database_url=database_url, data_dir=tmp_path,
        HOOKLINE_SECRET_KEY=old, HOOKLINE_ADMIN_KEY="x" * 32,
    )  # fmt: skip
    assert served.returncode == 1
    assert "HOOKLINE_SECRET_KEY" in served.stderr

    # During a rollout both keys are configured, newest first; then the new one alone.
    for keys in (f"{new},{old}", new):
        hookline = await start(make_settings(tmp_path, database_url=database_url, secret_key=keys))
        try:
            assert await _secret_of(hookline, key, webhook) == secret
        finally:
            await hookline.stop()


async def test_rotating_the_key_kept_in_the_data_directory(
    database_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    settings = make_settings(tmp_path, database_url=database_url, data_dir=data)
    hookline = await start(settings, worker=False)
    key, webhook, secret = await _webhook_with_secret(hookline)
    await hookline.stop()
    before = (data / "secret_key").read_text()

    done = _cli("secrets", "rotate-key", database_url=database_url, data_dir=data)
    assert done.returncode == 0, done.stderr
    after = (data / "secret_key").read_text()
    assert after != before
    assert (data / "secret_key").stat().st_mode & 0o777 == 0o600

    hookline = await start(settings, worker=False)
    try:
        assert await _secret_of(hookline, key, webhook) == secret
    finally:
        await hookline.stop()
