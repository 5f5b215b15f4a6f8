"""Settings: one frozen, documented tree, read from ``AUTHGATE_*`` environment variables and an
optional TOML file, validated at startup.

Every field's docstring is its description and its documentation; ``docs/configuration.md`` is
generated from them (``python -m authgate.config``) and a test keeps the two in sync.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from authgate.core.redirect_uri import is_loopback_host

__all__ = ["ConfigError", "Settings", "load_settings", "render_reference"]


class ConfigError(Exception):
    """Invalid configuration; the message names the field and says what to do."""


class Settings(BaseSettings):
    """authgate configuration. Environment variables override the TOML file."""

    model_config = SettingsConfigDict(
        env_prefix="AUTHGATE_",
        frozen=True,
        extra="forbid",
        validate_default=True,
        use_attribute_docstrings=True,
    )

    issuer: str = "http://127.0.0.1:8000"
    """The issuer identifier: the base URL of the server, exactly as it appears in discovery and
    tokens. Must be https, except http on a loopback host (or with insecure)."""
    database_url: str = "sqlite:///./authgate.db"
    """Database URL: sqlite:///path/to.db (default, embedded) or
    postgresql://user@host:port/dbname."""
    registration_token: SecretStr | None = None
    """RFC 7591 initial access token required to register clients dynamically. Unset: dynamic
    registration is closed."""
    key_encryption_key: SecretStr | None = None
    """Secret used to encrypt private signing keys at rest (AES-256-GCM). Unset: keys are stored
    unencrypted (a warning is logged)."""
    host: str | None = None
    """Address to listen on. Default: the issuer's host if it is a loopback address, otherwise
    127.0.0.1 (put a reverse proxy in front)."""
    port: int | None = Field(None, ge=1, le=65535)
    """Port to listen on. Default: the issuer's port."""
    workers: int = Field(1, ge=1, le=64)
    """Number of server processes."""
    insecure: bool = False
    """Allow a plain-http issuer on a non-loopback host. For development only."""
    auto_migrate: bool = True
    """Create or upgrade the database schema at start. When false, the server refuses to start on
    an uninitialised or outdated schema (run: authgate db upgrade)."""
    code_ttl: int = Field(60, ge=5, le=600)
    """Authorization code lifetime (seconds)."""
    access_token_ttl: int = Field(3600, ge=30, le=86400)
    """Access token lifetime (seconds)."""
    id_token_ttl: int = Field(3600, ge=30, le=86400)
    """ID token lifetime (seconds)."""
    refresh_token_ttl: int = Field(1209600, ge=60, le=31536000)
    """Refresh token idle lifetime (seconds): a refresh token not used for this long expires. Every
    use rotates it and starts a new idle period."""
    refresh_token_absolute_ttl: int = Field(2592000, ge=60, le=315360000)
    """Refresh token absolute lifetime (seconds) from the original authorization; rotation never
    extends it. Must be at least refresh_token_ttl."""
    session_ttl: int = Field(28800, ge=60, le=2592000)
    """Browser sign-in session lifetime (seconds)."""
    interaction_ttl: int = Field(900, ge=60, le=86400)
    """How long a pending authorization request waits for login/consent (seconds)."""
    id_token_signing_alg: Literal["RS256", "ES256", "EdDSA"] = Field("RS256")
    """Default ID token signing algorithm for clients that do not register
    id_token_signed_response_alg."""
    access_token_signing_alg: Literal["RS256", "ES256", "EdDSA"] = Field("RS256")
    """Signing algorithm of RFC 9068 JWT access tokens for registered resources (RS256 is what RFC
    9068 requires resource servers to support)."""
    key_announcement_period: int = Field(86400, ge=0, le=2592000)
    """How long a new signing key is published in the JWKS before it signs (seconds), so relying
    parties that cache the JWKS know it in time. Used by `authgate keys rotate` and automatic
    rotation."""
    key_rotation_interval: int = Field(0, ge=0, le=315360000)
    """Rotate each signing key automatically once it has signed for this long (seconds; 0: only
    when `authgate keys rotate` is run)."""
    extra_scopes: tuple[str, ...] = Field(())
    """Scopes besides the OpenID Connect ones that clients may request."""
    login_max_failures: int = Field(5, ge=1, le=1000)
    """Sign-in attempts per account and client IP that may be failed or in progress within the
    throttle window; more are refused (429) until the window passes. A successful sign-in resets
    the count."""
    login_max_failures_per_ip: int = Field(100, ge=1, le=100000)
    """Failed sign-ins allowed per client IP (all accounts) within the window."""
    login_throttle_window: int = Field(900, ge=10, le=86400)
    """Failed sign-in counting window (seconds)."""
    argon2_time_cost: int = Field(2, ge=1, le=20)
    """argon2id iterations (t)."""
    argon2_memory_kib: int = Field(19456, ge=8192, le=4194304)
    """argon2id memory in KiB (m); OWASP minimum 19456."""
    argon2_parallelism: int = Field(1, ge=1, le=16)
    """argon2id lanes (p)."""
    purge_interval: int = Field(300, ge=0, le=86400)
    """Seconds between purges of expired codes, tokens, sessions and throttle rows by each server
    process (0: never; then run `authgate tokens purge` yourself)."""
    trust_forwarded_for: bool = False
    """Take the client IP (for sign-in throttling) from X-Forwarded-For, set by a trusted reverse
    proxy."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Log level."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get("AUTHGATE_CONFIG")
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_path)))
        return tuple(sources)

    @field_validator("issuer")
    @classmethod
    def _check_issuer_form(cls, value: str) -> str:
        """OIDC Discovery §3 / RFC 8414 §2: https URL, no query or fragment."""
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ValueError("must be a URL like https://auth.example.com") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL like https://auth.example.com")
        if parts.query or parts.fragment or "?" in value or "#" in value:
            raise ValueError("must not contain a query or fragment")
        if parts.username or parts.password:
            raise ValueError("must not contain user information")
        return value

    @model_validator(mode="after")
    def _check_issuer_security(self) -> Settings:
        parts = urlsplit(self.issuer)
        if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not self.insecure:
            raise ValueError(
                "AUTHGATE_ISSUER must use https on a non-loopback host "
                "(set AUTHGATE_INSECURE=true only for development)"
            )
        return self

    @model_validator(mode="after")
    def _check_refresh_lifetimes(self) -> Settings:
        if self.refresh_token_absolute_ttl < self.refresh_token_ttl:
            raise ValueError(
                "AUTHGATE_REFRESH_TOKEN_ABSOLUTE_TTL must be at least AUTHGATE_REFRESH_TOKEN_TTL"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].split("+", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @property
    def base_url(self) -> str:
        """The issuer without a trailing slash, for building endpoint URLs."""
        return self.issuer.rstrip("/")

    @property
    def path_prefix(self) -> str:
        """The issuer's path ("" at the root), under which every endpoint is served."""
        return urlsplit(self.issuer).path.rstrip("/")

    @property
    def is_https(self) -> bool:
        return self.issuer.startswith("https://")

    @property
    def listen_host(self) -> str:
        host = self.host
        if host is None:
            issuer_host = urlsplit(self.issuer).hostname or ""
            host = issuer_host if is_loopback_host(issuer_host) else "127.0.0.1"
            if host == "localhost":
                host = "127.0.0.1"
        return host

    @property
    def listen_port(self) -> int:
        if self.port is not None:
            return self.port
        parts = urlsplit(self.issuer)
        return parts.port or (443 if parts.scheme == "https" else 80)


