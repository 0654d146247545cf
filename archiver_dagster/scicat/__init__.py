"""SciCat package."""
