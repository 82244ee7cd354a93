"""Matching EVM transactions and logs against watched addresses, and the event types."""

from __future__ import annotations

import jsonschema
import pytest
from eth_abi.abi import encode

from hookline.sources.evm import decode
from hookline.sources.evm.event_types import evm_event_types
from hookline.sources.evm.follower import idempotency_key

CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
WATCHED = CHECKSUMMED.lower()
OTHER = "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"
TOKEN = "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb"
TX = "0x" + "ab" * 32
BLOCK = "0x" + "cd" * 32


@pytest.mark.parametrize(
    "raw", [CHECKSUMMED, WATCHED, "0x" + WATCHED[2:].upper(), f"  {CHECKSUMMED} "]
)
def test_addresses_normalise_to_lower_case(raw: str) -> None:
    assert decode.normalise_address(raw) == WATCHED


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "checksum"),  # one letter's case off
        ("0x1234", "40 hexadecimal"),
        ("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "40 hexadecimal"),
        ("0xZZaeb6053f3e94c9b9a09f33669435e7ef1beaed", "40 hexadecimal"),
    ],
)
def test_bad_addresses_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode.normalise_address(raw)


def test_checksummed_display() -> None:
    assert decode.checksummed(WATCHED) == CHECKSUMMED


def _topic(address: str) -> str:
    return decode.address_topic(address)


def _log(topics: list[str], data: bytes, index: int = 5) -> dict[str, object]:
    return {
        "address": TOKEN,
        "topics": topics,
        "data": "0x" + data.hex(),
        "transactionHash": TX,
        "logIndex": hex(index),
        "blockHash": BLOCK,
        "blockNumber": "0x10",
    }


def test_a_transaction_matches_each_watched_side() -> None:
    tx = {"hash": TX, "from": OTHER, "to": WATCHED, "value": hex(10**18), "nonce": "0x7"}
    (m,) = decode.match_transaction(tx, {WATCHED: None})
    assert (m.event_type, m.address, m.direction, m.log_index) == (
        "evm.transaction",
        WATCHED,
        "in",
        None,
    )
    assert m.fields == {
        "from": decode.checksummed(OTHER),
        "to": CHECKSUMMED,
        "value": str(10**18),
        "nonce": 7,
    }
    both = decode.match_transaction(tx, {WATCHED: None, OTHER: None})
    assert {(b.address, b.direction) for b in both} == {(OTHER, "out"), (WATCHED, "in")}
    assert len({b.ref for b in both}) == 2
    creation = {**tx, "from": WATCHED, "to": None}
    (out,) = decode.match_transaction(creation, {WATCHED: None})
    assert out.direction == "out"
    assert out.fields["to"] is None
    assert decode.match_transaction(tx, {TOKEN: None}) == []


def test_erc20_and_erc721_transfers_are_told_apart_by_their_topics() -> None:
    erc20 = _log([decode.TRANSFER, _topic(OTHER), _topic(WATCHED)], (250).to_bytes(32, "big"))
    (m,) = decode.match_log(erc20, {WATCHED: None})
    assert m.event_type == "evm.erc20.transfer"
    assert m.fields["amount"] == "250"
    assert m.contract == TOKEN
    assert m.log_index == 5
    assert m.direction == "in"
    erc721 = _log([decode.TRANSFER, _topic(WATCHED), _topic(OTHER), hex(4242)], b"")
    (m,) = decode.match_log(erc721, {WATCHED: None})
    assert m.event_type == "evm.erc721.transfer"
    assert m.fields["token_id"] == "4242"
    assert m.direction == "out"


def test_erc1155_single_and_batch() -> None:
    single = _log(
        [decode.TRANSFER_SINGLE, _topic(OTHER), _topic(OTHER), _topic(WATCHED)],
        encode(["uint256", "uint256"], [7, 100]),
    )
    (m,) = decode.match_log(single, {WATCHED: None})
    assert m.event_type == "evm.erc1155.transfer"
    assert (m.fields["token_ids"], m.fields["amounts"], m.fields["batch"]) == (
        ["7"],
        ["100"],
        False,
    )
    batch = _log(
        [decode.TRANSFER_BATCH, _topic(OTHER), _topic(WATCHED), _topic(OTHER)],
        encode(["uint256[]", "uint256[]"], [[1, 2], [10, 1]]),
    )
    (m,) = decode.match_log(batch, {WATCHED: None})
    assert (m.fields["token_ids"], m.fields["amounts"], m.fields["batch"]) == (
        ["1", "2"],
        ["10", "1"],
        True,
    )
    assert m.direction == "out"
    assert m.fields["operator"] == decode.checksummed(OTHER)


@pytest.mark.parametrize(
    "log",
    [
        _log(["0x" + "11" * 32, _topic(WATCHED), _topic(OTHER)], b"\0" * 32),  # other event
        _log([decode.TRANSFER, _topic(WATCHED), _topic(OTHER)], b"\0" * 31),  # short data
        _log([decode.TRANSFER_BATCH, _topic(OTHER), _topic(WATCHED), _topic(OTHER)], b"\1" * 7),
        _log([], b""),
    ],
)
def test_logs_of_other_shapes_match_nothing(log: dict[str, object]) -> None:
    assert decode.match_log(log, {WATCHED: None, OTHER: None}) == []


def test_token_answers() -> None:
    assert decode.decode_string_answer("0x" + encode(["string"], ["USDX"]).hex()) == "USDX"
    bytes32 = "0x" + b"MKR".ljust(32, b"\0").hex()
    assert decode.decode_string_answer(bytes32) == "MKR"
    assert decode.decode_string_answer("0x") is None
    assert decode.decode_uint_answer("0x" + (6).to_bytes(32, "big").hex()) == 6
    assert decode.decode_uint_answer("0x" + (1000).to_bytes(32, "big").hex()) is None
    assert decode.decode_uint_answer("0x") is None


def test_idempotency_keys_differ_by_confirmation_block_and_side_and_fit() -> None:
    ref = f"{TX}:5:{WATCHED}:in"
    source = "src_01JDQ8M4ZP3W5X0T9K2H6RBNCE"
    keys = {
        idempotency_key(source, BLOCK, ref, 1),
        idempotency_key(source, BLOCK, ref, 12),
        idempotency_key(source, "0x" + "ef" * 32, ref, 1),
        idempotency_key(source, None, ref, 0),
        idempotency_key(source, BLOCK, f"{TX}:5:{WATCHED}:out", 1),
    }
    assert len(keys) == 5
    assert max(len(k) for k in keys) <= 255


def test_every_event_type_has_a_valid_schema_its_example_meets() -> None:
    specs = evm_event_types()
    assert [s.name for s in specs] == [
        "evm.transaction",
        "evm.erc20.transfer",
        "evm.erc721.transfer",
        "evm.erc1155.transfer",
        "evm.reorg",
    ]
    for name, description, schema, example in specs:
        assert description
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.validate(example, schema)
        assert name == schema["title"]
