"""Devstack package."""
