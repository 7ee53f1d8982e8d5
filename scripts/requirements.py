"""Print pyproject's runtime and dev requirements, one a line, for `pip install -r`.

The project itself is not a package (`packages = []`; it runs from the work tree), so
installing only its requirements skips a needless build and an egg-info in the tree."""

import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
    print(requirement)
