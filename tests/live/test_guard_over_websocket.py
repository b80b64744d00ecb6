"""The cost guard over websockets, against a real server: an operation over budget or over the
cost limit gets an error of its own, and the socket stays open for the next one."""

from __future__ import annotations

import pytest

from tests.live.client import GraphQLWebSocket

pytestmark = pytest.mark.live

ME = "{ me { uuid } }"
DEAR_SUBSCRIPTION = 'subscription { domainEvents(detailTypes: ["X"]) { detailType } }'


async def test_over_budget_a_query_is_refused_and_the_socket_stays_open(start_server):
    server = start_server(GRAPHQL_COST_BUCKET_SIZE="2", GRAPHQL_COST_RESTORE_RATE="0.001")
    user = server.make_user("staff")
    async with await GraphQLWebSocket.signed_in(server.ws_url, f"Bearer {user['token']}") as ws:
        assert (await ws.execute("1", ME))["data"]["me"]["uuid"] == user["uuid"]
        assert (await ws.execute("2", ME))["extensions"]["cost"]["throttleStatus"][
            "currentlyAvailable"
        ] == 0
        refused = await ws.execute("3", ME)
        assert refused["type"] == "error"
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["THROTTLED"]
        # Still open: the next operation gets its own answer (refused too: still no budget).
        again = await ws.execute("4", "{ __typename }")
        assert again["data"] == {"__typename": "Query"}


async def test_a_subscription_over_the_cost_limit_is_refused_before_it_starts(start_server):
    server = start_server(GRAPHQL_MAX_COST="0")
    user = server.make_user("staff")
    async with await GraphQLWebSocket.signed_in(server.ws_url, f"Bearer {user['token']}") as ws:
        await ws.subscribe("s", DEAR_SUBSCRIPTION)
        refused = await ws.receive_for("s")
        assert refused["type"] == "error"
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["QUERY_TOO_COSTLY"]
        assert server.live()["subscriptions"] == 0
        assert (await ws.execute("q", "{ __typename }"))["data"] == {"__typename": "Query"}
