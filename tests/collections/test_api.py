from __future__ import annotations

import httpx

from moviie.accounts.service import NewAccount
from moviie.db.engine import Database
from tests.conftest import bearer, make_account
from tests.http.test_errors import assert_problem
from tests.videos.test_api import upload


async def test_collections_crud_and_membership(
    client: httpx.AsyncClient, account: NewAccount
) -> None:
    headers = bearer(account.private_key)
    created = await client.post(
        "/v1/collections", json={"name": "Spring", "description": "term"}, headers=headers
    )
    assert created.status_code == 201, created.text
    collection = created.json()
    assert collection["id"].startswith("col_")
    cid = collection["id"]

    video = (await upload(client, account.private_key, collection_ids=[cid])).json()
    assert video["collection_ids"] == [cid]
    other = (await upload(client, account.private_key)).json()
    assert other["collection_ids"] == []

    assert (
        await client.put(f"/v1/collections/{cid}/videos/{other['id']}", headers=headers)
    ).status_code == 204
    assert (
        await client.put(f"/v1/collections/{cid}/videos/{other['id']}", headers=headers)
    ).status_code == 204
    members = (
        await client.get("/v1/videos", params={"collection_id": cid}, headers=headers)
    ).json()
    assert [v["id"] for v in members["data"]] == [other["id"], video["id"]]

    assert (
        await client.delete(f"/v1/collections/{cid}/videos/{video['id']}", headers=headers)
    ).status_code == 204
    members = (
        await client.get("/v1/videos", params={"collection_id": cid}, headers=headers)
    ).json()
    assert [v["id"] for v in members["data"]] == [other["id"]]

    renamed = await client.patch(
        f"/v1/collections/{cid}", json={"name": "Spring 2027"}, headers=headers
    )
    assert renamed.json()["name"] == "Spring 2027"
    assert renamed.json()["description"] == "term"
    listed = (await client.get("/v1/collections", headers=headers)).json()
    assert [c["id"] for c in listed["data"]] == [cid]

    assert (await client.delete(f"/v1/collections/{cid}", headers=headers)).status_code == 204
    assert_problem(
        await client.get(f"/v1/collections/{cid}", headers=headers), 404, "collection_not_found"
    )
    # deleting a collection keeps its videos
    kept = await client.get(f"/v1/videos/{other['id']}", headers=headers)
    assert kept.status_code == 200
    assert kept.json()["collection_ids"] == []


async def test_collections_are_per_account(
    client: httpx.AsyncClient, account: NewAccount, db: Database
) -> None:
    other = await make_account(db)
    theirs = (
        await client.post(
            "/v1/collections", json={"name": "theirs"}, headers=bearer(other.private_key)
        )
    ).json()
    mine = (await upload(client, account.private_key)).json()
    headers = bearer(account.private_key)
    assert_problem(
        await client.get(f"/v1/collections/{theirs['id']}", headers=headers),
        404,
        "collection_not_found",
    )
    assert_problem(
        await client.put(f"/v1/collections/{theirs['id']}/videos/{mine['id']}", headers=headers),
        404,
        "collection_not_found",
    )
    assert_problem(
        await upload(client, account.private_key, collection_ids=[theirs["id"]]),
        404,
        "collection_not_found",
    )
    their_video = (await upload(client, other.private_key)).json()
    my_collection = (
        await client.post("/v1/collections", json={"name": "mine"}, headers=headers)
    ).json()
    assert_problem(
        await client.put(
            f"/v1/collections/{my_collection['id']}/videos/{their_video['id']}", headers=headers
        ),
        404,
        "video_not_found",
    )


async def test_bad_collection_bodies(client: httpx.AsyncClient, account: NewAccount) -> None:
    headers = bearer(account.private_key)
    for body in ({}, {"name": ""}, {"name": "x" * 201}, {"name": "a", "color": "red"}):
        assert_problem(
            await client.post("/v1/collections", json=body, headers=headers),
            422,
            "validation_failed",
        )
