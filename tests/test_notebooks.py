"""Every notebook in nbs/ (nbs/api/, nbs/paper/, nbs/index.ipynb) is a test case: its cells are executed in order, as `nbdev_test` does, skipping
cells flagged with settings.ini's `tst_flags` (slow, gpu). A failing cell's traceback is printed above
pytest's failure report."""
import re
from pathlib import Path
import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook  # renamed so pytest does not collect it

from conftest import ROOT

NBS = ROOT/'nbs'
NOTEBOOKS = sorted(p for p in NBS.rglob('*.ipynb') if not p.name.startswith('_') and '.ipynb_checkpoints' not in p.parts)


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[str(p.relative_to(NBS).with_suffix('')) for p in NOTEBOOKS])
def test_notebook(nb: Path):
    skip = re.split(r'[\s|]+', get_config(path=ROOT).get('tst_flags', ''))  # nbdev 2 separates flags by spaces
    ok, seconds = run_notebook(nb, skip_flags=[f for f in skip if f], showerr=True)
    assert ok, f'{nb.name}: a cell failed (traceback above)'
