"""The ingest pipeline: load every source, then chunk, embed and store only what changed."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.chunking import Chunker
from ingest.documents import Chunk, Document, IngestError
from ingest.embedding import get_embedder
from ingest.failpoints import failpoint
from ingest.guard import flag_instructions
from ingest.loaders import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES, load_bytes, load_path, load_url
from ingest.manifest import ManifestEntry, open_manifest
from ingest.query_encoder import build_onnx
from ingest.store import open_store
from ingest.sweep import full_sweep, reconcile
from kvisa.settings import Settings


@dataclass
class IngestReport:
    """What one ingest run did; `errors` holds one line per rejected source."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    chunks_written: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def expand_sources(sources: Iterable[str]) -> list[str]:
    """Folders become their supported files (README, sidecar and hidden files excluded); URLs pass through."""
    out: list[str] = []
    for source in sources:
        path = Path(source)
        if source.startswith(("http://", "https://")) or not path.is_dir():
            out.append(source)
            continue
        for child in sorted(path.iterdir()):
            # Hidden files are editor or OS leftovers (e.g. macOS '._notes.md', binary), not documents.
            if (child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES and not child.name.startswith(".")
                    and not child.name.endswith(SIDECAR_SUFFIX) and not child.stem.upper().startswith("README")):
                out.append(str(child))
    return out


def load_source(source: str, settings: Settings) -> Document:
    if source.startswith(("http://", "https://")):
        return load_url(source, settings)
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]+://", source):  # ftp://, file://, javascript: ... are not fetched
        raise IngestError(f"{source}: not an http(s) URL")
    return load_path(Path(source), settings)


# Bump when chunking or stored metadata change, so existing indexes are rebuilt on the next ingest.
PIPELINE_VERSION = 8


