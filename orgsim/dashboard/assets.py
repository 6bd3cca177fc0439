"""Solara's JavaScript and CSS, kept on disk so that the dashboard works without internet.

The Solara server normally fetches its front end from a CDN. ``fetch_assets`` fills a local copy once
from the npm registry (with ``npm pack`` when npm is installed, else by downloading the same
tarballs), and the server is pointed at it with ``SOLARA_ASSETS_PROXY_CACHE_DIR``.

    python -m orgsim.dashboard.assets [FOLDER]     # default: .solara-assets/ in the project
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from orgsim.errors import OrgsimError

#: The npm packages Solara 1.64 loads from its CDN, at the versions it asks for.
PACKAGES: tuple[str, ...] = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
)
REGISTRY = "https://registry.npmjs.org"
ENV_VAR = "SOLARA_ASSETS_PROXY_CACHE_DIR"


def default_assets_dir() -> Path:
    """Where the local copy lives: ``$SOLARA_ASSETS_PROXY_CACHE_DIR`` if set, else ``.solara-assets/``
    in the project folder (a source checkout), else ``~/.cache/orgsim/solara-assets``."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    project = Path(__file__).resolve().parents[2]
    if (project / "pyproject.toml").is_file():
        return project / ".solara-assets"
    return Path.home() / ".cache" / "orgsim" / "solara-assets"


def missing_assets(folder: Path) -> list[str]:
    """The packages of ``PACKAGES`` not yet unpacked in ``folder``."""
    return [spec for spec in PACKAGES if not (Path(folder) / spec / "package.json").is_file()]


def fetch_assets(folder: str | Path | None = None) -> Path:
    """Unpack every package of ``PACKAGES`` that is missing into ``folder/<name>@<version>/``.

    Idempotent: packages already there are not fetched again. Raises ``OrgsimError`` (one line)
    when the registry cannot be reached.
    """
    folder = Path(folder) if folder is not None else default_assets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for spec in missing_assets(folder):
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            tgz = _npm_pack(spec, Path(tmp)) if shutil.which("npm") else _download(spec, Path(tmp))
            unpacked = Path(tmp) / "unpacked"
            with tarfile.open(tgz) as tar:
                tar.extractall(unpacked, filter="data")
            (top,) = list(unpacked.iterdir())  # npm tarballs hold one folder, usually "package/"
            target = folder / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            top.rename(target)
    return folder


def _npm_pack(spec: str, tmp: Path) -> Path:
    try:
        out = subprocess.run(
            ["npm", "pack", "--silent", spec], cwd=tmp, check=True, capture_output=True, text=True, timeout=300
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise OrgsimError(f"npm pack {spec} failed (is the npm registry reachable?): {_last_line(err)}") from None
    return tmp / out.stdout.strip().splitlines()[-1]


def _download(spec: str, tmp: Path) -> Path:
    name, version = spec.rsplit("@", 1)
    try:
        with urllib.request.urlopen(f"{REGISTRY}/{name}/{version}", timeout=60) as response:
            url = json.load(response)["dist"]["tarball"]
        target = tmp / "package.tgz"
        with urllib.request.urlopen(url, timeout=300) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as err:
        raise OrgsimError(f"cannot download {spec} from {REGISTRY} ({err}); the dashboard needs it once") from None
    return target


def _last_line(err: Exception) -> str:
    text = (getattr(err, "stderr", None) or str(err)).strip()
    return text.splitlines()[-1] if text else str(err)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        folder = fetch_assets(args[0] if args else None)
    except OrgsimError as err:
        print(f"orgsim: error: {err}", file=sys.stderr)
        return 2
    print(f"Solara assets ready in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
