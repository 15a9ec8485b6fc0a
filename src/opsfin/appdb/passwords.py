"""Password hashing (argon2id) and the random secrets handed to people and machines (stored as sha256)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "opsfin_"

_hasher = PasswordHasher()  # argon2id with the library's recommended cost


def hash_password(password: str) -> str:
    """An argon2id hash of the password (salted; includes its parameters)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash; False for a mismatch or an unreadable hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """A hash to verify against for unknown users, so a login takes as long whether the user exists or not."""
    return _hasher.hash(secrets.token_urlsafe(16))


def sha256_hex(secret: str) -> str:
    """The stored form of a bearer token or session id. They are random (≥ 240 bits), so no salt is needed."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A bearer token: "opsfin_" + 40 url-safe characters (240 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


def new_session_id() -> str:
    """A session cookie value (256 random bits)."""
    return secrets.token_urlsafe(32)


def new_password() -> str:
    """A random password for the demo users (16 url-safe characters, 96 bits)."""
    return secrets.token_urlsafe(12)


# ---------------------------------------------------------------- the password rules (NIST SP 800-63B)
MIN_PASSWORD = 8  # characters; NIST's minimum for a password a person chooses
MAX_PASSWORD = 128  # characters; NIST asks that at least 64 be allowed (passphrases)
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (common_passwords.txt, lower-cased)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: object, user_name: str | None = None) -> str | None:
    """Why a new password is refused, or None. No composition rules (NIST): a length, and not a password
    every attacker tries first — one of the 10,000 most common, or the user's own name."""
    if not isinstance(password, str) or not password.strip():
        return "the password must not be empty"
    if len(password) < MIN_PASSWORD:
        return f"the password must be at least {MIN_PASSWORD} characters long (a passphrase is best)"
    if len(password) > MAX_PASSWORD:
        return f"the password must be at most {MAX_PASSWORD} characters long"
    if password.strip().lower() in common_passwords():
        return "this password is one of the 10,000 most common passwords; choose another"
    if user_name and password.strip().lower() == user_name.lower():
        return "the password must not be the user name"
    return None