class Indexer:
    """Chunks, embeds and stores documents; every chunk and unit is embedded exactly once, here."""

    def __init__(self, settings: Settings, progress: bool = True) -> None:
        self.settings = settings
        self.progress = progress
        self.store = open_store(settings)
        self.manifest = open_manifest(settings, self.store.client)
        self.signature = f"v{PIPELINE_VERSION}|{settings.embed_model}|{settings.chunk_tokens}|{settings.chunk_overlap}"
        reconcile(self.store, self.manifest)

    def is_current(self, doc: Document) -> bool:
        """True when the index holds this very content, built by this very pipeline."""
        doc.index_signature = self.signature
        entry = self.manifest.entries.get(doc.doc_id)
        return entry is not None and entry.content_hash == doc.content_hash

    def write(self, docs: list[Document], report: IngestReport) -> None:
        if not docs:
            return
        embedder = get_embedder(self.settings.embed_model, self.settings.embed_batch_size)
        chunker = Chunker(embedder.count_tokens, self.settings.chunk_tokens, self.settings.chunk_overlap)
        planned = [(doc, chunker.run(doc)) for doc in docs]
        flagged = {doc.doc_id: flag_instructions(chunks) for doc, chunks in planned}
        chunk_vectors, unit_vectors = self._embed([chunks for _, chunks in planned], embedder)
        for (doc, chunks), cv, uv in zip(planned, chunk_vectors, unit_vectors, strict=True):
            (report.updated if doc.doc_id in self.manifest.entries else report.added).append(doc.doc_id)
            self._replace(doc, chunks, cv, uv, flagged[doc.doc_id])
            report.chunks_written += len(chunks)
        self._prepare_questions()

    def _prepare_questions(self) -> None:
        """The model is loaded now anyway: export it once for the torch-free question path (ingest/query_encoder.py)."""
        try:
            build_onnx(self.settings)
        except Exception as exc:  # the index is fine; questions then build it again or fall back to torch
            print(f"kvisa: warning: no ONNX query encoder ({str(exc).splitlines()[0]}); "
                  "questions will load sentence-transformers", file=sys.stderr)

    def _embed(self, per_doc: list[list[Chunk]], embedder) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Encode all chunks and units in one batched call, then split the vectors back per document."""
        texts = [c.embed_text for chunks in per_doc for c in chunks]
        n_chunks = len(texts)
        texts += [u.context for chunks in per_doc for c in chunks for u in c.units]
        if self.progress:
            print(f"embedding {n_chunks} chunks and {len(texts) - n_chunks} evidence units", file=sys.stderr)
        vectors = embedder.encode(texts, progress=self.progress)
        chunk_out, unit_out, c_pos, u_pos = [], [], 0, n_chunks
        for chunks in per_doc:
            n_units = sum(len(c.units) for c in chunks)
            chunk_out.append(vectors[c_pos : c_pos + len(chunks)])
            unit_out.append(vectors[u_pos : u_pos + n_units])
            c_pos, u_pos = c_pos + len(chunks), u_pos + n_units
        return chunk_out, unit_out

    def _replace(self, doc: Document, chunks: list[Chunk], cv: np.ndarray, uv: np.ndarray, flagged: int) -> None:
        """An intent, new chunks, the manifest, deleting the old chunks, then settling the intent.

        A crash before the manifest is saved leaves the old version (reconcile sweeps the new chunks);
        a crash after it leaves the new one (reconcile sweeps the old chunks): the pending intent tells the
        next start which document to look at. Deleting the old chunks before saving would leave, after
        reconcile, a document with no chunks at all. Only the version the manifest held is deleted: another
        version stored meanwhile belongs to another process's write.
        """
        with self.manifest.claim(doc.doc_id, doc.content_hash):
            failpoint("claimed")
            previous = self.manifest.fresh_entry(doc.doc_id)
            self.store.add_document(doc, chunks, cv, uv)
            failpoint("stored")
            self._record(doc, len(chunks), flagged)
            failpoint("recorded")
            if previous is not None and previous.content_hash != doc.content_hash:
                self.store.delete_chunks(self.store.chunk_ids_of(doc.doc_id, previous.content_hash))
            failpoint("deleted")

    def _record(self, doc: Document, n_chunks: int, flagged: int) -> None:
        self.manifest.record(ManifestEntry(
            doc_id=doc.doc_id, content_hash=doc.content_hash, title=doc.title, language=doc.language,
            chunks=n_chunks, source=doc.source, source_url=doc.source_url,
            jurisdiction=doc.metadata.get("jurisdiction", ""), flagged=flagged,
        ))

    def remove(self, doc_id: str) -> bool:
        """Forget a document, then delete the version it had; False when it is not in the index."""
        entry = self.manifest.fresh_entry(doc_id)
        if entry is None:
            return False
        with self.manifest.claim(doc_id, ""):  # no version: the intent vouches for nothing of the document
            failpoint("claimed")
            self.manifest.forget(doc_id)  # forget first: leftover chunks are then swept by reconcile
            failpoint("forgotten")
            self.store.delete_chunks(self.store.chunk_ids_of(doc_id, entry.content_hash))
            failpoint("deleted")
        return True


def _sync_removals(indexer: Indexer, folders: list[Path]) -> list[str]:
    """Documents whose source file lived in one of `folders` and is gone now."""
    gone = []
    for entry in list(indexer.manifest.entries.values()):
        source = Path(entry.source)
        if entry.source.startswith(("http://", "https://", "upload:")) or source.exists():
            continue
        in_folder = any(source.resolve().parent == folder.resolve() for folder in folders)
        if in_folder and indexer.remove(entry.doc_id):
            gone.append(entry.doc_id)
    return gone


def ingest_sources(sources: list[str], settings: Settings, sync: bool = False, progress: bool = True) -> IngestReport:
    """Ingest files, folders and URLs. Bad sources are reported and skipped; good ones still land."""
    report = IngestReport()
    docs: dict[str, Document] = {}
    for source in expand_sources(sources):
        try:
            doc = load_source(source, settings)
        except IngestError as exc:
            report.errors.append(str(exc))
            continue
        if doc.doc_id in docs:
            report.errors.append(f"{source}: same document id {doc.doc_id!r} as {docs[doc.doc_id].source}")
            continue
        docs[doc.doc_id] = doc
    indexer = Indexer(settings, progress)
    changed = [d for d in docs.values() if not indexer.is_current(d)]
    report.unchanged = [d.doc_id for d in docs.values() if indexer.is_current(d)]
    indexer.write(changed, report)
    if sync:
        report.removed = _sync_removals(indexer, [Path(s) for s in sources if Path(s).is_dir()])
    return report


def ingest_upload(data: bytes, file_name: str, settings: Settings) -> IngestReport:
    """Ingest bytes received from the web chat; raises IngestError on bad input, index untouched."""
    doc = load_bytes(data, file_name, settings)
    report = IngestReport()
    indexer = Indexer(settings, progress=False)
    if indexer.is_current(doc):
        report.unchanged.append(doc.doc_id)
    else:
        indexer.write([doc], report)
    return report


def remove_document(doc_id: str, settings: Settings) -> None:
    if not Indexer(settings, progress=False).remove(doc_id):
        raise IngestError(f"no document with id {doc_id!r}; see 'kvisa docs list'")


def sweep_index(settings: Settings) -> int:
    """Sweep the whole index, not only where intents point (`kvisa docs sweep`); the number of items deleted.

    For an index that a kvisa without intents also wrote to after this one marked it (on a shared server):
    what such a process left when it was killed has no intent to lead a sweep to it.
    """
    indexer = Indexer(settings, progress=False)
    return full_sweep(indexer.store, indexer.manifest)


def list_documents(settings: Settings) -> list[ManifestEntry]:
    return sorted(open_manifest(settings).entries.values(), key=lambda e: e.doc_id)


def index_generation(settings: Settings) -> int:
    """Grows at every change of the index; readers use it to know when their caches are stale."""
    return open_manifest(settings).current_generation()
