"""The sweep at the start of every ingest: delete what interrupted writes left, reading only their documents."""

from __future__ import annotations

from ingest.manifest import Key, ManifestStore
from ingest.store import ChunkStore


def reconcile(store: ChunkStore, manifest: ManifestStore) -> int:
    """Delete chunks and units of a version of a document that neither the manifest nor a live write vouches for;
    the number deleted.

    Every write and removal leaves an intent on its document before it touches the store and settles it only
    once it finished (Manifest.claim, ServerManifest.claim). So remains can only be in documents whose intent
    is pending with no live writer behind it, and the sweep reads those documents' items alone: its cost follows
    what was interrupted, not the size of the index. An index last written by a kvisa without intents (no mark
    in its manifest) is swept in full once, then marked.
    """
    if manifest.tracks_intents():
        return sweep_intents(store, manifest)
    removed = full_sweep(store, manifest)
    manifest.mark_tracked()
    return removed


def sweep_intents(store: ChunkStore, manifest: ManifestStore) -> int:
    """Sweep the documents of dead intents, then settle those intents.

    The reads go intents, items, intents again, manifest, because other processes may write meanwhile (server
    mode): a version seen stored was claimed before it was stored, so if its claim is gone when the claims are
    read again, it was recorded (or superseded) before its manifest entry is read.
    """
    _, dead = manifest.intents()
    if not dead:
        return 0
    doc_ids = sorted({doc_id for _, doc_id in dead})
    chunks, units = store.versions_of(doc_ids)
    live, _ = manifest.intents()
    entries = {doc_id: manifest.fresh_entry(doc_id) for doc_id in doc_ids}
    vouched = live | {(e.doc_id, e.content_hash) for e in entries.values() if e is not None}
    removed = _delete_unvouched(store, chunks, units, vouched)
    manifest.settle(dead)  # a dead writer writes no more: its document is now as the manifest lists it
    return removed


def full_sweep(store: ChunkStore, manifest: ManifestStore) -> int:
    """Read every item's version (or, up to ingest/store.py's _MAX_HASH_FILTER documents, only items whose hash
    no listed version has) and delete the unvouched ones; in the same order of reads as sweep_intents."""
    # Items of a stale version sharing a live version's hash are not read in the filtered case; harmless.
    _, dead = manifest.intents()  # dead before the items are read: all they left is among them
    hashes = {e.content_hash for e in manifest.reload().values()}
    units = store.unit_hashes(hashes)
    chunks = store.chunk_hashes(hashes)
    live, _ = manifest.intents()
    vouched = {(e.doc_id, e.content_hash) for e in manifest.reload().values()} | live
    removed = _delete_unvouched(store, chunks, units, vouched)
    manifest.settle(dead)
    return removed


def _delete_unvouched(store: ChunkStore, chunks: dict[str, Key], units: dict[str, Key], vouched: set[Key]) -> int:
    stale = [chunk_id for chunk_id, key in chunks.items() if key not in vouched]
    if stale:
        store.delete_chunks(stale)  # and their units
    orphans = [unit_id for unit_id, key in units.items() if key not in vouched]
    if orphans:
        store.delete_units(orphans)
    return len(stale) + len(orphans)
