"""Page views of the orders app; apps/orders/blueprint.py maps them to URLs."""
