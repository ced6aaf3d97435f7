"""The README's "What it writes" section is what the code writes for the bundled example."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_examples_are_what_the_code_writes() -> None:
    checked = subprocess.run(
        [sys.executable, "scripts/readme_examples.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_check_notices_a_changed_example(tmp_path: Path) -> None:
    """A control: the same check fails on a README whose example was edited by hand."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    edited = readme.replace("Acknowledge by commenting here", "Acknowledge by writing here", 1)
    assert edited != readme
    script = (ROOT / "scripts" / "readme_examples.py").read_text(encoding="utf-8")
    copy = tmp_path / "scripts"
    copy.mkdir()
    (copy / "readme_examples.py").write_text(
        script.replace(
            "ROOT = Path(__file__).resolve().parent.parent", f"ROOT = Path({str(ROOT)!r})"
        ).replace('README = ROOT / "README.md"', f"README = Path({str(tmp_path / 'README.md')!r})"),
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text(edited, encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, str(copy / "readme_examples.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 1
    assert "out of date" in checked.stderr
