"""The graphene-django variant: its own server, from bench/.venv-graphene, on the same database.

Imports only what runs without Strawberry (graphene needs graphql-core < 3.3): the models of user,
distribution and shipping, and auth's token decoding.
"""
