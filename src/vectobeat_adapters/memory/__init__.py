"""In-memory implementations of every port: the embedded default (one process) and test doubles.

Each behaves exactly like its SQL/Redis twin; the contract suites in ``tests/contract`` prove it.
"""
