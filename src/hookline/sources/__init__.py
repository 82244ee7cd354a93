"""Event sources: follow a chain, publish what happened to watched addresses as events.

A chain family (EVM today) implements :class:`hookline.sources.base.ChainFamily`; the
runner (:mod:`hookline.sources.runner`) leases sources, asks the family's follower for
one bounded step at a time, and commits each step's events and cursor together through
:class:`hookline.services.sources.SourceService`. Sources produce events only: delivery
is the event service's and the worker's, as for any published event.
"""
