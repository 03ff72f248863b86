"""Comparing strategies: ``grid`` runs strategies x seeds, ``stats`` compares them, ``cache`` keeps a dashboard
request's results on disk, ``tables`` turns results into the exported tables."""
