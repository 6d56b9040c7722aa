"""The README's example is runnable and prints what the README shows.

This keeps the documentation honest; correctness of the values themselves
is checked against independent references elsewhere (test_differential,
test_inline)."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_example_runs_and_matches(corpus_rows):
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / "examples" / "readme_example.py").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert example in blocks, "README's example differs from examples/readme_example.py"
    shown = re.search(r"```python\n" + re.escape(example) + r"```\n\nprints\n\n```\n(.*?)```",
                      readme, re.S).group(1)
    r = subprocess.run([sys.executable, "examples/readme_example.py"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout == shown
