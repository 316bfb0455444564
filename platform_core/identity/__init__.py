"""Identity and access: users, memberships with roles, shop-floor employees, API tokens, web sessions."""
