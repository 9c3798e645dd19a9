"""Asgard: one async HTTP API in front of every container cluster an ops team runs."""

__version__ = "0.1.0"
