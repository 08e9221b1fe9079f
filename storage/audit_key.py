"""The audit log's key: a secret kept outside the database, with which every entry and every
stream head is signed (HMAC-SHA256), so that whoever can write the database but does not hold
the key cannot change, add or remove an entry, or move a head back, unnoticed.

Where it comes from, first found wins:

* `PAICHA_AUDIT_KEY`: the key itself (at least 32 characters);
* `PAICHA_AUDIT_KEY_FILE`: the file holding it (made there when there is none);
* else the default file: beside an SQLite database, its name with `.audit-key` added
  (`paicha.db.audit-key`); for a server database, `paicha-audit.key` in the working directory.

`paicha serve` makes the file (mode 0600, 32 random bytes as 64 hex digits) when there is no
key and the log was never sealed. Every process that writes the same database (each replica,
the scheduler, the command line) must hold the same key.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from engine import texts
from engine.errors import PaichaError

ENV_KEY = "PAICHA_AUDIT_KEY"
ENV_FILE = "PAICHA_AUDIT_KEY_FILE"
MIN_LENGTH = 32
SERVER_DEFAULT = "paicha-audit.key"

# Each kind of signature starts with its own label, so that one can never stand in for another:
# every entry's signature is in the database, and none of them may serve as a head's.
_ENTRY = b"paicha-audit entry\x00"
_HEAD = b"paicha-audit head\x00"
_FINGERPRINT = b"paicha-audit fingerprint"

log = logging.getLogger(__name__)


class AuditKeyInvalid(PaichaError):
    """The configured audit key cannot be used."""

    code = "audit_key_invalid"


@dataclass(frozen=True, repr=False)
class AuditKey:
    """The secret and where it was found; signs entries and heads."""

    secret: bytes
    source: str  # "$PAICHA_AUDIT_KEY" or the file's path, for messages
    fingerprint: str = field(init=False)  # names the key without revealing it

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint",
                           hmac.digest(self.secret, _FINGERPRINT, "sha256").hex()[:16])

    def __repr__(self) -> str:  # never the secret, in a log or a traceback
        return f"AuditKey(fingerprint={self.fingerprint!r}, source={self.source!r})"

    def entry_mac(self, entry_hash: str) -> str:
        """An entry's signature: its hash covers its stream, number, content and predecessor."""
        return hmac.digest(self.secret, _ENTRY + entry_hash.encode(), "sha256").hex()

    def head_mac(self, stream: str, seq: int, head_hash: str) -> str:
        """A stream head's signature: `stream` ends at entry `seq`, whose hash is `head_hash`.
        The stream comes last, after the fixed-length fields, so the text is unambiguous."""
        message = _HEAD + f"{seq}\x00{head_hash}\x00{stream}".encode()
        return hmac.digest(self.secret, message, "sha256").hex()

    def signs_entry(self, entry_hash: str, mac: str | None) -> bool:
        return mac is not None and hmac.compare_digest(self.entry_mac(entry_hash), mac)

    def signs_head(self, stream: str, seq: int, head_hash: str, mac: str | None) -> bool:
        return mac is not None and hmac.compare_digest(
            self.head_mac(stream, seq, head_hash), mac)


def from_text(text: str, source: str) -> AuditKey:
    """The key in `text` (surrounding blanks ignored); refused when too short to be secret."""
    secret = text.strip()
    if len(secret) < MIN_LENGTH:
        raise AuditKeyInvalid(texts.t("audit.key.too_short", source=source, length=len(secret),
                                      minimum=MIN_LENGTH))
    return AuditKey(secret.encode("utf-8"), source)


def key_file(url: str, environ: Mapping[str, str] = os.environ) -> Path:
    """Where the key file of the database at `url` is (whether it exists or not)."""
    configured = environ.get(ENV_FILE)
    if configured:
        return Path(configured).expanduser()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        database = Path(parsed.database)
        return database.with_name(database.name + ".audit-key")
    return Path(SERVER_DEFAULT)


def configured(url: str, environ: Mapping[str, str] = os.environ) -> AuditKey | None:
    """The key of the database at `url` from the environment or its key file; None when
    there is neither."""
    if environ.get(ENV_KEY):
        return from_text(environ[ENV_KEY], f"${ENV_KEY}")
    path = key_file(url, environ)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:  # none yet: `paicha serve` makes it there for a new log
        return None
    except OSError as exc:
        raise AuditKeyInvalid(texts.t("audit.key.cannot_read", path=path,
                                      reason=exc.strerror)) from None
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the audit key file %s can be read by others than its owner; "
                    "chmod 600 it", path, extra={"action": "audit_key_exposed"})
    return from_text(text, str(path))


def create(path: Path) -> AuditKey:
    """Write a new random key to `path`, readable by its owner only; never overwrites."""
    secret = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AuditKeyInvalid(texts.t("audit.key.exists", path=path)) from None
    except OSError as exc:
        raise AuditKeyInvalid(texts.t("audit.key.cannot_create", path=path, reason=exc.strerror,
                                      env=ENV_FILE)) from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret + "\n")
    os.chmod(path, 0o600)  # whatever the umask: the key is the owner's alone
    return AuditKey(secret.encode("utf-8"), str(path))

