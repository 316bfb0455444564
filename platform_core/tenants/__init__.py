"""Tenants: the factories served by one installation, and which apps each may use."""
