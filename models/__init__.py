"""Domain model and persistence.

Pure modules (``errors``, ``settings``, ``values``, ``rules``) import neither
SQLAlchemy nor anything that does I/O; the persistence modules (``tables``,
``engine``, ``store``, ``migrations``) are the only SQLAlchemy users in the
project. Nothing here connects at import time.
"""
