"""A department installs the contracts alone: pydantic is the only dependency."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYDANTIC_AND_ITS_DEPENDENCIES = {
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-extensions",
    "typing-inspection",
}


def test_contracts_install_into_an_empty_virtualenv_with_pydantic_only(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(["uv", "pip", "install", "-q", "--python", str(python), str(ROOT / "contracts")], check=True)
    frozen = subprocess.run(
        ["uv", "pip", "freeze", "--python", str(python)], check=True, capture_output=True, text=True
    )
    installed = {line.split("==")[0].split(" @ ")[0].lower().replace("_", "-") for line in frozen.stdout.splitlines()}
    assert installed - {"motcua-contracts"} == PYDANTIC_AND_ITS_DEPENDENCIES
    code = "from motcua_contracts import Envelope, DossierCompleted; print(DossierCompleted.TOPIC.name)"
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == "motcua.routing.v1"
