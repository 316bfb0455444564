"""Scheduling app: optimised schedules, Gantt chart and publishing to the shop floor."""
