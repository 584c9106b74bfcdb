"""Maps the repo's top-level core/ and tui/ folders to bnner_tui.core and bnner_tui.tui.

pyproject.toml cannot rename found packages, so this only computes that list.
"""

from setuptools import find_packages, setup

setup(
    packages=[f"bnner_tui.{name}" for name in find_packages(include=["core", "core.*", "tui", "tui.*"])],
)
