"""A small app installed only by tests: it subscribes to an event and handles queued jobs."""
