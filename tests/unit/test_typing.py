"""mypy over the package, with the extension's stubs (gosym/_native.pyi)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_clean():
    r = subprocess.run([sys.executable, "-m", "mypy", "gosym"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


def test_stubs_cover_native():
    """Every public name of the compiled module has a stub."""
    from gosym import _native

    stub = (ROOT / "gosym" / "_native.pyi").read_text()
    imported = {"FormatError", "GosymError", "UnsupportedError"}  # re-exported from gosym.errors
    public = [n for n in dir(_native) if not n.startswith("_") and n not in imported]
    missing = [n for n in public if f"def {n}(" not in stub and f"class {n}" not in stub
               and f"{n}:" not in stub]
    assert not missing, missing
