"""The GraphQL gateway, in layers: `root` (the schema merged from every module's face) above the
`transports` that serve it, the `kit` the faces use, and the read `engine` below
(docs/ARCHITECTURE.md).

This package stays import-light so that module faces may import `schema.kit.*` without a cycle;
import the schema from `schema.root`.
"""
