from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookline.domain.ids import PREFIXES, id_time_ms, is_valid_id, new_id

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_MS = 2**48 - 1

prefixes = st.sampled_from(sorted(PREFIXES))
millis = st.integers(min_value=0, max_value=MAX_MS)
randomness = st.binary(min_size=10, max_size=10)


@given(prefixes, millis, randomness)
def test_an_id_is_its_prefix_and_26_crockford_characters(
    prefix: str, now_ms: int, rand: bytes
) -> None:
    value = new_id(prefix, now_ms, rand)
    head, sep, body = value.partition("_")
    assert (head, sep) == (prefix, "_")
    assert len(body) == 26
    assert set(body) <= set(CROCKFORD)
    assert is_valid_id(value, prefix)


@given(prefixes, millis, randomness)
def test_the_time_an_id_was_made_with_reads_back(prefix: str, now_ms: int, rand: bytes) -> None:
    assert id_time_ms(new_id(prefix, now_ms, rand)) == now_ms


@given(prefixes, millis, millis, randomness, randomness)
def test_ids_sort_by_creation_time_whatever_their_randomness(
    prefix: str, a_ms: int, b_ms: int, a_rand: bytes, b_rand: bytes
) -> None:
    a, b = new_id(prefix, a_ms, a_rand), new_id(prefix, b_ms, b_rand)
    if a_ms < b_ms:
        assert a < b
    elif a_ms > b_ms:
        assert a > b


@given(prefixes, millis, randomness, randomness)
def test_within_one_millisecond_ids_sort_by_their_random_bits(
    prefix: str, now_ms: int, a_rand: bytes, b_rand: bytes
) -> None:
    a, b = new_id(prefix, now_ms, a_rand), new_id(prefix, now_ms, b_rand)
    assert (a < b) == (a_rand < b_rand)
    assert (a == b) == (a_rand == b_rand)


def test_the_extremes_encode_as_expected() -> None:
    assert new_id("msg", 0, bytes(10)) == "msg_" + "0" * 26
    # 128 bits in 26 characters (130 bits): the first character never exceeds 7.
    assert new_id("msg", MAX_MS, b"\xff" * 10) == "msg_7" + "Z" * 25


def test_the_time_part_comes_before_the_random_part() -> None:
    # 1 ms is the lowest time bit: the 10th character (bits 80..84 of the 130).
    assert new_id("msg", 1, bytes(10)) == "msg_0000000001" + "0" * 16
    assert new_id("msg", 0, b"\x00" * 9 + b"\x01") == "msg_" + "0" * 25 + "1"


def test_ids_made_in_the_same_millisecond_differ() -> None:
    ids = {new_id("dlv", 1_700_000_000_000) for _ in range(1000)}
    assert len(ids) == 1000


def test_an_unknown_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown id prefix 'nope'"):
        new_id("nope", 0)


@pytest.mark.parametrize("size", [0, 9, 11])
def test_randomness_must_be_ten_bytes(size: int) -> None:
    with pytest.raises(ValueError, match="10 bytes"):
        new_id("msg", 0, bytes(size))


@pytest.mark.parametrize(
    "value",
    [
        "ep_01JD5Y4D5Y4D5Y4D5Y4D5Y4D5Y",  # another kind
        "msg01JD5Y4D5Y4D5Y4D5Y4D5Y4D5Y",  # no separator
        "msg_01JD5Y4D5Y4D5Y4D5Y4D5Y4D5",  # 25 characters
        "msg_01JD5Y4D5Y4D5Y4D5Y4D5Y4D5YY",  # 27 characters
        "msg_01jd5y4d5y4d5y4d5y4d5y4d5y",  # lower case
        "msg_01JD5Y4D5Y4D5Y4D5Y4D5Y4D5I",  # I, L, O and U are not Crockford digits
        "msg_01JD5Y4D5Y4D5Y4D5Y4D5Y4D5L",
        "msg_01JD5Y4D5Y4D5Y4D5Y4D5Y4D5O",
        "msg_01JD5Y4D5Y4D5Y4D5Y4D5Y4D5U",
        "msg_",
        "",
    ],
)
def test_malformed_ids_are_not_valid(value: str) -> None:
    assert not is_valid_id(value, "msg")


def test_a_well_formed_id_is_valid_only_for_its_own_kind() -> None:
    value = new_id("msg", 1_700_000_000_000)
    assert is_valid_id(value, "msg")
    assert not is_valid_id(value, "ep")


def test_a_trailing_newline_makes_an_id_invalid() -> None:
    assert not is_valid_id(new_id("msg", 1_700_000_000_000) + "\n", "msg")
