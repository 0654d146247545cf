"""Retrieval package."""
