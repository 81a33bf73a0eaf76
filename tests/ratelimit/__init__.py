"""Tests of the gravicors-ratelimit plugin with real parts (redis-server, gunicorn).

A package, so that its conftest is imported as ``ratelimit.conftest`` and never
shadows the shared ``tests/conftest.py`` that other test modules import.
"""
