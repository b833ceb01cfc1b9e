"""Chroma clients with telemetry off: embedded (a directory) or a server (host and port)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def chroma_client(path: Path | None = None, host: str | None = None, port: int = 8000) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if host:
        return chromadb.HttpClient(host=host, port=port, settings=settings)
    if path is None:
        return chromadb.EphemeralClient(settings=settings)
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)
