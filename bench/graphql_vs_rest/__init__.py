"""GraphQL against REST on the shipping reads: the figures behind issue 3's "Performance".

`python -m bench.graphql_vs_rest` (or `make bench`) seeds PostgreSQL, starts two uvicorn servers
(this project's, and graphene-django from its own virtualenv), checks that every variant serves the
same JSON, drives each with a load generator in a separate process and prints one table.
"""