# A field's docstring is its description (use_attribute_docstrings), wrapped to fit the source:
# the description is the same text on one line.
for _field in Settings.model_fields.values():
    _field.description = " ".join((_field.description or "").split())


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and TOML file); raise ConfigError with one clear
    line per bad field."""
    toml_path = os.environ.get("AUTHGATE_CONFIG")
    if toml_path and not Path(toml_path).is_file():
        raise ConfigError(f"AUTHGATE_CONFIG: no such file {toml_path}")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            # Checks across fields name their variables in the message itself.
            where = f"AUTHGATE_{field.upper()}: " if field else ""
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{where}{msg}")
        raise ConfigError("invalid configuration: " + "; ".join(lines)) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}") from None


def render_reference() -> str:
    """The configuration reference in Markdown, generated from the field descriptions."""
    out = [
        "# Configuration reference",
        "",
        "<!-- generated by `python -m authgate.config`; do not edit by hand -->",
        "",
        "Every setting is read from an environment variable `AUTHGATE_<NAME>` or from a TOML "
        "file named by `AUTHGATE_CONFIG` (keys are the lower-case names). Environment variables "
        "win. Invalid values stop the server at start with a message naming the variable.",
        "",
        "| variable | default | description |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(unset)" if default is None else f"`{default}`"
        if isinstance(default, tuple):
            shown = "`[]`" if not default else f"`{list(default)}`"
        out.append(f"| `AUTHGATE_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_reference())
