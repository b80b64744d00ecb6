"""`python -m bench.graphql_vs_rest.prepare`: the bench database, created when missing, migrated
and seeded; prints the global id of read (c)'s item (`node(id:)`), then an access token of the
bench's staff user (last line)."""

from __future__ import annotations

import os
from typing import TypedDict

import dj_database_url
import psycopg
from psycopg import sql


class ServerParams(TypedDict):
    """The libpq parameters `psycopg.connect` takes as keywords (a TypedDict, so that `**server`
    matches its `**kwargs` rather than its other keyword parameters)."""

    host: str
    port: str | int
    user: str
    password: str | None


def create_database(url: str) -> None:
    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("The bench runs on PostgreSQL: give a postgres:// database URL.")
    server: ServerParams = {
        "host": config["HOST"] or "127.0.0.1",
        "port": config["PORT"] or 5432,
        "user": config["USER"] or "postgres",
        "password": config["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def main() -> None:
    create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from bench.graphql_vs_rest.seed import Size, arrivals_item_id, seed
    from modules.auth.api import access_token_for

    call_command("migrate", verbosity=0, interactive=False)
    staff = seed(Size())
    print(arrivals_item_id())
    print(access_token_for(staff))


if __name__ == "__main__":
    main()
