"""Persistence for active-learning campaigns: a durable label journal and pool fingerprints."""

from skal.io.journal import LabelJournal, pool_fingerprint

__all__ = ["LabelJournal", "pool_fingerprint"]
