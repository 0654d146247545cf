"""Storage package."""
