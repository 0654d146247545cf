"""Development tooling beside the product: SciCat simulator, local stack, demo, soak, benchmark.

Imported from the source checkout, never installed with `archiver-dagster`; it may import
`archiver_dagster`, the product never imports it.
"""
