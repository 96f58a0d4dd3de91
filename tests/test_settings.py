"""Configuration from DOSSIER_ variables."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from server.settings import Settings


def test_flat_environment_variables_reach_every_section(monkeypatch):
    monkeypatch.setenv("DOSSIER_DATA_DIR", "/srv/dossier")
    monkeypatch.setenv("DOSSIER_CHROMA_URL", "http://127.0.0.1:8001")
    monkeypatch.setenv("DOSSIER_EMBEDDING_MODEL", "/models/minilm")
    monkeypatch.setenv("DOSSIER_CHUNK_SIZE", "160")
    monkeypatch.setenv("DOSSIER_CHUNK_OVERLAP", "20")
    monkeypatch.setenv("DOSSIER_TOP_K", "8")
    monkeypatch.setenv("DOSSIER_PORT", "9000")
    settings = Settings()
    assert settings.store.data_dir == Path("/srv/dossier")
    assert settings.store.chroma_url == "http://127.0.0.1:8001"
    assert settings.embedding.embedding_model == "/models/minilm"
    assert (settings.chunking.chunk_size, settings.chunking.chunk_overlap) == (160, 20)
    assert settings.retrieval.top_k == 8 and settings.server.port == 9000


def test_defaults_keep_data_under_the_working_directory(monkeypatch):
    for name in ("DOSSIER_DATA_DIR", "DOSSIER_CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.store.data_dir == Path(".dossier") and settings.store.chroma_url is None
    assert settings.server.host == "127.0.0.1" and settings.server.port == 8000


@pytest.mark.parametrize(
    ("name", "value"), [("DOSSIER_CHUNK_SIZE", "1000"), ("DOSSIER_COLLECTION", "ab")]
)
def test_invalid_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
