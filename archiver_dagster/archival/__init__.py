"""Archival package."""
