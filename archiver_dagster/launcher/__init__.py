"""A run launcher that forks run workers from a process with the code location imported."""
