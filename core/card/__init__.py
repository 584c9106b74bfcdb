"""Model cards from a run: built from what was measured, edited without losing anything, validated.

Why this package exists: the notebook recipe wrote the card's YAML by hand, so its numbers drifted
from the run, its label names were LABEL_0..6 and the widget language had to be looked up. Here the
metadata comes from the run folder through huggingface_hub's `ModelCard` / `ModelCardData` /
`EvalResult`; re-rendering an existing README keeps every key, comment and order the user wrote
and every word of their own prose; and each save is atomic with a numbered backup.

One responsibility a module (import a name from the module that owns it):

- `facts`: what a run folder says for its card (`load_run`, `RunInfo`, `data_info`);
- `widgets`: the widget examples (the run's own sentences, or curated Bengali ones);
- `build` + `template.md`: the fresh card (`build_card`, `eval_results`);
- `frontmatter`: reading a README safely, its YAML block, YAML problems on README lines;
- `merge`: a fresh card merged into the README already there (`merge_card`);
- `validate` + `vocab`: every problem of a card (`validate_card`), the hand-kept vocabularies;
- `render`: the entry point, `card_text` and `render_card` (atomic save with a backup);
- `errors`: `CardError` and `Problem`.

Nothing heavy is imported at module level (the standard library and light bnner-tui modules only):
huggingface_hub, ruamel.yaml and jinja are imported inside the functions that need them, so the
CLI starts fast. This file imports nothing: each name lives in the one module that owns it.
"""
