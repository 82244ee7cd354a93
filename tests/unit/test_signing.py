from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from hookline.domain.signing import (
    HEADER_NAME,
    Scheme,
    generate_secret,
    secret_problem,
    sign_sha256_hex,
    sign_standard,
    signature_headers,
)

standard_secrets = st.binary(min_size=24, max_size=64).map(
    lambda key: "whsec_" + base64.b64encode(key).decode()
)
hex_secrets = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=16, max_size=64
)
# Bodies are what the envelope produces: UTF-8 text of any content.
bodies = st.text().map(str.encode)
msg_ids = st.text(st.characters(codec="ascii", exclude_characters=" \r\n"), min_size=1)


def plain_standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """What a receiver writes with nothing but the standard library."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def standard_headers(secrets: list[str], msg_id: str, body: bytes) -> dict[str, str]:
    return signature_headers(
        scheme=Scheme.STANDARD,
        header=None,
        secrets=secrets,
        msg_id=msg_id,
        # The library checks the timestamp against its own clock, so sign with "now".
        timestamp=int(time.time()),
        body=body,
    )


# -- Standard Webhooks --------------------------------------------------------------------


@given(standard_secrets, msg_ids, bodies)
def test_standard_signatures_verify_with_the_standardwebhooks_package(
    secret: str, msg_id: str, body: bytes
) -> None:
    headers = standard_headers([secret], msg_id, body)
    Webhook(secret).verify(body, headers, json_parse=False)


@given(standard_secrets, msg_ids, st.integers(min_value=0, max_value=2**33), bodies)
def test_standard_signatures_verify_with_plain_hmac(
    secret: str, msg_id: str, timestamp: int, body: bytes
) -> None:
    assert sign_standard([secret], msg_id, timestamp, body) == plain_standard_signature(
        secret, msg_id, timestamp, body
    )


@given(st.lists(standard_secrets, min_size=1, max_size=4, unique=True), msg_ids, bodies)
def test_during_rotation_every_secret_has_an_entry_that_verifies(
    secrets: list[str], msg_id: str, body: bytes
) -> None:
    headers = standard_headers(secrets, msg_id, body)
    entries = headers["webhook-signature"].split(" ")
    assert len(entries) == len(secrets)
    timestamp = int(headers["webhook-timestamp"])
    for secret, entry in zip(secrets, entries, strict=True):
        assert entry == plain_standard_signature(secret, msg_id, timestamp, body)
        Webhook(secret).verify(body, headers, json_parse=False)


@given(standard_secrets, standard_secrets, msg_ids, bodies)
def test_a_signature_does_not_verify_with_another_secret(
    secret: str, other: str, msg_id: str, body: bytes
) -> None:
    assume(base64.b64decode(secret[6:]) != base64.b64decode(other[6:]))
    headers = standard_headers([secret], msg_id, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers, json_parse=False)


@given(standard_secrets, msg_ids, bodies, bodies)
def test_a_tampered_body_fails_verification(
    secret: str, msg_id: str, body: bytes, other: bytes
) -> None:
    assume(body != other)
    headers = standard_headers([secret], msg_id, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(other, headers, json_parse=False)
    timestamp = int(headers["webhook-timestamp"])
    assert headers["webhook-signature"] != plain_standard_signature(
        secret, msg_id, timestamp, other
    )


def test_a_changed_id_or_timestamp_fails_verification() -> None:
    secret = generate_secret()
    body = b'{"type":"invoice.paid"}'
    headers = standard_headers([secret], "msg_1", body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "msg_2"})
    moved = str(int(headers["webhook-timestamp"]) - 1)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-timestamp": moved})


def test_standard_headers_carry_id_timestamp_and_signature_only() -> None:
    secret = generate_secret()
    headers = signature_headers(
        scheme=Scheme.STANDARD,
        header="X-Ignored",
        secrets=[secret],
        msg_id="msg_1",
        timestamp=1_700_000_000,
        body=b"{}",
    )
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"] == plain_standard_signature(
        secret, "msg_1", 1_700_000_000, b"{}"
    )


# -- sha256-hex ---------------------------------------------------------------------------


@given(hex_secrets, st.binary())
def test_sha256_hex_is_the_hmac_hexdigest_of_the_raw_body(secret: str, body: bytes) -> None:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert sign_sha256_hex(secret, body) == f"sha256={expected}"


@given(hex_secrets, st.binary(), st.binary())
def test_sha256_hex_differs_for_a_tampered_body(secret: str, body: bytes, other: bytes) -> None:
    if body != other:
        assert sign_sha256_hex(secret, body) != sign_sha256_hex(secret, other)


def test_sha256_hex_goes_in_the_named_header_beside_the_id_and_timestamp() -> None:
    secret = "a-shared-secret-of-some-length"
    body = b'{"id":"msg_1"}'
    headers = signature_headers(
        scheme=Scheme.SHA256_HEX,
        header="X-Hub-Signature-256",
        secrets=[secret],
        msg_id="msg_1",
        timestamp=1_700_000_000,
        body=body,
    )
    assert headers == {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "X-Hub-Signature-256": "sha256="
        + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }


def test_sha256_hex_defaults_to_x_signature_and_lists_every_secret() -> None:
    headers = signature_headers(
        scheme=Scheme.SHA256_HEX,
        header=None,
        secrets=["first-secret-0123456", "second-secret-012345"],
        msg_id="msg_1",
        timestamp=1_700_000_000,
        body=b"{}",
    )
    assert "webhook-signature" not in headers
    assert headers["X-Signature"] == ", ".join(
        [
            sign_sha256_hex("first-secret-0123456", b"{}"),
            sign_sha256_hex("second-secret-012345", b"{}"),
        ]
    )


# -- secrets ------------------------------------------------------------------------------


def test_a_generated_secret_is_whsec_and_base64_of_24_random_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[len("whsec_") :], validate=True)) == 24
    assert secret_problem(secret, Scheme.STANDARD) is None
    assert len({generate_secret() for _ in range(100)}) == 100


def whsec(size: int) -> str:
    return "whsec_" + base64.b64encode(bytes(range(size))).decode()


@pytest.mark.parametrize(
    ("secret", "scheme", "problem"),
    [
        (whsec(24), Scheme.STANDARD, None),
        (whsec(64), Scheme.STANDARD, None),
        (whsec(24)[len("whsec_") :], Scheme.STANDARD, "must start with whsec_"),
        ("whsec_not base64!", Scheme.STANDARD, "must be base64"),
        ("whsec_AAAA=AAA", Scheme.STANDARD, "must be base64"),
        (whsec(23), Scheme.STANDARD, "24 to 64 bytes"),
        (whsec(65), Scheme.STANDARD, "24 to 64 bytes"),
        ("whsec_", Scheme.STANDARD, "24 to 64 bytes"),
        ("x" * 16, Scheme.SHA256_HEX, None),
        ("x" * 256, Scheme.SHA256_HEX, None),
        (whsec(24), Scheme.SHA256_HEX, None),
        ("x" * 15, Scheme.SHA256_HEX, "16 to 256 characters"),
        ("x" * 257, Scheme.SHA256_HEX, "16 to 256 characters"),
    ],
)
def test_secret_problems(secret: str, scheme: Scheme, problem: str | None) -> None:
    found = secret_problem(secret, scheme)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


@given(st.binary(min_size=24, max_size=64))
def test_every_acceptable_standard_secret_signs_and_verifies(key: bytes) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    assert secret_problem(secret, Scheme.STANDARD) is None
    body = b'{"ok":true}'
    Webhook(secret).verify(body, standard_headers([secret], "msg_1", body))


def test_stray_characters_in_a_secret_are_refused_rather_than_skipped() -> None:
    # A lenient decoder would drop the "*" and keep a key the user never chose.
    assert secret_problem("whsec_AAAA*" + "A" * 32, Scheme.STANDARD) == (
        "the part after whsec_ must be base64"
    )


@pytest.mark.parametrize("name", ["X-Signature", "x-hub-signature-256", "A", "A" * 64])
def test_usable_header_names(name: str) -> None:
    assert HEADER_NAME.match(name)


@pytest.mark.parametrize(
    "name", ["", "-X", "X_Sig", "X Sig", "X:Sig", "A" * 65, "X-Signature\n", "X-Sig\r\n"]
)
def test_unusable_header_names(name: str) -> None:
    # Callers check with .match(): a newline must not slip through at the end, where it
    # would break the header block of every request sent with it.
    assert not HEADER_NAME.match(name)
