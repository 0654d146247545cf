"""The soak: many datasets through SciCat jobs and the daemon while faults are injected."""
