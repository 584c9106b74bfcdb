"""bnner-tui's engine: everything a user can do, with no user interface attached.

Nothing heavy (torch, transformers, datasets, seqeval) is imported here or in any module's
top level that the CLI or TUI import at start-up; heavy imports live inside functions.
"""

__version__ = "0.1.0"
