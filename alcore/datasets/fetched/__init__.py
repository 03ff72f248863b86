"""Pools fetched from the Materials Project / OQMD as stored data: the pool document (``FetchedPool``), its query
(``FetchQuery``), the on-disk cache of fetched pools and their conversion to a ``Dataset``.

The network clients that make these files live in ``alcore.fetch``, which depends on this package and never the
other way round: listing and loading cached pools needs no network code.
"""
