"""The session engine (settings.SESSION_ENGINE): Django's cached_db, refusing keys it could never have made.

Django accepts any session cookie of eight characters or more and looks it up in PostgreSQL; a forged
`sessionid` holding a NUL byte made that query fail, a 500 on every page (issue 8). Django's own keys
are 32 lower-case letters and digits; anything else is no session at all.
"""

from __future__ import annotations

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS

MAX_KEY_LENGTH = 40  # the column's length


class SessionStore(cached_db.SessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(key) and 8 <= len(key or "") <= MAX_KEY_LENGTH and all(
            char in VALID_KEY_CHARS for char in key or "")
