"""The sources API: registering, changing, pausing and deleting sources, and the
addresses they watch; bad input answers a stable code, never a 500."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.support.evm import Ganache
from tests.support.receiver import Receiver
from tests.support.server import Running
from tests.support.sources import processed, until, watch

CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
# Nothing listens here: these sources only fail to follow, which these tests ignore.
NOWHERE = "http://127.0.0.1:9/"


def _source(**changes: Any) -> dict[str, Any]:
    return {"kind": "evm", "name": "mainnet", "rpc_url": NOWHERE, **changes}


async def test_create_read_list_update_delete(
    make_hookline: Callable[..., Awaitable[Running]],
) -> None:
    hookline = await make_hookline(worker=False)
    client = await hookline.new_account()
    r = await client.post(
        "/v1/sources", json=_source(chain_id=1, confirmations=[12, 0, 1, 1], start_block=5)
    )
    assert r.status_code == 201, r.text
    source = r.json()
    assert source["source_id"].startswith("src_")
    assert source["confirmations"] == [0, 1, 12]
    assert (source["kind"], source["chain_id"], source["start_block"]) == ("evm", 1, 5)
    assert source["status"] == "active"
    assert source["health"] == {
        "head_block": None,
        "last_processed_block": None,
        "last_processed_hash": None,
        "lag": None,
        "last_error": None,
        "last_error_at": None,
    }
    sid = source["source_id"]
    assert (await client.get(f"/v1/sources/{sid}")).json() == source
    listed = (await client.get("/v1/sources")).json()
    assert [s["source_id"] for s in listed["data"]] == [sid]

    r = await client.patch(
        f"/v1/sources/{sid}", json={"name": "renamed", "confirmations": [3], "chain_id": None}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["confirmations"], r.json()["chain_id"]) == (
        "renamed",
        [3],
        None,
    )
    r = await client.post(f"/v1/sources/{sid}/pause")
    assert r.json()["status"] == "paused"
    r = await client.post(f"/v1/sources/{sid}/resume")
    assert r.json()["status"] == "active"

    other = await hookline.new_account("other")
    r = await other.get(f"/v1/sources/{sid}")
    assert (r.status_code, r.json()["code"]) == (404, "source_not_found")
    assert (await other.delete(f"/v1/sources/{sid}")).status_code == 404

    assert (await client.delete(f"/v1/sources/{sid}")).status_code == 204
    r = await client.get(f"/v1/sources/{sid}")
    assert (r.status_code, r.json()["code"]) == (404, "source_not_found")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (_source(kind="bitcoin"), 422, "invalid_source_kind"),
        (_source(rpc_url="ftp://node.example/"), 422, "invalid_url"),
        (_source(rpc_url="http://user:pw@node.example/"), 422, "invalid_url"),
        (_source(rpc_url="http://10.0.0.5:8545/"), 422, "url_not_allowed"),
        (_source(rpc_url="http://169.254.169.254/"), 422, "url_not_allowed"),
        (_source(confirmations=[]), 422, "invalid_confirmations"),
        (_source(confirmations=[-1]), 422, "invalid_confirmations"),
        (_source(confirmations=[100000]), 422, "invalid_confirmations"),
        (_source(confirmations=["x"]), 422, "validation_error"),
        (_source(poll_interval=0), 422, "invalid_poll_interval"),
        (_source(poll_interval=10**6), 422, "invalid_poll_interval"),
        (_source(start_block=-1), 422, "invalid_start_block"),
        (_source(chain_id=0), 422, "invalid_chain_id"),
        (_source(chain_id="5"), 422, "validation_error"),
        (_source(surprise=1), 422, "validation_error"),
        ({"kind": "evm", "name": "x"}, 422, "validation_error"),
    ],
)
async def test_bad_sources_are_refused_with_a_code(
    make_hookline: Callable[..., Awaitable[Running]], body: dict[str, Any], status: int, code: str
) -> None:
    hookline = await make_hookline(worker=False)
    client = await hookline.new_account()
    r = await client.post("/v1/sources", json=body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert (await client.get("/v1/sources")).json()["data"] == []


async def test_loopback_nodes_need_the_egress_allow_list(
    make_hookline: Callable[..., Awaitable[Running]],
) -> None:
    hookline = await make_hookline(worker=False, egress_allow="")
    client = await hookline.new_account()
    for url in ("http://127.0.0.1:8545/", "http://localhost:8545/"):
        r = await client.post("/v1/sources", json=_source(rpc_url=url))
        assert (r.status_code, r.json()["code"]) == (422, "url_not_allowed"), r.text
    r = await client.post(
        "/v1/sources", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid_json")


async def test_addresses_are_normalised_listed_and_removed(
    make_hookline: Callable[..., Awaitable[Running]],
) -> None:
    hookline = await make_hookline(worker=False)
    client = await hookline.new_account()
    sid = (await client.post("/v1/sources", json=_source())).json()["source_id"]
    r = await client.post(
        f"/v1/sources/{sid}/addresses", json={"address": CHECKSUMMED.lower(), "label": "vault"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"][0]["address"] == CHECKSUMMED
    assert r.json()["data"][0]["label"] == "vault"
    r = await client.post(
        f"/v1/sources/{sid}/addresses",
        json={
            "addresses": [{"address": CHECKSUMMED}, {"address": OTHER.upper().replace("0X", "0x")}]
        },
    )
    assert r.status_code == 201, r.text
    listed = (await client.get(f"/v1/sources/{sid}/addresses")).json()["data"]
    assert [(a["address"], a["label"]) for a in listed] == [
        (CHECKSUMMED, "vault"),  # added again without a label: keeps it
        (OTHER, None),
    ]
    page = (await client.get(f"/v1/sources/{sid}/addresses", params={"limit": 1})).json()
    assert page["has_more"]
    assert len(page["data"]) == 1
    rest = await client.get(f"/v1/sources/{sid}/addresses", params={"cursor": page["next_cursor"]})
    assert [a["address"] for a in rest.json()["data"]] == [OTHER]

    assert (await client.delete(f"/v1/sources/{sid}/addresses/{CHECKSUMMED}")).status_code == 204
    r = await client.delete(f"/v1/sources/{sid}/addresses/{CHECKSUMMED}")
    assert (r.status_code, r.json()["code"]) == (404, "address_not_found")
    listed = (await client.get(f"/v1/sources/{sid}/addresses")).json()["data"]
    assert [a["address"] for a in listed] == [OTHER]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"}, "invalid_address"),
        ({"address": "0x1234"}, "invalid_address"),
        ({"addresses": [{"address": OTHER}, {"address": "nope"}]}, "invalid_address"),
        ({"addresses": []}, "invalid_addresses"),
        ({}, "validation_error"),
        ({"address": OTHER, "addresses": [{"address": OTHER}]}, "validation_error"),
    ],
)
async def test_bad_addresses_are_refused_and_nothing_is_added(
    make_hookline: Callable[..., Awaitable[Running]], body: dict[str, Any], code: str
) -> None:
    hookline = await make_hookline(worker=False)
    client = await hookline.new_account()
    sid = (await client.post("/v1/sources", json=_source())).json()["source_id"]
    r = await client.post(f"/v1/sources/{sid}/addresses", json=body)
    assert (r.status_code, r.json()["code"]) == (422, code), r.text
    if code == "invalid_address" and "addresses" in body:
        assert r.json()["error"].startswith("addresses[1]")
    assert (await client.get(f"/v1/sources/{sid}/addresses")).json()["data"] == []
    r = await client.post("/v1/sources/src_missing/addresses", json={"address": OTHER})
    assert (r.status_code, r.json()["code"]) == (404, "source_not_found")


@pytest.mark.slow
async def test_a_paused_source_catches_up_on_resume(
    make_hookline: Callable[..., Awaitable[Running]], ganache: Ganache, receiver: Receiver
) -> None:
    hookline = await make_hookline()
    client = await hookline.new_account()
    sender, watched = ganache.accounts[0], ganache.accounts[1]
    w = await watch(client, receiver, ganache.url, [watched], confirmations=[1])
    await processed(client, w.source_id, await ganache.head())
    r = await client.post(f"/v1/sources/{w.source_id}/pause")
    assert r.status_code == 200
    tx = await ganache.send(sender, watched, 77)
    assert await receiver.quiet(1.0) == 0
    await client.post(f"/v1/sources/{w.source_id}/resume")
    got = await until(receiver, lambda es: len(es) >= 1)
    assert [e["data"]["tx_hash"] for e in got] == [tx]


async def test_a_source_watches_at_most_ten_thousand_addresses(
    make_hookline: Callable[..., Awaitable[Running]],
) -> None:
    hookline = await make_hookline(worker=False)
    client = await hookline.new_account()
    sid = (await client.post("/v1/sources", json=_source())).json()["source_id"]
    for batch in range(10):
        many = [{"address": f"0x{batch:04x}{n:036x}"} for n in range(1000)]
        r = await client.post(f"/v1/sources/{sid}/addresses", json={"addresses": many})
        assert r.status_code == 201, r.text
    r = await client.post(f"/v1/sources/{sid}/addresses", json={"address": OTHER})
    assert (r.status_code, r.json()["code"]) == (422, "too_many_addresses")


async def test_a_source_registers_its_event_types_in_the_catalog(
    make_hookline: Callable[..., Awaitable[Running]],
) -> None:
    hookline = await make_hookline(worker=False)
    client = await hookline.new_account()
    # A type the account described itself is left as it is.
    r = await client.post(
        "/v1/event-types", json={"name": "evm.transaction", "description": "ours"}
    )
    assert r.status_code == 201, r.text
    assert (await client.post("/v1/sources", json=_source())).status_code == 201
    listed = (await client.get("/v1/event-types", params={"prefix": "evm."})).json()["data"]
    names = {t["name"]: t for t in listed}
    assert set(names) >= {
        "evm.transaction",
        "evm.erc20.transfer",
        "evm.erc721.transfer",
        "evm.erc1155.transfer",
        "evm.reorg",
    }
    assert names["evm.transaction"]["description"] == "ours"
    transfer = names["evm.erc20.transfer"]
    assert transfer["schema"]["type"] == "object"
    assert transfer["example"] is not None
    # A second source finds them there and changes nothing.
    assert (await client.post("/v1/sources", json=_source(name="other"))).status_code == 201
    again = (await client.get("/v1/event-types", params={"prefix": "evm."})).json()["data"]
    assert [t["version"] for t in again] == [t["version"] for t in listed]
    # Another account's catalog is its own.
    other = await hookline.new_account()
    assert (await other.get("/v1/event-types")).json()["data"] == []
    await client.aclose()
    await other.aclose()
