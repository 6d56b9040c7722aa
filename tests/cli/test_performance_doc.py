"""docs/performance.md's measured tables are what benches/report.py makes of
the committed JSON in benches/results/: no figure there is edited by hand."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_performance_doc_is_generated_from_results():
    p = subprocess.run([sys.executable, str(ROOT / "benches" / "report.py"), "--check"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
