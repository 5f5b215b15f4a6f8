"""Documentation and public API stay true to the code."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

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


# -- the public API of the two libraries (httpx's tests/test_exported_members.py) ----------

PUBLIC_MODULES = ("authgate.client", "authgate.client.starlette", "authgate.resource")
LIBRARIES = ("authgate.client", "authgate.resource")


def _public_names(module: ModuleType) -> set[str]:
    """What ``from module import *`` would give without ``__all__``, submodules left out."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    }


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported: list[str] = module.__all__
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    if name in LIBRARIES:  # a package of re-exports: every public name is exported
        assert set(exported) == _public_names(module)
    else:  # a module with helpers: what it exports it defines
        assert all(getattr(module, n).__module__ == name for n in exported)


def _library_modules() -> list[str]:
    return sorted(
        m.name
        for package in LIBRARIES
        for m in pkgutil.walk_packages(importlib.import_module(package).__path__, package + ".")
    )


@pytest.mark.parametrize("name", _library_modules())
def test_library_modules_say_whether_they_are_public(name: str) -> None:
    """A module outside PUBLIC_MODULES starts its docstring with "Internal:" (its names are
    imported from the package); a public one does not."""
    doc = importlib.import_module(name).__doc__ or ""
    assert doc.startswith("Internal:") is (name not in PUBLIC_MODULES), name


@pytest.mark.parametrize(
    ("package", "doc"),
    [("authgate.client", "client.md"), ("authgate.resource", "resource-server.md")],
)
def test_every_exported_name_is_documented(package: str, doc: str) -> None:
    text = (ROOT / "docs" / doc).read_text()
    missing = [n for n in importlib.import_module(package).__all__ if f"`{n}" not in text]
    assert missing == []
