"""Placeholder."""
from pathlib import Path
from typing import Any
def write(results: dict[str, Any], docs: Path) -> list[Path]:
    return []
