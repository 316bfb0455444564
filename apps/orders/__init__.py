"""Orders app: routings, work orders and shop-floor reporting on tablets."""
