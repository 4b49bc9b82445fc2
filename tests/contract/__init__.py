"""Contract suites: one per port, parametrized over every backend."""
