"""All settings in one place, read from the environment (prefix REVIEW_ASSISTANT_) or a .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEW_ASSISTANT_", env_file=".env", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "data"
    var_dir: Path = PROJECT_ROOT / "var"


@lru_cache
def get_settings() -> Settings:
    return Settings()
