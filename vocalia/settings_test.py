"""Test settings: the real PostgreSQL and Redis, other Redis databases, tasks run inline."""

import os

os.environ.setdefault("REDIS_DB_BASE", "10")
os.environ.setdefault("CACHE_KEY_PREFIX", "vocalia-test")

from vocalia.settings import *  # noqa: E402,F403

CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_AUTOREFRESH = True
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
LANGUAGE_CODE = "en"  # pages asked without Accept-Language answer in English; tests of the others say so
