"""Chroma clients with telemetry off: embedded (a directory) or a server (host and port)."""

from __future__ import annotations

from collections.abc import Callable
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


class ClientOnUse:
    """A Chroma client made on first use: a question answered from the saved snapshot never imports chromadb
    (about 1 s of a cold CLI question) nor opens the store."""

    def __init__(self, make: Callable[[], Any]):
        self._make = make
        self._client: Any = None

    @property
    def opened(self) -> bool:
        return self._client is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


class CollectionOnUse:
    """A collection known by name, got from the client on first use (its name needs no store)."""

    def __init__(self, client: Any, name: str):
        self.name = name
        self._client = client
        self._collection: Any = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        if self._collection is None:
            self._collection = self._client.get_collection(self.name, embedding_function=None)
        return getattr(self._collection, attr)
