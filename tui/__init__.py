"""bnner-tui's front ends: the Textual app (`app.py`, `screens/`, `widgets/`) and the CLI (`cli/`).

Both only present and drive `bnner_tui.core`. This package's __init__ imports nothing, so
`bnner-tui --help` never pays for Textual, torch or transformers.
"""
