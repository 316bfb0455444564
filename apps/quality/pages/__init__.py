"""Page views of the quality app, one module per area."""
