"""Following an EVM chain over JSON-RPC, one bounded step at a time.

A step reads the head, polls the node's pending-transaction filter (when confirmation
0 is asked for), then processes the blocks after the cursor, at most ``block_range`` of
them: their transactions (``eth_getBlockByNumber`` with full transactions) and their
token transfer logs (``eth_getLogs`` over the same range, filtered by topic to the
watched addresses). Each block's parent hash must be the cursor's hash; when it is not,
the chain was reorganised: the step walks back through the recent blocks it kept to the
common ancestor, names every notification above it in one ``evm.reorg`` event and
rewinds the cursor there. Notifications already published reach their higher
confirmation counts as the head moves on.

Nothing here writes to the database; the step is committed by the runner, so an RPC
failure anywhere leaves the committed state as it was and the step is simply redone.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from hookline.domain import egress
from hookline.domain.sources import Cursor, Source, Tracked
from hookline.sources.base import FollowLimits, FollowState, Publication, Step
from hookline.sources.evm import decode
from hookline.sources.evm.rpc import MethodNotFound, RpcClient, RpcError

TOKEN_CACHE_SIZE = 4096
TOPICS_PER_QUERY = 500
MAX_UNSENT = 10_000
SYMBOL = "0x95d89b41"  # symbol()
DECIMALS = "0x313ce567"  # decimals()


def idempotency_key(source_id: str, block_hash: str | None, ref: str, confirmation: int) -> str:
    """One key per notification: (source, block, tx hash, log index, address, direction,
    confirmation). The block hash is part of it so that a transaction that lands again
    in a new block after a reorg is notified again; a restart or a second worker making
    the same notification gets the same key."""
    return f"evm:{source_id}:{block_hash or 'pending'}:{ref}:{confirmation}"


class EvmFollower:
    def __init__(
        self, source: Source, limits: FollowLimits, allow: tuple[egress.IPNetwork, ...]
    ) -> None:
        self.rpc = RpcClient(source.rpc_url, allow=allow, timeout=limits.rpc_timeout)
        self.limits = limits
        self._chain_id: int | None = None
        self._tokens: OrderedDict[str, tuple[str | None, int | None]] = OrderedDict()
        self._pending_filter: str | None = None
        self._pending_supported = True
        # Pending notifications read from the node's filter (which forgets what it
        # reported) and not yet committed: every step carries them until one commits.
        self._unsent: list[Publication] = []

    async def close(self) -> None:
        await self.rpc.close()

    def committed(self) -> None:
        self._unsent.clear()

    # -- the step ----------------------------------------------------------------------

    async def step(self, state: FollowState) -> Step:
        source = state.source
        if self._chain_id is None:
            chain_id = int(await self.rpc.call("eth_chainId"), 16)
            if source.chain_id is not None and chain_id != source.chain_id:
                raise RpcError(f"the node serves chain {chain_id}, not {source.chain_id}")
            self._chain_id = chain_id
        step = Step(head=int(await self.rpc.call("eth_blockNumber"), 16))
        assert step.head is not None
        if 0 in source.confirmations:
            await self._pending(state)
        step.events += self._unsent[:MAX_UNSENT]
        cursor = source.cursor
        if cursor is None:
            cursor = await self._first_cursor(source, step.head)
            if cursor is None:  # start_block is still in the future
                return step
            step.cursor = cursor
        elif cursor.hash is not None and await self._hash_at(cursor.block) != cursor.hash:
            # The cursor's block was replaced (or the chain is now shorter than it).
            await self._reorg(state, step, cursor)
            return step
        if cursor.block < step.head:
            rewound = await self._scan(state, step, cursor)
            if rewound:
                return step
        self._confirm_tracked(state, step)
        return step

    async def _hash_at(self, number: int) -> str | None:
        block = await self.rpc.call("eth_getBlockByNumber", hex(number), False)
        return str(block["hash"]) if isinstance(block, dict) and "hash" in block else None

    async def _first_cursor(self, source: Source, head: int) -> Cursor | None:
        start = head if source.start_block is None else source.start_block
        if start > head + 1:
            return None
        if start == 0:
            return Cursor(-1, None)
        block = await self._block(start - 1, full=False)
        return Cursor(start - 1, block["hash"])

    async def _block(self, number: int, *, full: bool) -> dict[str, Any]:
        block = await self.rpc.call("eth_getBlockByNumber", hex(number), full)
        if not isinstance(block, dict) or "hash" not in block:
            raise RpcError(f"the node has no block {number}")
        return block

    def _levels(self, source: Source) -> list[int]:
        return [c for c in source.confirmations if c > 0]

    # -- blocks ------------------------------------------------------------------------

    async def _scan(self, state: FollowState, step: Step, cursor: Cursor) -> bool:
        """Process blocks after ``cursor``; True when a reorg rewound the cursor instead."""
        assert step.head is not None
        first = cursor.block + 1
        last = min(step.head, first + self.limits.block_range - 1)
        logs = await self._logs(first, last, state.addresses)
        previous = cursor.hash
        for number in range(first, last + 1):
            block = await self._block(number, full=True)
            if previous is not None and block["parentHash"] != previous:
                if number == first:
                    await self._reorg(state, step, cursor)
                    return True
                break  # the chain moved under this step: the next one sees the reorg
            block_logs = logs.pop(number, [])
            if any(log.get("blockHash") != block["hash"] for log in block_logs):
                break  # logs from another fork: read this block again next step
            await self._notify_block(state, step, block, block_logs)
            step.blocks.append((number, block["hash"]))
            step.cursor = Cursor(number, block["hash"])
            previous = block["hash"]
            if len(step.events) >= self.limits.max_events:
                break
        done = step.cursor.block if step.cursor is not None else cursor.block
        step.more = done < step.head
        return False

    async def _logs(self, first: int, last: int, addresses: Any) -> dict[int, list[dict[str, Any]]]:
        """Token transfer logs of watched addresses in [first, last], by block number."""
        if not addresses:
            return {}
        everyone = [decode.address_topic(a) for a in sorted(addresses)]
        span = {"fromBlock": hex(first), "toBlock": hex(last)}
        multi = [decode.TRANSFER_SINGLE, decode.TRANSFER_BATCH]
        filters = []
        # Nodes bound the size of a filter: many addresses are asked about in groups.
        for i in range(0, len(everyone), TOPICS_PER_QUERY):
            topics = everyone[i : i + TOPICS_PER_QUERY]
            filters += [
                [decode.TRANSFER, topics],  # ERC-20/721 from
                [decode.TRANSFER, None, topics],  # ERC-20/721 to
                [multi, None, topics],  # ERC-1155 from
                [multi, None, None, topics],  # ERC-1155 to
            ]
        seen: set[tuple[str, str]] = set()
        found: dict[int, list[dict[str, Any]]] = {}
        for topic_filter in filters:
            for log in await self.rpc.call("eth_getLogs", {**span, "topics": topic_filter}):
                if log.get("removed"):
                    continue
                key = (str(log["blockHash"]), str(log["logIndex"]))
                if key in seen:  # a transfer between two watched addresses
                    continue
                seen.add(key)
                found.setdefault(int(log["blockNumber"], 16), []).append(log)
        for block_logs in found.values():
            block_logs.sort(key=lambda log: int(log["logIndex"], 16))
        return found

    async def _notify_block(
        self,
        state: FollowState,
        step: Step,
        block: dict[str, Any],
        logs: list[dict[str, Any]],
    ) -> None:
        assert step.head is not None
        number, block_hash = int(block["number"], 16), str(block["hash"])
        matches: list[decode.Match] = []
        if state.addresses:
            for tx in block.get("transactions") or ():
                if isinstance(tx, dict):
                    matches += decode.match_transaction(tx, state.addresses)
            for log in logs:
                matches += decode.match_log(log, state.addresses)
        levels = self._levels(state.source)
        reached = step.head - number + 1
        for m in matches:
            data = await self._data(state, m, number, block_hash)
            due = [c for c in levels if c <= reached]
            for c in due:
                step.events.append(self._publication(state.source, m.event_type, m.ref, data, c))
            step.new_tracked.append(
                Tracked(
                    ref=m.ref,
                    event_type=m.event_type,
                    block_number=number,
                    block_hash=block_hash,
                    data=data,
                    confirmed=max(due, default=0),
                    event_ids=(),
                )
            )

    def _publication(
        self, source: Source, event_type: str, ref: str, data: dict[str, Any], confirmation: int
    ) -> Publication:
        return Publication(
            event_type=event_type,
            data={**data, "confirmation": confirmation},
            idempotency_key=idempotency_key(source.id, data["block_hash"], ref, confirmation),
            track=ref,
        )

    def _confirm_tracked(self, state: FollowState, step: Step) -> None:
        """Higher confirmation counts of notifications published earlier."""
        assert step.head is not None
        levels = self._levels(state.source)
        for t in state.tracked:
            reached = step.head - t.block_number + 1
            due = [c for c in levels if t.confirmed < c <= reached]
            if not due:
                continue
            for c in due:
                step.events.append(self._publication(state.source, t.event_type, t.ref, t.data, c))
            step.confirmed[t.ref] = due[-1]

    # -- reorgs ------------------------------------------------------------------------

    async def _reorg(self, state: FollowState, step: Step, cursor: Cursor) -> None:
        ancestor: Cursor | None = None
        for number in sorted(state.blocks, reverse=True):
            if await self._hash_at(number) == state.blocks[number]:
                ancestor = Cursor(number, state.blocks[number])
                break
        if ancestor is None:
            # Deeper than the blocks kept: start again below all of them.
            floor = min(state.blocks, default=cursor.block) - 1
            if floor < 0:
                ancestor = Cursor(-1, None)
            else:
                ancestor = Cursor(floor, (await self._block(floor, full=False))["hash"])
        affected = [t for t in state.tracked if t.block_number > ancestor.block]
        if affected:
            data = {
                "source_id": state.source.id,
                "chain_id": self._chain_id,
                "common_ancestor": ancestor.block,
                "replaced_from_block": ancestor.block + 1,
                "notifications": [
                    {
                        "type": t.event_type,
                        "address": t.data["address"],
                        "direction": t.data["direction"],
                        "tx_hash": t.data["tx_hash"],
                        "log_index": t.data["log_index"],
                        "block_number": t.block_number,
                        "block_hash": t.block_hash,
                        "event_ids": list(t.event_ids),
                    }
                    for t in affected
                ],
            }
            step.events.append(
                Publication(
                    "evm.reorg",
                    data,
                    f"evm:{state.source.id}:reorg:{cursor.hash}:{ancestor.block}",
                )
            )
        step.cursor = ancestor
        step.rewound = True
        step.more = True

    # -- pending transactions ----------------------------------------------------------

    async def _pending(self, state: FollowState) -> None:
        if not self._pending_supported:
            return
        if self._pending_filter is None:
            try:
                self._pending_filter = str(await self.rpc.call("eth_newPendingTransactionFilter"))
            except MethodNotFound:
                self._pending_supported = False  # this node shows no pending transactions
                return
            return  # the filter reports what arrives from now on
        try:
            hashes = await self.rpc.call("eth_getFilterChanges", self._pending_filter)
        except RpcError as exc:
            if exc.code is None:
                raise
            self._pending_filter = None  # the node forgot the filter (restart, expiry)
            return
        for tx_hash in hashes or ():
            tx = await self.rpc.call("eth_getTransactionByHash", tx_hash)
            if not isinstance(tx, dict):
                continue  # dropped from the pool meanwhile
            for m in decode.match_transaction(tx, state.addresses):
                data = self._common(state, m, None, None)
                self._unsent.append(
                    Publication(
                        m.event_type,
                        {**data, "confirmation": 0},
                        idempotency_key(state.source.id, None, m.ref, 0),
                    )
                )

    # -- event data --------------------------------------------------------------------

    def _common(
        self, state: FollowState, m: decode.Match, number: int | None, block_hash: str | None
    ) -> dict[str, Any]:
        return {
            "source_id": state.source.id,
            "chain_id": self._chain_id,
            "address": decode.checksummed(m.address),
            "label": state.addresses.get(m.address),
            "direction": m.direction,
            "tx_hash": m.tx_hash,
            "log_index": m.log_index,
            "block_number": number,
            "block_hash": block_hash,
            **m.fields,
        }

    async def _data(
        self, state: FollowState, m: decode.Match, number: int, block_hash: str
    ) -> dict[str, Any]:
        data = self._common(state, m, number, block_hash)
        if m.contract is not None:
            symbol, decimals = await self._token(m.contract, m.event_type)
            data["token"] = {
                "contract": decode.checksummed(m.contract),
                "symbol": symbol,
                "decimals": decimals,
            }
        return data

    async def _token(self, contract: str, event_type: str) -> tuple[str | None, int | None]:
        """Symbol and decimals where the contract answers them, cached per follower."""
        cached = self._tokens.get(contract)
        if cached is not None:
            self._tokens.move_to_end(contract)
            return cached
        symbol = await self._ask(contract, SYMBOL)
        decimals = (
            await self._ask(contract, DECIMALS) if event_type == "evm.erc20.transfer" else None
        )
        found = (
            decode.decode_string_answer(symbol) if symbol else None,
            decode.decode_uint_answer(decimals) if decimals else None,
        )
        self._tokens[contract] = found
        if len(self._tokens) > TOKEN_CACHE_SIZE:
            self._tokens.popitem(last=False)
        return found

    async def _ask(self, contract: str, selector: str) -> str | None:
        try:
            answer = await self.rpc.call("eth_call", {"to": contract, "data": selector}, "latest")
        except RpcError as exc:
            if exc.code is None:
                raise  # the node is unreachable: not an answer about the contract
            return None  # reverted, or no such function
        return answer if isinstance(answer, str) else None
