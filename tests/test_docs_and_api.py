"""Documentation and public API stay true to the code."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import authgate
from authgate.config import Settings, render_reference

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_reference_is_generated_from_settings() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text() == render_reference(), (
        "regenerate: python -m authgate.config > docs/configuration.md"
    )


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name


MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(authgate.__path__, "authgate.")
    if ".migrations" not in m.name
)


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    for exported in getattr(module, "__all__", ()):
        assert hasattr(module, exported), f"{name}.__all__ names missing {exported}"


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for script in ("scripts/demo", "scripts/test"):
        assert script in readme
        assert (ROOT / script).stat().st_mode & 0o111
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()
