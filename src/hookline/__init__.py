"""Hookline: self-hostable webhook delivery."""

__version__ = "0.1.0"
