"""Settings: env + TOML, validated at startup. Spec: OIDC Discovery 1.0 §3 and RFC 8414 §2
(issuer: https URL without query or fragment)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from authgate.config import ConfigError, Settings, load_settings, render_reference


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("AUTHGATE_"):
            monkeypatch.delenv(name)


def write_toml(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "authgate.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("AUTHGATE_CONFIG", str(path))
    return path


def test_defaults_are_valid() -> None:
    settings = load_settings()
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.database_url == "sqlite:///./authgate.db"
    assert settings.registration_token is None
    assert settings.insecure is False
    assert settings.listen_host == "127.0.0.1"
    assert settings.listen_port == 8000
    assert settings.is_https is False
    assert settings.path_prefix == ""


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValidationError):
        settings.issuer = "https://other.example"  # type: ignore[misc]


@pytest.mark.parametrize(
    "issuer", ["https://auth.example.com", "http://localhost:9000", "http://[::1]:8080/idp"]
)
def test_oidc_discovery_3_valid_issuers(issuer: str) -> None:
    assert load_settings(issuer=issuer).issuer == issuer


@pytest.mark.parametrize("issuer", ["http://auth.example.com", "http://10.0.0.5:8000"])
def test_oidc_discovery_3_http_issuer_on_non_loopback_host_is_refused(issuer: str) -> None:
    with pytest.raises(ConfigError, match="AUTHGATE_ISSUER must use https") as exc:
        load_settings(issuer=issuer)
    assert "AUTHGATE_INSECURE" in str(exc.value)


def test_oidc_discovery_3_http_issuer_allowed_with_insecure() -> None:
    settings = load_settings(issuer="http://auth.example.com", insecure=True)
    assert settings.issuer == "http://auth.example.com"
    assert settings.listen_port == 80


@pytest.mark.parametrize(
    ("issuer", "message"),
    [
        ("https://auth.example.com/?tenant=1", "query or fragment"),
        ("https://auth.example.com/?", "query or fragment"),
        ("https://auth.example.com/#frag", "query or fragment"),
        ("https://auth.example.com#", "query or fragment"),
        ("https://user:pw@auth.example.com", "user information"),
        ("auth.example.com", "absolute http"),
        ("ftp://auth.example.com", "absolute http"),
        ("https://", "absolute http"),
        ("https://auth.example.com:99999", "must be a URL"),
    ],
)
def test_rfc8414_2_malformed_issuer_is_refused(issuer: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"AUTHGATE_ISSUER: .*{message}"):
        load_settings(issuer=issuer)


@pytest.mark.parametrize(
    "url", ["sqlite:///tmp/a.db", "sqlite+aiosqlite:///a.db", "postgresql://u@h/db", "postgres://h"]
)
def test_database_url_schemes_accepted(url: str) -> None:
    assert load_settings(database_url=url).database_url == url


@pytest.mark.parametrize("url", ["mysql://u@h/db", "./authgate.db", "", "http://db"])
def test_bad_database_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="AUTHGATE_DATABASE_URL: must start with sqlite"):
        load_settings(database_url=url)


def test_load_settings_error_names_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTHGATE_PORT", "not-a-port")
    monkeypatch.setenv("AUTHGATE_CODE_TTL", "100000")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    message = str(exc.value)
    assert message.startswith("invalid configuration: ")
    assert "AUTHGATE_PORT: " in message
    assert "AUTHGATE_CODE_TTL: " in message


def test_env_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHGATE_ISSUER", "https://auth.example.com/tenant/")
    monkeypatch.setenv("AUTHGATE_REGISTRATION_TOKEN", "tok-123")
    monkeypatch.setenv("AUTHGATE_EXTRA_SCOPES", '["api:read", "api:write"]')
    settings = load_settings()
    assert settings.issuer == "https://auth.example.com/tenant/"
    assert settings.base_url == "https://auth.example.com/tenant"
    assert settings.path_prefix == "/tenant"
    assert settings.is_https
    assert settings.listen_port == 443
    assert settings.listen_host == "127.0.0.1"
    assert settings.registration_token is not None
    assert settings.registration_token.get_secret_value() == "tok-123"
    assert "tok-123" not in repr(settings)
    assert settings.extra_scopes == ("api:read", "api:write")


def test_toml_file_named_by_authgate_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml(
        tmp_path,
        'issuer = "https://auth.example.com"\nworkers = 4\nextra_scopes = ["api:read"]\n',
        monkeypatch,
    )
    settings = load_settings()
    assert settings.issuer == "https://auth.example.com"
    assert settings.workers == 4
    assert settings.extra_scopes == ("api:read",)


def test_env_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path, 'issuer = "https://toml.example.com"\nworkers = 4\n', monkeypatch)
    monkeypatch.setenv("AUTHGATE_ISSUER", "https://env.example.com")
    settings = load_settings()
    assert settings.issuer == "https://env.example.com"
    assert settings.workers == 4


def test_explicit_overrides_win_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHGATE_WORKERS", "3")
    assert load_settings(workers=2).workers == 2


def test_invalid_value_in_toml_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml(tmp_path, "workers = 0\n", monkeypatch)
    with pytest.raises(ConfigError, match="AUTHGATE_WORKERS: "):
        load_settings()


def test_unknown_key_in_toml_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path, 'isuer = "https://typo.example.com"\n', monkeypatch)
    with pytest.raises(ConfigError, match="AUTHGATE_ISUER: "):
        load_settings()


def test_malformed_toml_is_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path, "issuer = \n", monkeypatch)
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_settings()


def test_missing_toml_file_is_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHGATE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError):
        load_settings()


def test_listen_host_follows_loopback_issuer() -> None:
    assert load_settings(issuer="http://127.0.0.2:9000").listen_host == "127.0.0.2"
    assert load_settings(issuer="http://localhost:9000").listen_host == "127.0.0.1"
    assert load_settings(issuer="http://localhost:9000", host="0.0.0.0").listen_host == "0.0.0.0"  # noqa: S104
    assert load_settings(issuer="http://localhost:9000", port=7000).listen_port == 7000


def test_render_reference_mentions_every_field() -> None:
    reference = render_reference()
    assert reference.startswith("# Configuration reference\n")
    for name, field in Settings.model_fields.items():
        assert f"`AUTHGATE_{name.upper()}`" in reference
        assert field.description
        assert field.description in reference
    assert "| `AUTHGATE_REGISTRATION_TOKEN` | (unset) |" in reference
    assert "| `AUTHGATE_EXTRA_SCOPES` | `[]` |" in reference
    assert "| `AUTHGATE_WORKERS` | `1` |" in reference
