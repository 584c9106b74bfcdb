"""Reusable widgets of the app (the alignment grid, ...); tui-runs' monitor widgets live in monitor/."""
