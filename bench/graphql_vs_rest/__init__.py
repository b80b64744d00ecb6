"""GraphQL against REST on the shipping reads: measured by run.py, findings in README.md here.

`python -m bench.graphql_vs_rest` (or `make bench`) seeds PostgreSQL, starts two uvicorn servers
(this project's, and graphene-django from its own virtualenv), checks that every variant serves the
same JSON, drives each with a load generator in a separate process and prints one table.
"""
