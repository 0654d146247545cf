"""Tests of the pooled PostgreSQL instance storage."""
