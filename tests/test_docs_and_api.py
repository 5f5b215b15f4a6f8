"""Documentation and public API stay true to the code."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import authgate
from authgate.config import Settings, render_reference
from tests.protocol.documented import documented_sentences, is_documented, sentence_pattern

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


# -- every error_description: docs/errors.md's table and the code agree both ways ----------


def _error_codes() -> dict[str, str]:
    """Class name -> error code, for every OAuthError subclass the server raises."""
    from authgate.core import bearer, errors

    found = {n: getattr(errors, n) for n in errors.__all__} | {
        n: getattr(bearer, n) for n in bearer.__all__
    }
    return {
        n: c.error
        for n, c in found.items()
        if isinstance(c, type) and issubclass(c, errors.OAuthError)
    }


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """The module's string constants (``_INVALID = "…"``), which a description may name."""
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _description_literal(call: ast.Call, constants: dict[str, str]) -> str | None:
    """The description given to an error's constructor, ``…`` for each interpolated value;
    None when it is not written there (no description, or one passed on)."""
    arg = call.args[0] if call.args else None
    arg = next((k.value for k in call.keywords if k.arg == "description"), arg)
    if isinstance(arg, ast.Name) and arg.id in constants:
        return constants[arg.id]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "…" for v in arg.values)
    return None


def _descriptions_in_code() -> set[tuple[str, str]]:
    """``(error, description)`` of every error the server raises with a written description
    (the client and resource-server libraries are not the server: docs/resource-server.md)."""
    codes = _error_codes()
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "src" / "authgate").rglob("*.py")):
        if {"client", "resource", "migrations"} & set(path.relative_to(ROOT / "src").parts):
            continue
        tree = ast.parse(path.read_text())
        constants = _module_strings(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            text = _description_literal(node, constants) if name in codes else None
            if name in codes and text is not None:
                found.add((codes[name], text))
    return found


def _matches(template: str, sentence: str) -> bool:
    """A description written in the code (``…`` for a value) can produce ``sentence``."""
    return sentence_pattern(template).fullmatch(sentence) is not None


def test_every_description_in_the_code_is_in_the_table() -> None:
    table = documented_sentences()
    missing = sorted(
        (code, text)
        for code, text in _descriptions_in_code()
        if not any(c == code and _matches(text, s) for c, s in table)
    )
    assert missing == [], "add these rows to docs/errors.md"


def test_every_sentence_in_the_table_is_in_the_code() -> None:
    code = _descriptions_in_code()
    stale = sorted(
        (c, s)
        for c, s in documented_sentences()
        if not any(c == c2 and _matches(text, s) for c2, text in code)
    )
    assert stale == [], "docs/errors.md lists descriptions the code no longer sends"


def test_the_table_knows_its_values() -> None:
    assert is_documented("invalid_request", "parameter state is included more than once")
    assert is_documented("invalid_grant", "the authorization code was already used")
    assert not is_documented("invalid_grant", "parameter state is included more than once")
    assert not is_documented("invalid_request", "the authorization code was already used!")
