"""The GraphQL gateway: the one schema merged from every module, and the kit the modules share.

`schema.root` builds the schema; import it from there (this package stays import-light so that
modules may use `schema.kit.permissions`, `schema.kit.errors` and friends without a cycle).
"""
