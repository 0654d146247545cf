"""What the tests' PostgreSQL fixtures share; the server itself is `devstack.postgres`."""

# What the `instance` fixture can be parametrized with (`indirect=True`); sqlite is its default.
STORAGES = ("sqlite", "postgres")
