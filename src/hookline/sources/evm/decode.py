"""Pure matching of transactions and logs against watched addresses.

Input is what JSON-RPC returns (hex strings); output is :class:`Match` values, one per
watched address and direction, so a transfer between two watched addresses is two
notifications (``out`` for the sender's, ``in`` for the receiver's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import is_checksum_address, to_checksum_address
from eth_utils.crypto import keccak

TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
TRANSFER_SINGLE = (
    "0x" + keccak(text="TransferSingle(address,address,address,uint256,uint256)").hex()
)
TRANSFER_BATCH = (
    "0x" + keccak(text="TransferBatch(address,address,address,uint256[],uint256[])").hex()
)
TOKEN_TOPICS = (TRANSFER, TRANSFER_SINGLE, TRANSFER_BATCH)

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def normalise_address(raw: str) -> str:
    """Lower-case hex; a mixed-case address must carry a valid EIP-55 checksum."""
    value = raw.strip()
    if not _ADDRESS.fullmatch(value):
        raise ValueError("an EVM address is 0x followed by 40 hexadecimal digits")
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(value):
        raise ValueError("the address's mixed case is not a valid EIP-55 checksum")
    return "0x" + digits.lower()


def checksummed(address: str) -> str:
    return str(to_checksum_address(address))


@dataclass(frozen=True, slots=True)
class Match:
    event_type: str
    address: str  # the watched address (normalised)
    direction: str  # "in" or "out"
    tx_hash: str
    log_index: int | None  # None for a transaction
    contract: str | None  # the token contract, for logs
    fields: dict[str, Any]

    @property
    def ref(self) -> str:
        where = "tx" if self.log_index is None else str(self.log_index)
        return f"{self.tx_hash}:{where}:{self.address}:{self.direction}"


def _directions(
    sender: str | None, receiver: str | None, watched: Mapping[str, Any]
) -> list[tuple[str, str]]:
    found = []
    if sender is not None and sender in watched:
        found.append((sender, "out"))
    if receiver is not None and receiver in watched:
        found.append((receiver, "in"))
    return found


def _hex_int(value: Any) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"not a hex quantity: {value!r}")
    return int(value, 16)


def match_transaction(tx: Mapping[str, Any], watched: Mapping[str, Any]) -> list[Match]:
    """``evm.transaction`` matches of one transaction object (from a block or the pool)."""
    sender = str(tx.get("from") or "").lower() or None
    receiver = str(tx.get("to") or "").lower() or None
    fields = {
        "from": checksummed(sender) if sender else None,
        "to": checksummed(receiver) if receiver else None,
        "value": str(_hex_int(tx.get("value", "0x0"))),
        "nonce": _hex_int(tx.get("nonce", "0x0")),
    }
    return [
        Match("evm.transaction", address, direction, str(tx["hash"]), None, None, fields)
        for address, direction in _directions(sender, receiver, watched)
    ]


def _topic_address(topic: str) -> str:
    return "0x" + topic[-40:].lower()


def match_log(log: Mapping[str, Any], watched: Mapping[str, Any]) -> list[Match]:
    """Token transfer matches of one log; logs of other shapes match nothing."""
    topics = [str(t).lower() for t in log.get("topics") or ()]
    if not topics or topics[0] not in TOKEN_TOPICS:
        return []
    data = bytes.fromhex(str(log.get("data") or "0x")[2:])
    contract = str(log["address"]).lower()
    operator: str | None = None
    if topics[0] == TRANSFER and len(topics) == 3 and len(data) == 32:
        event_type = "evm.erc20.transfer"
        sender, receiver = _topic_address(topics[1]), _topic_address(topics[2])
        detail: dict[str, Any] = {"amount": str(int.from_bytes(data, "big"))}
    elif topics[0] == TRANSFER and len(topics) == 4:
        event_type = "evm.erc721.transfer"
        sender, receiver = _topic_address(topics[1]), _topic_address(topics[2])
        detail = {"token_id": str(int(topics[3], 16))}
    elif topics[0] in (TRANSFER_SINGLE, TRANSFER_BATCH) and len(topics) == 4:
        event_type = "evm.erc1155.transfer"
        operator = _topic_address(topics[1])
        sender, receiver = _topic_address(topics[2]), _topic_address(topics[3])
        try:
            if topics[0] == TRANSFER_SINGLE:
                ids, amounts = abi_decode(["uint256", "uint256"], data)
                ids, amounts = [ids], [amounts]
            else:
                ids, amounts = abi_decode(["uint256[]", "uint256[]"], data)
        except Exception:  # a contract that emits a malformed event: not a transfer we know
            return []
        detail = {
            "operator": checksummed(operator),
            "token_ids": [str(i) for i in ids],
            "amounts": [str(a) for a in amounts],
            "batch": topics[0] == TRANSFER_BATCH,
        }
    else:
        return []
    fields = {"from": checksummed(sender), "to": checksummed(receiver), **detail}
    return [
        Match(
            event_type,
            address,
            direction,
            str(log["transactionHash"]),
            _hex_int(log["logIndex"]),
            contract,
            fields,
        )
        for address, direction in _directions(sender, receiver, watched)
    ]


def address_topic(address: str) -> str:
    """A 20-byte address as a 32-byte log topic, for eth_getLogs filters."""
    return "0x" + "0" * 24 + address[2:]


def decode_string_answer(raw: str) -> str | None:
    """An ``eth_call`` answer of a ``string`` (or, for old tokens, ``bytes32``) getter."""
    data = bytes.fromhex(raw[2:]) if raw.startswith("0x") else b""
    if not data:
        return None
    try:
        (text,) = abi_decode(["string"], data)
        return str(text)[:64] or None
    except Exception:
        if len(data) == 32:
            return data.rstrip(b"\0").decode("utf-8", "replace")[:64] or None
        return None


def decode_uint_answer(raw: str) -> int | None:
    data = bytes.fromhex(raw[2:]) if raw.startswith("0x") else b""
    if len(data) != 32:
        return None
    value = int.from_bytes(data, "big")
    return value if value <= 255 else None
