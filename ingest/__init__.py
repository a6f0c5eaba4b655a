"""Ingest: load, clean, chunk, embed and store documents in Chroma.

Public entry points: `ingest_sources`, `remove_document`, `list_documents` (ingest.pipeline) and
`open_store` (ingest.store).
"""
