"""Scicat package."""
