"""Settings, read from environment variables only.

APP_ENV selects the mode: "production" (the default, so a forgotten variable
fails closed), "development" or "testing". Production refuses to start
without the secrets and addresses it needs.
"""

from __future__ import annotations

import ipaddress
import math
import re
import secrets
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from limits import parse_many

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
# PASSWORD_MIN_LENGTH's range: NIST SP 800-63B's least, and at most the 64
# characters every account must be able to use (the limit is 128).
MIN_PASSWORD_LENGTH_FLOOR = 8
MIN_PASSWORD_LENGTH_CEILING = 64
# How mail reaches the SMTP server: STARTTLS on the submission port, TLS from
# the first byte (implicit), or plain SMTP, which only a loopback host gets.
MAIL_TLS_MODES = ("starttls", "implicit", "none")
MAIL_DEFAULT_PORTS = {"starttls": 587, "implicit": 465, "none": 25}
# The development mail catcher (make mail).
DEV_MAIL_PORT = 1025
# How production reaches its database and cache servers: "required" means TLS
# with certificate and host-name checks for every server not on this machine;
# "private-network" is the operator's statement that nothing else can reach
# the network between the app and those servers.
BACKEND_TLS_MODES = ("required", "private-network")


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
    "postgres://": "postgresql+psycopg://",
    "postgresql://": "postgresql+psycopg://",
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
        filename = "orders_api.sqlite3"
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
        "WTF_CSRF_TIME_LIMIT": 3600,
        "WTF_CSRF_SSL_STRICT": True,
        "REDIS_URL": environ.get("REDIS_URL", ""),
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
            # New passwords (password_policy.py): at least this long, 8 to 64.
            "PASSWORD_MIN_LENGTH": _int(environ, "PASSWORD_MIN_LENGTH", 12),
            # Also refuse new passwords the Pwned Passwords range API has seen
            # in breaches (k-anonymity; off: nothing leaves the process).
            "PASSWORD_BREACH_CHECK": _bool(environ, "PASSWORD_BREACH_CHECK", False),
            "PASSWORD_BREACH_CHECK_URL": environ.get(
                "PASSWORD_BREACH_CHECK_URL", "https://api.pwnedpasswords.com/range/"
            ).strip(),
            # How long a registration waits for that answer before it lets the password through.
            "PASSWORD_BREACH_CHECK_SECONDS": _int(environ, "PASSWORD_BREACH_CHECK_SECONDS", 2),
            "LOGIN_RATE_LIMIT": environ.get("LOGIN_RATE_LIMIT", "5 per minute"),
            # Password hashes running at once per worker process (64 MiB each,
            # sized with the memory limit of the deployment), and how long a
            # log-in waits for one before it gets 503 (passwords.py).
            "PASSWORD_HASHING_CONCURRENCY": _int(environ, "PASSWORD_HASHING_CONCURRENCY", 1),
            "PASSWORD_HASHING_WAIT_SECONDS": _int(environ, "PASSWORD_HASHING_WAIT_SECONDS", 1),
        }
    )
    # Development sends to the mail catcher on this machine (make mail).
    development = app_env == "development"
    mail_tls = _choice(environ, "MAIL_TLS", MAIL_TLS_MODES, "none" if development else "starttls")
    settings.update(
        {
            "MAIL_SERVER": environ.get("MAIL_SERVER", "127.0.0.1" if development else "").strip(),
            "MAIL_PORT": _int(
                environ, "MAIL_PORT", DEV_MAIL_PORT if development else MAIL_DEFAULT_PORTS[mail_tls]
            ),
            "MAIL_TLS": mail_tls,
            # The CA certificates that verify the server's (PEM file); empty: the system's.
            "MAIL_CA_FILE": environ.get("MAIL_CA_FILE", ""),
            "MAIL_USERNAME": environ.get("MAIL_USERNAME", ""),
            "MAIL_PASSWORD": environ.get("MAIL_PASSWORD", ""),
            "MAIL_FROM": environ.get(
                "MAIL_FROM", "noreply@localhost" if development else ""
            ).strip(),
            # How long a password reset link works.
            "PASSWORD_RESET_MINUTES": _int(environ, "PASSWORD_RESET_MINUTES", 30),
            # How long an address confirmation link works, and how long an
            # account may stay unconfirmed before flask users purge-unconfirmed
            # deletes it.
            "EMAIL_VERIFICATION_HOURS": _int(environ, "EMAIL_VERIFICATION_HOURS", 24),
            "UNCONFIRMED_ACCOUNT_DAYS": _int(environ, "UNCONFIRMED_ACCOUNT_DAYS", 7),
            # Mails one address can be sent (reset and confirmation links,
            # notices), whoever asks.
            "ACCOUNT_MAIL_RATE_LIMIT": environ.get("ACCOUNT_MAIL_RATE_LIMIT", "5 per hour"),
            # The web address of the client application whose pages open the
            # links the API mails (api_links.py): <CLIENT_APP_URL>/confirm-address,
            # /reset-password and /log-in.
            "CLIENT_APP_URL": environ.get(
                "CLIENT_APP_URL", "" if app_env == "production" else "http://localhost:3000"
            ).strip(),
            # Log-in attempts one account takes from clients not used with it,
            # together, before those are held back (and, separately, from each
            # client that has logged in to it): login_throttle.py.
            "ACCOUNT_LOGIN_RATE_LIMIT": environ.get(
                "ACCOUNT_LOGIN_RATE_LIMIT", "10 per 15 minutes; 100 per day"
            ),
            # Keys that encrypt stored secrets (stored_secrets.py), newest
            # first: the first encrypts, all decrypt. Outside production an
            # unset list falls back on SECRET_KEY, so .env-less runs work.
            "ENCRYPTION_KEYS": _list(environ.get("ENCRYPTION_KEYS"))
            or ([] if app_env == "production" else [secret_key]),
            # Attempts at a second factor one account takes, from every
            # client together (two_factor.py).
            "TWO_FACTOR_RATE_LIMIT": environ.get(
                "TWO_FACTOR_RATE_LIMIT", "5 per 15 minutes; 20 per day"
            ),
            # The name authenticator apps show beside the account's codes.
            "TWO_FACTOR_ISSUER": environ.get(
                "TWO_FACTOR_ISSUER",
                "orders-api",
            ),
            # Passkeys (passkeys.py): the domain they belong to. Unset, the
            # host name of CLIENT_APP_URL; set a parent domain (example.com)
            # for passkeys that work on its subdomains too, and then list the
            # origins that may use them in PASSKEY_ORIGINS.
            "PASSKEY_RP_ID": environ.get("PASSKEY_RP_ID", ""),
            "PASSKEY_ORIGINS": _list(environ.get("PASSKEY_ORIGINS")),
            # The name an authenticator shows beside the site's passkeys.
            "PASSKEY_RP_NAME": environ.get(
                "PASSKEY_RP_NAME",
                "orders-api",
            ),
            # How long a client that logged in (its device token) stays one of the account's.
            "DEVICE_TOKEN_DAYS": _int(environ, "DEVICE_TOKEN_DAYS", 180),
        }
    )
    jwt_secret = environ.get("JWT_SECRET_KEY", "")
    if not jwt_secret and app_env != "production":
        jwt_secret = secrets.token_hex(32)
    settings.update(
        {
            # Signs access tokens (HS256). Separate from SECRET_KEY, so either
            # can be rotated without the other.
            "JWT_SECRET_KEY": jwt_secret,
            # Previous signing keys: they verify the tokens they signed, never
            # sign (tokens.py), while JWT_SECRET_KEY is rotated.
            "JWT_SECRET_KEY_FALLBACKS": _list(environ.get("JWT_SECRET_KEY_FALLBACKS")),
            "JWT_ACCESS_MINUTES": _int(environ, "JWT_ACCESS_MINUTES", 15),
            # A refresh token unused this long expires; every refresh token of
            # one log-in ends JWT_SESSION_DAYS after it, however often it is used.
            "JWT_REFRESH_DAYS": _int(environ, "JWT_REFRESH_DAYS", 14),
            "JWT_SESSION_DAYS": _int(environ, "JWT_SESSION_DAYS", 30),
        }
    )
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        settings["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] = {"connect_timeout": 5}
    return settings


def validate_settings(settings: Mapping[str, Any]) -> None:
    """Refuse configurations that are unsafe for the selected APP_ENV."""
    if settings["APP_ENV"] == "production":
        _validate_production(settings)
    if settings["PASSWORD_HASHING_CONCURRENCY"] < 1:
        # Zero would refuse every log-in; the bound is per worker, so one is
        # the least that works.
        raise ConfigError(
            "PASSWORD_HASHING_CONCURRENCY must be at least 1; "
            f"got {settings['PASSWORD_HASHING_CONCURRENCY']}"
        )
    if settings["PASSWORD_HASHING_WAIT_SECONDS"] < 0:
        raise ConfigError(
            "PASSWORD_HASHING_WAIT_SECONDS must be 0 or more; "
            f"got {settings['PASSWORD_HASHING_WAIT_SECONDS']}"
        )
    _validate_password_policy(settings)
    _validate_passkeys(settings["PASSKEY_RP_ID"], settings["PASSKEY_ORIGINS"])
    client_app = settings["CLIENT_APP_URL"]
    listed = settings["PASSKEY_ORIGINS"]
    if settings["PASSKEY_RP_ID"] and client_app and origin_of(client_app) not in listed:
        # The client application is where passkeys are used (passkeys.py).
        raise ConfigError(
            "PASSKEY_ORIGINS must include the origin of CLIENT_APP_URL "
            f"({origin_of(client_app)}), whose pages ask for passkeys"
        )
    if not 1 <= settings["JWT_SESSION_DAYS"] <= 365:
        raise ConfigError(
            f"JWT_SESSION_DAYS must be from 1 to 365; got {settings['JWT_SESSION_DAYS']}"
        )
    _validate_mail(settings)
    _validate_account_limits(settings)


def _validate_passkeys(rp_id: str, origins: list[str]) -> None:
    # A domain name as browsers take it: no scheme, port or path, and never
    # an IP address, which WebAuthn refuses.
    label = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    if rp_id and not re.fullmatch(rf"(?=.{{1,253}}$)({label}\.)*[a-z]{{2,63}}", rp_id):
        raise ConfigError(
            "PASSKEY_RP_ID must be a domain name in lower case, without scheme, port or path "
            f"(such as example.com), or unset for CLIENT_APP_URL's host name; got {rp_id!r}"
        )
    # With a parent domain, any subdomain's page could ask for its passkeys:
    # only the origins listed here may use them.
    if rp_id and not origins:
        raise ConfigError(
            "PASSKEY_ORIGINS must list the origins that use passkeys of PASSKEY_RP_ID "
            f"(such as https://{rp_id},https://app.{rp_id})"
        )
    if origins and not rp_id:
        raise ConfigError("PASSKEY_ORIGINS needs PASSKEY_RP_ID, the domain of its origins")
    for origin in origins:
        parts = urlsplit(origin)
        host = parts.hostname or ""
        if (
            parts.scheme not in ("https", "http")
            or (parts.scheme == "http" and host != "localhost")
            or origin != f"{parts.scheme}://{parts.netloc}"
            or not (host == rp_id or host.endswith("." + rp_id))
        ):
            raise ConfigError(
                "each of PASSKEY_ORIGINS must be https://HOST[:PORT] (http only for localhost), "
                f"with HOST {rp_id} or a subdomain of it, and nothing after; got {origin!r}"
            )


def _validate_production(settings: Mapping[str, Any]) -> None:
    missing = [
        name
        for name, present in (
            ("SECRET_KEY", settings.get("SECRET_KEY")),
            ("DATABASE_URL", settings.get("SQLALCHEMY_DATABASE_URI")),
            ("TRUSTED_HOSTS", settings.get("TRUSTED_HOSTS")),
            ("REDIS_URL", settings.get("REDIS_URL")),
            ("JWT_SECRET_KEY", settings.get("JWT_SECRET_KEY")),
            ("ENCRYPTION_KEYS", settings.get("ENCRYPTION_KEYS")),
            ("MAIL_SERVER", settings.get("MAIL_SERVER")),
            ("MAIL_FROM", settings.get("MAIL_FROM")),
            ("CLIENT_APP_URL", settings.get("CLIENT_APP_URL")),
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
    """Every key that signs sessions, CSRF tokens or access tokens, or encrypts stored secrets,
    must be strong. Messages name the setting, never the value."""
    _require_strong_secret("SECRET_KEY", settings["SECRET_KEY"])
    for position, fallback in enumerate(settings["SECRET_KEY_FALLBACKS"], start=1):
        name = f"SECRET_KEY_FALLBACKS entry {position}"
        _require_strong_secret(name, fallback)
        if fallback == settings["SECRET_KEY"]:
            raise ConfigError(f"{name} must differ from SECRET_KEY (it lists previous keys only)")
    _require_strong_secret("JWT_SECRET_KEY", settings["JWT_SECRET_KEY"])
    if settings["JWT_SECRET_KEY"] in (settings["SECRET_KEY"], *settings["SECRET_KEY_FALLBACKS"]):
        raise ConfigError("JWT_SECRET_KEY must differ from SECRET_KEY and its fallbacks")
    jwt_fallbacks = settings["JWT_SECRET_KEY_FALLBACKS"]
    for position, fallback in enumerate(jwt_fallbacks, start=1):
        name = f"JWT_SECRET_KEY_FALLBACKS entry {position}"
        _require_strong_secret(name, fallback)
        if fallback == settings["JWT_SECRET_KEY"]:
            raise ConfigError(f"{name} must differ from JWT_SECRET_KEY (it lists old keys only)")
        if fallback in (settings["SECRET_KEY"], *settings["SECRET_KEY_FALLBACKS"]):
            raise ConfigError(f"{name} must differ from SECRET_KEY and its fallbacks")
        if fallback in jwt_fallbacks[: position - 1]:
            raise ConfigError(f"{name} repeats an earlier entry")
    keys = settings["ENCRYPTION_KEYS"]
    for position, key in enumerate(keys, start=1):
        name = f"ENCRYPTION_KEYS entry {position}"
        _require_strong_secret(name, key)
        if key in (settings["SECRET_KEY"], *settings["SECRET_KEY_FALLBACKS"]):
            raise ConfigError(f"{name} must differ from SECRET_KEY and its fallbacks")
        if key in (settings["JWT_SECRET_KEY"], *settings["JWT_SECRET_KEY_FALLBACKS"]):
            raise ConfigError(f"{name} must differ from JWT_SECRET_KEY and its fallbacks")
        if key in keys[: position - 1]:
            raise ConfigError(f"{name} repeats an earlier entry")


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


def _validate_password_policy(settings: Mapping[str, Any]) -> None:
    minimum = settings["PASSWORD_MIN_LENGTH"]
    if not MIN_PASSWORD_LENGTH_FLOOR <= minimum <= MIN_PASSWORD_LENGTH_CEILING:
        raise ConfigError(
            f"PASSWORD_MIN_LENGTH must be from {MIN_PASSWORD_LENGTH_FLOOR} to "
            f"{MIN_PASSWORD_LENGTH_CEILING} (NIST SP 800-63B: at least 8; passwords of 64 "
            f"characters are always accepted); got {minimum}"
        )
    seconds = settings["PASSWORD_BREACH_CHECK_SECONDS"]
    if not 1 <= seconds <= 10:
        raise ConfigError(f"PASSWORD_BREACH_CHECK_SECONDS must be from 1 to 10; got {seconds}")
    if not _is_range_api_url(settings["PASSWORD_BREACH_CHECK_URL"]):
        raise ConfigError(
            "PASSWORD_BREACH_CHECK_URL must be an https URL ending in / (the range API's, "
            "to which the first five hex digits of a SHA-1 are appended; http only to a "
            f"loopback host); got {settings['PASSWORD_BREACH_CHECK_URL']!r}"
        )


def _is_range_api_url(raw: str) -> bool:
    url = urlsplit(raw)
    try:
        url.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    secure = url.scheme == "https" or (url.scheme == "http" and is_local(url.hostname))
    return bool(
        secure and url.hostname and url.path.endswith("/") and not (url.query or url.fragment)
    )


def _validate_mail(settings: Mapping[str, Any]) -> None:
    """Mail goes out over verified TLS, or plain to this host only. Messages
    name the setting, never a password."""
    server, sender = settings["MAIL_SERVER"], settings["MAIL_FROM"]
    if not server:
        if settings["APP_ENV"] == "production":
            return  # named among the missing settings
        raise ConfigError("MAIL_SERVER is not set; set the SMTP server's host name")
    if settings["MAIL_TLS"] == "none" and not is_local(server):
        raise ConfigError(
            f"MAIL_SERVER {server!r} is not on this host, and MAIL_TLS is none: set MAIL_TLS to "
            "starttls or implicit (plain SMTP goes to a loopback address only)"
        )
    if not 0 < settings["MAIL_PORT"] < 65536:
        raise ConfigError(f"MAIL_PORT must be a TCP port, 1 to 65535; got {settings['MAIL_PORT']}")
    if sender.count("@") != 1 or any(c.isspace() or c in '<>,;"\\' for c in sender):
        raise ConfigError(
            f"MAIL_FROM must be one plain address such as noreply@example.com; got {sender!r}"
        )
    if bool(settings["MAIL_USERNAME"]) != bool(settings["MAIL_PASSWORD"]):
        raise ConfigError("MAIL_USERNAME and MAIL_PASSWORD go together: set both or neither")
    if settings["MAIL_USERNAME"] and settings["MAIL_TLS"] == "none":
        raise ConfigError(
            "MAIL_PASSWORD would cross the network in the clear: set MAIL_TLS to starttls "
            "or implicit"
        )
    if settings["MAIL_CA_FILE"] and not Path(settings["MAIL_CA_FILE"]).is_file():
        raise ConfigError(f"MAIL_CA_FILE names no file: {settings['MAIL_CA_FILE']!r}")
    for name in ("PASSWORD_RESET_MINUTES", "EMAIL_VERIFICATION_HOURS", "UNCONFIRMED_ACCOUNT_DAYS"):
        if settings[name] < 1:
            raise ConfigError(f"{name} must be at least 1; got {settings[name]}")


def _validate_account_limits(settings: Mapping[str, Any]) -> None:
    for name in (
        "ACCOUNT_MAIL_RATE_LIMIT",
        "ACCOUNT_LOGIN_RATE_LIMIT",
        "TWO_FACTOR_RATE_LIMIT",
    ):
        if not _rate_limits_parse(settings[name]):
            raise ConfigError(
                f"{name} must be rate limits of at least 1, such as "
                f"'10 per 15 minutes; 100 per day'; got {settings[name]!r}"
            )
    days = "DEVICE_TOKEN_DAYS"
    if not 1 <= settings[days] <= 730:
        raise ConfigError(f"{days} must be from 1 to 730; got {settings[days]}")
    _validate_client_app_url(settings)


def _validate_client_app_url(settings: Mapping[str, Any]) -> None:
    """The links the API mails open pages of the client application: over
    https (http only on this host, for development), with nothing the link's
    own path and token could clash with."""
    raw = settings["CLIENT_APP_URL"]
    if not raw and settings["APP_ENV"] == "production":
        return  # named among the missing settings
    if not _is_client_app_url(raw):
        raise ConfigError(
            "CLIENT_APP_URL must be the https address of the client application, such as "
            "https://app.example.com (http only to a loopback host), without a query or "
            f"fragment; got {raw!r}"
        )


def origin_of(url: str) -> str:
    """The origin of URL as a browser writes it: scheme, host name in lower
    case, and the port only when it is not the scheme's own."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    shown = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{parts.hostname or ''}{shown}"


def _is_client_app_url(raw: str) -> bool:
    url = urlsplit(raw)
    try:
        url.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    secure = url.scheme == "https" or (url.scheme == "http" and is_local(url.hostname))
    return bool(secure and url.hostname and not (url.query or url.fragment))


def _rate_limits_parse(text: str) -> bool:
    """Whether TEXT is one or more limits, each allowing at least one (a
    limit of 0 would refuse every request)."""
    try:
        limits = parse_many(text)
    except ValueError:
        return False
    return bool(limits) and all(limit.amount >= 1 for limit in limits)


def _validate_backend_tls(settings: Mapping[str, Any]) -> None:
    """Every server not on this machine is reached over verified TLS.
    Messages name the setting, never the URL (it may hold a password)."""
    database = urlsplit(settings["SQLALCHEMY_DATABASE_URI"])
    if database.scheme.startswith(("postgres", "mysql", "mariadb")) and not is_local(
        database.hostname
    ):
        _require_tls("DATABASE_URL", _database_tls_problem(database.query))
    cache = urlsplit(settings["REDIS_URL"])
    if cache.scheme != "unix" and not is_local(cache.hostname):
        _require_tls("REDIS_URL", _redis_tls_problem(cache.scheme, cache.query))


def _require_tls(name: str, problem: str | None) -> None:
    if problem:
        raise ConfigError(
            f"{name} names a server on another machine without verified TLS: {problem}; "
            "or, if only this app's private network can reach it, set "
            "BACKEND_TLS=private-network"
        )


def _database_tls_problem(query: str) -> str | None:
    if parse_qs(query).get("sslmode") != ["verify-full"]:
        return (
            "add sslmode=verify-full and sslrootcert=system (or the path of your CA's "
            "certificate) to its query string"
        )
    return None


def _redis_tls_problem(scheme: str, query: str) -> str | None:
    if scheme != "rediss":
        return "use a rediss:// URL"
    params = parse_qs(query)
    if params.get("ssl_cert_reqs", ["required"]) != ["required"] or params.get(
        "ssl_check_hostname", ["true"]
    )[0].lower() in ("false", "0", "no", "off"):
        return "remove ssl_cert_reqs and ssl_check_hostname from its query string"
    return None
