from __future__ import annotations

import base64
import hashlib

from hypothesis import given
from hypothesis import strategies as st

from hookline.domain.keys import KEY_PREFIX, generate_api_key, hash_api_key


def test_a_key_is_prefixed_and_carries_256_random_bits() -> None:
    key = generate_api_key()
    assert key.startswith(KEY_PREFIX)
    assert KEY_PREFIX == "hk_"
    body = key[len(KEY_PREFIX) :]
    assert len(base64.urlsafe_b64decode(body + "=")) == 32


def test_keys_are_unique() -> None:
    assert len({generate_api_key() for _ in range(1000)}) == 1000


def test_a_key_is_safe_in_a_header_and_a_url() -> None:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    for _ in range(100):
        assert set(generate_api_key()[len(KEY_PREFIX) :]) <= allowed


@given(st.text())
def test_the_stored_hash_is_the_sha256_hex_of_the_key(key: str) -> None:
    digest = hash_api_key(key)
    assert digest == hashlib.sha256(key.encode()).hexdigest()
    assert len(digest) == 64


@given(st.text(), st.text())
def test_different_keys_hash_differently(a: str, b: str) -> None:
    assert (hash_api_key(a) == hash_api_key(b)) is (a == b)
