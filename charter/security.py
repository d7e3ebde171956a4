"""Secrets and HTTP hardening set up by `create_app()`: the secret key, trusted hosts
and the proxy headers the app believes.

Response headers (Cache-Control, HSTS) are added in `views_support.init_request_hooks`.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret_key"
SECRET_KEY_MIN_LENGTH = 32


class SecretKeyError(RuntimeError):
    pass


def load_or_create_secret_key(instance_path: str | os.PathLike) -> str:
    """The key in `<instance>/secret_key`, made at random (mode 0600) the first time.

    Safe when several processes start at once: the key is written to a private temporary
    file and then hard-linked into place, which fails if another process got there
    first; every process then reads the one key that won. The file is never half written.
    """
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE_NAME
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    key = secrets.token_urlsafe(48)  # 64 characters, 384 random bits
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, (key + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and refuses to replace a key another process made
    except FileExistsError:
        pass
    except OSError:
        # A file system without hard links: create the file exclusively instead.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(key + "\n")
                handle.flush()
                os.fsync(handle.fileno())
    finally:
        tmp.unlink(missing_ok=True)
    log.info("Created a new random secret key in %s", path)


def _read_key_file(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s could be read by other users (mode %o); setting it to 0600", path, mode)
        path.chmod(0o600)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < SECRET_KEY_MIN_LENGTH:
        raise SecretKeyError(
            f"{path} does not hold a usable secret key (fewer than {SECRET_KEY_MIN_LENGTH} "
            "characters). Delete it to have a new one made, or set SECRET_KEY."
        )
    return key


def trusted_hosts_from_site_url(site_url: str) -> list[str] | None:
    host = urlsplit(site_url).hostname
    return [host] if host else None


def apply_proxy_fix(app: Flask) -> None:
    """Believe X-Forwarded-* headers from as many proxies as configured (none by default),
    so that request.remote_addr, and with it the rate limiter's key, is the client's."""
    counts = {
        name: int(app.config.get(f"PROXY_FIX_{name.upper()}") or 0)
        for name in ("x_for", "x_proto", "x_host", "x_port", "x_prefix")
    }
    if any(value < 0 for value in counts.values()):
        raise RuntimeError("PROXY_FIX_X_* settings count proxies: use 0 or more.")
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)
