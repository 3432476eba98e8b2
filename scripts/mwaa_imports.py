"""Every third-party module the bundle imports is installed by MWAA's image or listed in the
bundle's requirements.txt.

The imports are read with ``ast`` from every ``.py`` file under the bundle's ``dags/`` (imports
inside functions included: the tasks import their heavy modules there), minus the standard library
and the bundle's own top-level modules. Each module is mapped to the distributions that provide it
(``importlib.metadata.packages_distributions()`` of an environment: the dev venv in the fast test,
the MWAA replica in ``mwaa_check.py``). A distribution counts when the image's package list names it
or requirements.txt lists it by name: something that only arrives as a dependency of a listed
package may disappear with the next version of that package, so it must be listed itself.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.mwaa_reference import normalize, read_pins, read_requirements


@dataclass(frozen=True)
class Missing:
    """A module the bundle imports that MWAA would not have."""

    module: str
    distributions: tuple[str, ...]  # what provides it where the check ran; () when nothing does
    imported_at: tuple[str, ...]  # "path:line", relative to dags/

    def __str__(self) -> str:
        where = ", ".join(self.imported_at[:3]) + (" ..." if len(self.imported_at) > 3 else "")
        provider = (
            f"distribution {'/'.join(self.distributions)}"
            if self.distributions
            else "no installed distribution"
        )
        return f"module {self.module!r} ({provider}; imported at {where})"


def third_party_imports(dags: Path) -> dict[str, list[str]]:
    """Top-level module name -> ``path:line`` of each absolute import of it under ``dags``."""
    own = {p.stem for p in dags.glob("*.py")} | {
        p.name for p in dags.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    found: dict[str, list[str]] = {}
    for path in sorted(dags.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in own and top != "__future__":
                    found.setdefault(top, []).append(f"{path.relative_to(dags)}:{node.lineno}")
    return found


def missing_from_mwaa(
    dags: Path,
    image_packages: Path,
    requirements: str,
    distributions: Mapping[str, Sequence[str]],
) -> list[Missing]:
    """The bundle's imports that neither ``image_packages`` nor ``requirements`` (the text of the
    bundle's requirements.txt) provide; ``distributions`` maps a top-level module to the
    distributions providing it (``importlib.metadata.packages_distributions()``)."""
    available = set(read_pins(image_packages)) | {
        normalize(r.name) for r in read_requirements(requirements)
    }
    missing = []
    for module, places in sorted(third_party_imports(dags).items()):
        providers = tuple(sorted({normalize(d) for d in distributions.get(module, ())}))
        if not available.intersection(providers):
            missing.append(Missing(module, providers, tuple(places)))
    return missing
