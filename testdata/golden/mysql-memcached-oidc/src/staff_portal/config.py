"""Settings, read from environment variables only.

APP_ENV selects the mode: "production" (the default, so a forgotten variable
fails closed), "development" or "testing". Production refuses to start
without the secrets and addresses it needs.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ENVIRONMENTS = ("production", "development", "testing")
MIN_SECRET_KEY_LENGTH = 32
# What production asks of every signing key, stated in full in WEAK_SECRET_RULE.
MIN_SECRET_BITS = 128
MIN_SECRET_DISTINCT_CHARACTERS = 10
PLACEHOLDER_WORDS = (
    "change",
    "default",
    "example",
    "password",
    "placeholder",
    "replace",
    "sample",
    "secret",
)
WEAK_SECRET_RULE = (
    f"at least {MIN_SECRET_KEY_LENGTH} characters, at least {MIN_SECRET_DISTINCT_CHARACTERS} "
    f"different ones, an estimated {MIN_SECRET_BITS} bits of entropy (length times the "
    "Shannon entropy of its characters), not one shorter string repeated, and none of the "
    f"words {', '.join(PLACEHOLDER_WORDS)}; for example the output of "
    'python -c "import secrets; print(secrets.token_hex(32))"'
)
LOG_FORMATS = ("json", "text")
# How production reaches its database and cache servers: "required" means TLS
# with certificate and host-name checks for every server not on this machine;
# "private-network" is the operator's statement that nothing else can reach
# the network between the app and those servers.
BACKEND_TLS_MODES = ("required", "private-network")
# ID tokens must be signed with the provider's private key: never "none", and
# never an HMAC whose key the client also holds.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "EdDSA")
# Hosts a plain-http issuer may name outside production (a development provider).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class ConfigError(RuntimeError):
    """The environment does not describe a safe configuration."""


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _choice(environ: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = environ.get(name, "").strip().lower() or default
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


# Driver-less URLs get the driver this project installs.
DRIVER_PREFIXES = {
    "mysql://": "mysql+pymysql://",
    "mariadb://": "mariadb+pymysql://",
}


def database_url(url: str) -> str:
    """Select the installed driver for database URLs written without one."""
    for prefix, replacement in DRIVER_PREFIXES.items():
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url


def load_settings(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Build the Flask configuration from an environment mapping."""
    app_env = environ.get("APP_ENV", "production")
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}; got {app_env!r}")

    secret_key = environ.get("SECRET_KEY", "")
    if not secret_key and app_env != "production":
        # A throw-away key: sessions end when the process restarts. Production
        # never gets here (see validate_settings).
        secret_key = secrets.token_hex(32)

    url = environ.get("DATABASE_URL", "")
    if not url and app_env != "production":
        # The development database: a file in the instance folder, which
        # nothing else creates (make migrate is the first thing to open it).
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        filename = "staff_portal.sqlite3"
        url = "sqlite:///" + str(Path(instance_path) / filename)

    default_hosts = "" if app_env == "production" else "localhost,127.0.0.1"
    settings: dict[str, Any] = {
        "APP_ENV": app_env,
        "TESTING": app_env == "testing",
        "SECRET_KEY": secret_key,
        # Old keys still accepted for reading sessions while a new key rolls out.
        "SECRET_KEY_FALLBACKS": _list(environ.get("SECRET_KEY_FALLBACKS")),
        "SQLALCHEMY_DATABASE_URI": database_url(url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "TRUSTED_HOSTS": _list(environ.get("TRUSTED_HOSTS", default_hosts)),
        # How many reverse proxies sit in front of the app. Zero trusts no
        # X-Forwarded-* header; set it to the real count behind a proxy.
        "FORWARDED_PROXIES": _int(environ, "FORWARDED_PROXIES", 0),
        # Plain HTTP gets a redirect to HTTPS in production; switch it off
        # only where something in front already redirects and cannot be trusted
        # through FORWARDED_PROXIES.
        "HTTPS_REDIRECT": _bool(environ, "HTTPS_REDIRECT", app_env == "production"),
        "MAX_CONTENT_LENGTH": _int(environ, "MAX_CONTENT_LENGTH", 1024 * 1024),
        "MAX_FORM_MEMORY_SIZE": 64 * 1024,
        "MAX_FORM_PARTS": 100,
        "PREFERRED_URL_SCHEME": "https",
        # The __Host- prefix makes browsers insist on Secure, Path=/ and no Domain.
        "SESSION_COOKIE_NAME": "__Host-session",
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int(environ, "SESSION_HOURS", 12)),
        # A signed-in session ends this long after log-in, or after
        # SESSION_IDLE_MINUTES without a request, whichever comes first (sessions.py).
        "SESSION_HOURS": _int(environ, "SESSION_HOURS", 12),
        "SESSION_IDLE_MINUTES": _int(environ, "SESSION_IDLE_MINUTES", 30),
        "WTF_CSRF_TIME_LIMIT": 3600,
        "WTF_CSRF_SSL_STRICT": True,
        # host:port of each memcached server, comma-separated.
        "MEMCACHED_SERVERS": _list(environ.get("MEMCACHED_SERVERS")),
        # TLS to memcached, verified against the system's CAs (or SSL_CERT_FILE).
        "MEMCACHED_TLS": _bool(environ, "MEMCACHED_TLS", False),
        # Origins besides this one that a form may lead to (the CSP form-action).
        "CSP_FORM_TARGETS": [],
        "BACKEND_TLS": _choice(environ, "BACKEND_TLS", BACKEND_TLS_MODES, "required"),
        "LOG_LEVEL": environ.get("LOG_LEVEL", "INFO").upper(),
        # JSON lines for log collectors; readable lines for a developer.
        "LOG_FORMAT": _choice(
            environ, "LOG_FORMAT", LOG_FORMATS, "text" if app_env == "development" else "json"
        ),
    }
    settings.update(
        {
            "REMEMBER_COOKIE_NAME": "__Host-remember",
            "REMEMBER_COOKIE_SECURE": True,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        }
    )
    settings.update(
        {
            # The provider's issuer URL; its discovery document is at
            # ISSUER/.well-known/openid-configuration.
            "OIDC_ISSUER": environ.get("OIDC_ISSUER", "").rstrip("/"),
            "OIDC_CLIENT_ID": environ.get("OIDC_CLIENT_ID", ""),
            "OIDC_CLIENT_SECRET": environ.get("OIDC_CLIENT_SECRET", ""),
            "OIDC_SCOPES": environ.get("OIDC_SCOPES", "openid email profile"),
            # The only algorithm accepted for ID token signatures.
            "OIDC_ID_TOKEN_ALG": environ.get("OIDC_ID_TOKEN_ALG", "RS256"),
            # Roles from the provider (oidc_roles.py): the ID token claim that
            # lists the person's groups, and GROUP=ROLE pairs. None by default:
            # nobody is an admin until a group is named here.
            "OIDC_ROLES_CLAIM": environ.get("OIDC_ROLES_CLAIM", "groups").strip(),
            "OIDC_ROLES": environ.get("OIDC_ROLES", ""),
            # amr values (RFC 8176) that show a second factor; the admin
            # pages open only after such a log-in.
            "OIDC_MFA_AMR": [
                value.strip()
                for value in environ.get("OIDC_MFA_AMR", "mfa").split(",")
                if value.strip()
            ],
            "LOGIN_RATE_LIMIT": environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        }
    )
    # Log-out posts here, then continues at the provider's end_session_endpoint.
    issuer = urlsplit(settings["OIDC_ISSUER"])
    if issuer.scheme and issuer.netloc:
        settings["CSP_FORM_TARGETS"] = [f"{issuer.scheme}://{issuer.netloc}"]
    if settings["SQLALCHEMY_DATABASE_URI"].startswith(("mysql", "mariadb")):
        settings["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] = {"connect_timeout": 5}
        # Recycle before the server's wait_timeout closes idle connections.
        settings["SQLALCHEMY_ENGINE_OPTIONS"]["pool_recycle"] = 3600
    return settings


def validate_settings(settings: Mapping[str, Any]) -> None:
    """Refuse configurations that are unsafe for the selected APP_ENV, and
    OpenID Connect settings that could not work in any."""
    if settings["APP_ENV"] == "production":
        _validate_production(settings)
    _validate_session_lifetimes(settings)
    _validate_oidc(settings)


def _validate_session_lifetimes(settings: Mapping[str, Any]) -> None:
    hours, idle = settings["SESSION_HOURS"], settings["SESSION_IDLE_MINUTES"]
    if not 1 <= hours <= 720:
        raise ConfigError(f"SESSION_HOURS must be from 1 to 720 (30 days); got {hours}")
    if not 1 <= idle <= hours * 60:
        raise ConfigError(
            "SESSION_IDLE_MINUTES must be from 1 to SESSION_HOURS in minutes "
            f"({hours * 60}); got {idle}"
        )


def _validate_production(settings: Mapping[str, Any]) -> None:
    missing = [
        name
        for name, present in (
            ("SECRET_KEY", settings.get("SECRET_KEY")),
            ("DATABASE_URL", settings.get("SQLALCHEMY_DATABASE_URI")),
            ("TRUSTED_HOSTS", settings.get("TRUSTED_HOSTS")),
            ("MEMCACHED_SERVERS", settings.get("MEMCACHED_SERVERS")),
            ("OIDC_ISSUER", settings.get("OIDC_ISSUER")),
            ("OIDC_CLIENT_ID", settings.get("OIDC_CLIENT_ID")),
            ("OIDC_CLIENT_SECRET", settings.get("OIDC_CLIENT_SECRET")),
        )
        if not present
    ]
    if missing:
        raise ConfigError(
            "refusing to start in production without "
            + ", ".join(missing)
            + " (set them in the environment; see .env.example)"
        )
    _validate_signing_keys(settings)
    if settings["BACKEND_TLS"] == "required":
        _validate_backend_tls(settings)


def _validate_signing_keys(settings: Mapping[str, Any]) -> None:
    """Every key that signs sessions, CSRF tokens must be strong.
    Messages name the setting, never the value."""
    _require_strong_secret("SECRET_KEY", settings["SECRET_KEY"])
    for position, fallback in enumerate(settings["SECRET_KEY_FALLBACKS"], start=1):
        name = f"SECRET_KEY_FALLBACKS entry {position}"
        _require_strong_secret(name, fallback)
        if fallback == settings["SECRET_KEY"]:
            raise ConfigError(f"{name} must differ from SECRET_KEY (it lists previous keys only)")


def _require_strong_secret(name: str, value: str) -> None:
    if not is_strong_secret(value):
        raise ConfigError(f"{name} is too weak: production needs {WEAK_SECRET_RULE}")


def is_strong_secret(value: str) -> bool:
    """The production rule for signing keys (see WEAK_SECRET_RULE)."""
    lowered = value.lower()
    return (
        len(value) >= MIN_SECRET_KEY_LENGTH
        and len(set(value)) >= MIN_SECRET_DISTINCT_CHARACTERS
        and estimated_entropy_bits(value) >= MIN_SECRET_BITS
        # A string is a repetition of a shorter one exactly when it occurs
        # inside itself doubled, other than at the start and the middle.
        and value not in (value + value)[1:-1]
        and not any(word in lowered for word in PLACEHOLDER_WORDS)
    )


def estimated_entropy_bits(value: str) -> float:
    """Length times the Shannon entropy of the value's character frequencies."""
    counts = Counter(value).values()
    total = len(value)
    return -sum(count * math.log2(count / total) for count in counts)


def is_local(host: str | None) -> bool:
    """Loopback, or no host at all (a Unix socket)."""
    host = (host or "").strip("[]")
    if not host or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _validate_backend_tls(settings: Mapping[str, Any]) -> None:
    """Every server not on this machine is reached over verified TLS.
    Messages name the setting, never the URL (it may hold a password)."""
    database = urlsplit(settings["SQLALCHEMY_DATABASE_URI"])
    if database.scheme.startswith(("postgres", "mysql", "mariadb")) and not is_local(
        database.hostname
    ):
        _require_tls("DATABASE_URL", _database_tls_problem(database.query))
    remote = [s for s in settings["MEMCACHED_SERVERS"] if not is_local(s.rpartition(":")[0])]
    if remote and not settings["MEMCACHED_TLS"]:
        _require_tls(
            "MEMCACHED_SERVERS",
            "set MEMCACHED_TLS=true (the servers must then offer TLS with a certificate for "
            "their host name, from a CA in the system store or in SSL_CERT_FILE)",
        )


def _require_tls(name: str, problem: str | None) -> None:
    if problem:
        raise ConfigError(
            f"{name} names a server on another machine without verified TLS: {problem}; "
            "or, if only this app's private network can reach it, set "
            "BACKEND_TLS=private-network"
        )


# Query parameters that would switch off TLS or one of its checks.
MYSQL_TLS_SWITCHES = (
    "ssl_disabled",
    "ssl_check_hostname",
    "ssl_verify_cert",
    "ssl_verify_identity",
)


def _database_tls_problem(query: str) -> str | None:
    params = parse_qs(query)
    if "ssl_ca" not in params and "ssl_capath" not in params:
        return (
            "add ssl_ca=PATH (your CA's certificate, or the system bundle such as "
            "/etc/ssl/certs/ca-certificates.crt) to its query string"
        )
    if "ssl_disabled" in params or any(
        value.lower() in ("false", "0", "no", "off")
        for name in MYSQL_TLS_SWITCHES
        for value in params.get(name, [])
    ):
        return "remove the query parameters that turn TLS or its checks off"
    return None


# Claims a person sets for themselves (OpenID Connect Core 5.1) or the
# protocol fills in: mapping one to a role would let anyone choose theirs.
NOT_ROLE_CLAIMS = frozenset(
    {
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "email",
        "email_verified",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "phone_number",
        "phone_number_verified",
        "address",
        "updated_at",
        "iss",
        "aud",
        "azp",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "at_hash",
        "c_hash",
        "sid",
    }
)


def _validate_oidc(settings: Mapping[str, Any]) -> None:
    """Check every OpenID Connect setting at start-up, so a mistake is a
    message naming the variable, not a failed log-in later."""
    production = settings["APP_ENV"] == "production"
    where = (
        "your provider's value"
        if production
        else "in .env: the development provider's (make idp) or your provider's value"
    )
    issuer = settings["OIDC_ISSUER"]
    if not issuer:
        raise ConfigError(f"OIDC_ISSUER is not set; set it {where}")
    parts = urlsplit(issuer)
    loopback = parts.hostname in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback and not production):
        raise ConfigError(
            f"OIDC_ISSUER must be an https:// URL (plain http:// only to a loopback host, "
            f"and never in production); got {issuer!r}"
        )
    if not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"OIDC_ISSUER must be the provider's issuer URL; got {issuer!r}")
    for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"):
        if not settings[name]:
            raise ConfigError(f"{name} is not set; set it {where}")
    if "openid" not in settings["OIDC_SCOPES"].split():
        raise ConfigError(f"OIDC_SCOPES must include openid; got {settings['OIDC_SCOPES']!r}")
    if settings["OIDC_ID_TOKEN_ALG"] not in ID_TOKEN_ALGORITHMS:
        raise ConfigError(
            "OIDC_ID_TOKEN_ALG must be one of "
            + ", ".join(ID_TOKEN_ALGORITHMS)
            + f" (asymmetric signatures only); got {settings['OIDC_ID_TOKEN_ALG']!r}"
        )
    claim = settings["OIDC_ROLES_CLAIM"]
    if not claim or len(claim) > 100 or any(c.isspace() for c in claim):
        raise ConfigError(
            f"OIDC_ROLES_CLAIM must be the name of an ID token claim, such as groups; got {claim!r}"
        )
    if claim in NOT_ROLE_CLAIMS:
        raise ConfigError(
            f"OIDC_ROLES_CLAIM must be a claim the provider's administrators set, such as groups "
            f"or roles; {claim!r} is set by the person or by the protocol"
        )
    # Imported here: roles.py needs the extensions, which need these settings' module.
    from .oidc_roles import parse_role_map

    try:
        parse_role_map(settings["OIDC_ROLES"])
    except ValueError as error:
        raise ConfigError(
            f"OIDC_ROLES must be comma-separated GROUP=ROLE pairs (such as app-admins=admin): "
            f"{error}"
        ) from None
    if not settings["OIDC_MFA_AMR"]:
        raise ConfigError(
            "OIDC_MFA_AMR must name at least one amr value that shows a second factor "
            "(RFC 8176; most providers send mfa)"
        )
