"""Verifying Hookline webhooks on the receiving side: the ``hookline_receiver`` library
(its own distribution, ``receiver/`` in this repository, shipped inside Hookline too).

>>> from hookline.receiver import verify
>>> event = verify(secret, body, headers)  # raises InvalidSignature when it does not match
"""

from __future__ import annotations

from hookline_receiver import InvalidSignature, Verifier, verify

__all__ = ["InvalidSignature", "Verifier", "verify"]
