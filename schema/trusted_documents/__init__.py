"""Trusted documents: operations a client names by id instead of sending their text.

A Django app of the gateway (label `trusted_documents`). The transports call
`schema.trusted_documents.gate.document_for`; the rest (table, manifest, APQ cache) stays inside.
"""
