"""Copied by tests/gateway/test_startmodule.py into a copy of the project where
`manage.py startmodule warehouse --entity Rack` ran, as tests/live/test_warehouse_generated.py.
(Not collected here: its name does not start with test_, and this project has no racks.)"""

from __future__ import annotations

import pytest

from tests.live.client import GraphQLWebSocket
from tests.live.fixtures import subscribe_and_wait

pytestmark = pytest.mark.live

COUNT = "{ racks(first: 1) { totalCount } }"
CREATE = 'mutation { createRack(input: {name: "R1"}) { rack { uuid } errors { code } } }'


async def test_racks_answer_over_http_and_rack_created_reaches_domain_events(server, staff):
    authorization = staff["authorization"]
    assert server.graphql(COUNT, authorization=authorization)["data"] == {
        "racks": {"totalCount": 0}
    }
    async with await GraphQLWebSocket.signed_in(server.ws_url, authorization) as watcher:
        await subscribe_and_wait(server, watcher, "events", {"detailTypes": ["RackCreated"]})
        created = server.graphql(CREATE, authorization=authorization)
        assert created["data"]["createRack"]["errors"] == [], created
        message = await watcher.receive_for("events")
    event = message["payload"]["data"]["domainEvents"]
    assert (event["source"], event["detailType"]) == ("majestic.warehouse", "RackCreated")
    rack_uuid = created["data"]["createRack"]["rack"]["uuid"]
    assert event["detail"]["data"] == {"rackUuid": rack_uuid, "name": "R1"}
    count = server.graphql(COUNT, authorization=authorization)
    assert count["data"]["racks"]["totalCount"] == 1
