from tests.live.fixtures import (  # noqa: F401 - fixtures
    bystander,
    live_channel_prefix,
    live_database_url,
    server,
    server_settles,
    staff,
    start_server,
)
