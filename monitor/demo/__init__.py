"""Bundled local replicas of real news sites, for the test suite and ``newsmon demo``."""
