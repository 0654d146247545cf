"""Packing package."""
