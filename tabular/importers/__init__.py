"""Importers for published NAS tables (NAS-Bench-201 / NATS-Bench and friends).

Each importer turns files a user downloaded into plain Python/numpy objects that the
table writer understands. Foreign pickles are only ever read through
:mod:`tabular.importers.safe_pickle`, which allows plain types and nothing else.
"""
