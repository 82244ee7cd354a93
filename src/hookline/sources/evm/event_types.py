"""The EVM event types: name, description, JSON Schema (draft 2020-12) and an example.

:func:`evm_event_types` is what the event catalog registers; the schemas describe the
``data`` the follower publishes (``follower.py``), and a unit test checks that the
examples (and real events) validate against them.
"""

from __future__ import annotations

from typing import Any

from hookline.sources.base import EventTypeSpec

_HEX32 = {"type": "string", "pattern": "^0x[0-9a-f]{64}$"}
_ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
_DECIMAL = {"type": "string", "pattern": "^[0-9]+$"}

# Fields every EVM notification carries. Block fields are null at confirmation 0.
_COMMON: dict[str, Any] = {
    "source_id": {"type": "string"},
    "chain_id": {"type": ["integer", "null"]},
    "address": _ADDRESS,
    "label": {"type": ["string", "null"]},
    "direction": {"enum": ["in", "out"]},
    "tx_hash": _HEX32,
    "log_index": {"type": ["integer", "null"], "minimum": 0},
    "block_number": {"type": ["integer", "null"], "minimum": 0},
    "block_hash": {"anyOf": [_HEX32, {"type": "null"}]},
    "confirmation": {"type": "integer", "minimum": 0},
}
_TOKEN = {
    "type": "object",
    "properties": {
        "contract": _ADDRESS,
        "symbol": {"type": ["string", "null"]},
        "decimals": {"type": ["integer", "null"]},
    },
    "required": ["contract", "symbol", "decimals"],
}


def _schema(title: str, extra: dict[str, Any]) -> dict[str, Any]:
    properties = {**_COMMON, **extra}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
    }


_SOURCE = "src_01JDQ8M4ZP3W5X0T9K2H6RBNCE"
_WATCHED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
_OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
_CONTRACT = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
_TX = "0x" + "5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
_BLOCK = "0x" + "b3b20624f8f0f86eb50dd04688409e5cea4bd02d700bf6e79e9384d47d6a5a35"


def _example(**fields: Any) -> dict[str, Any]:
    return {
        "source_id": _SOURCE,
        "chain_id": 1,
        "address": _WATCHED,
        "label": "treasury",
        "direction": "in",
        "tx_hash": _TX,
        "log_index": 3,
        "block_number": 21000000,
        "block_hash": _BLOCK,
        "confirmation": 12,
        **fields,
    }


def evm_event_types() -> list[EventTypeSpec]:
    """Every event type an EVM source publishes, for the event catalog."""
    return [
        EventTypeSpec(
            "evm.transaction",
            "A transaction from or to a watched address: seen pending (confirmation 0, "
            "where the node shows pending transactions) and at each configured "
            "confirmation count. value is in wei, as a decimal string.",
            _schema(
                "evm.transaction",
                {
                    "from": _ADDRESS,
                    "to": {"anyOf": [_ADDRESS, {"type": "null"}]},
                    "value": _DECIMAL,
                    "nonce": {"type": "integer", "minimum": 0},
                },
            ),
            _example(
                log_index=None,
                **{"from": _OTHER, "to": _WATCHED, "value": "1500000000000000000", "nonce": 7},
            ),
        ),
        EventTypeSpec(
            "evm.erc20.transfer",
            "An ERC-20 Transfer log where a watched address is the sender or receiver; "
            "amount in the token's smallest unit, as a decimal string.",
            _schema(
                "evm.erc20.transfer",
                {"token": _TOKEN, "from": _ADDRESS, "to": _ADDRESS, "amount": _DECIMAL},
            ),
            _example(
                token={"contract": _CONTRACT, "symbol": "USDX", "decimals": 6},
                amount="250000000",
                **{"from": _OTHER, "to": _WATCHED},
            ),
        ),
        EventTypeSpec(
            "evm.erc721.transfer",
            "An ERC-721 Transfer log (one token id) where a watched address is the sender "
            "or receiver.",
            _schema(
                "evm.erc721.transfer",
                {"token": _TOKEN, "from": _ADDRESS, "to": _ADDRESS, "token_id": _DECIMAL},
            ),
            _example(
                token={"contract": _CONTRACT, "symbol": "PUNK", "decimals": None},
                **{"token_id": "4242"},
                **{"from": _OTHER, "to": _WATCHED},
            ),
        ),
        EventTypeSpec(
            "evm.erc1155.transfer",
            "An ERC-1155 TransferSingle or TransferBatch log where a watched address is the "
            "sender or receiver; token_ids[i] moved amounts[i].",
            _schema(
                "evm.erc1155.transfer",
                {
                    "token": _TOKEN,
                    "operator": _ADDRESS,
                    "from": _ADDRESS,
                    "to": _ADDRESS,
                    "token_ids": {"type": "array", "items": _DECIMAL},
                    "amounts": {"type": "array", "items": _DECIMAL},
                    "batch": {"type": "boolean"},
                },
            ),
            _example(
                token={"contract": _CONTRACT, "symbol": None, "decimals": None},
                operator=_OTHER,
                token_ids=["1", "2"],
                amounts=["10", "1"],
                batch=True,
                **{"from": _OTHER, "to": _WATCHED},
            ),
        ),
        EventTypeSpec(
            "evm.reorg",
            "Blocks the source had notified about were replaced. Each affected "
            "notification is named (with the event ids already sent for it) so receivers "
            "can undo; transactions that land in the new blocks are notified again.",
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "title": "evm.reorg",
                "type": "object",
                "properties": {
                    "source_id": {"type": "string"},
                    "chain_id": {"type": ["integer", "null"]},
                    "common_ancestor": {"type": "integer", "minimum": -1},
                    "replaced_from_block": {"type": "integer", "minimum": 0},
                    "notifications": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "type": {"type": "string"},
                                "address": _ADDRESS,
                                "direction": {"enum": ["in", "out"]},
                                "tx_hash": _HEX32,
                                "log_index": {"type": ["integer", "null"]},
                                "block_number": {"type": "integer"},
                                "block_hash": _HEX32,
                                "event_ids": {"type": "array", "items": {"type": "string"}},
                            },
                            "required": [
                                "type",
                                "address",
                                "direction",
                                "tx_hash",
                                "log_index",
                                "block_number",
                                "block_hash",
                                "event_ids",
                            ],
                        },
                    },
                },
                "required": [
                    "source_id",
                    "chain_id",
                    "common_ancestor",
                    "replaced_from_block",
                    "notifications",
                ],
            },
            {
                "source_id": _SOURCE,
                "chain_id": 1,
                "common_ancestor": 20999999,
                "replaced_from_block": 21000000,
                "notifications": [
                    {
                        "type": "evm.transaction",
                        "address": _WATCHED,
                        "direction": "in",
                        "tx_hash": _TX,
                        "log_index": None,
                        "block_number": 21000000,
                        "block_hash": _BLOCK,
                        "event_ids": ["msg_01JDQ8N0000000000000000000"],
                    }
                ],
            },
        ),
    ]
