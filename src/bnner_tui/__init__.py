"""bnner-tui: a terminal workbench for Bengali named-entity recognition.

The repository keeps the engine and the front ends at its top level (`core/`, `tui/`); this
folder only gives them their installed names, `bnner_tui.core` and `bnner_tui.tui`, through two
symlinks. Because the names on disk then match the import names, the editable install is a
plain path entry (`src/` on `sys.path`) that mypy, pyright and IDEs resolve like any package.
"""
