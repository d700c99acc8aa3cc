"""Reusable test helpers (local replay HTTP server, real-data lookup). Import as ``support.<module>``."""
