"Shared fixtures: the project root, and a fresh landmark cache so tests never read a user's cache."
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope='session')
def _isolated_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv('FPME_CACHE', str(tmp_path_factory.mktemp('fpme-cache')))
    mp.setenv('IN_TEST', '1')  # outputs go to runs/test/, never to the committed figures/ and tables/
    yield
    mp.undo()
