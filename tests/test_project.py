"""The project's own promises: README generated from index.ipynb, CI running the README's test command."""
import re
from conftest import ROOT


def test_readme_is_rendered_from_index():
    from fpme.core import notebook_markdown
    assert (ROOT/'README.md').read_text() == notebook_markdown(ROOT/'nbs'/'index.ipynb'), \
        'README.md is out of date: run `python -c "from fpme.core import write_readme; write_readme()"`'


def test_readme_has_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT/'README.md').read_text()
    cmds = re.findall(r'^pip install .*$', readme, flags=re.M)
    assert any('fpme reproduce --scale smoke' in c for c in cmds), 'README lacks the main-job command'
    assert any(c.rstrip().endswith('pytest') for c in cmds), 'README lacks the test command'
    ci = (ROOT/'.ci'/'run').read_text()
    assert 'README.md' in ci and 'fpme reproduce --scale smoke' in ci, 'CI must run the README test command and the smoke reproduction'


def test_setup_keeps_torch_loose_and_constraints_pin_the_cpu_wheel():
    ini = (ROOT/'settings.ini').read_text()
    assert re.search(r'torch>=\d', ini) and 'torch==' not in ini
    assert 'torch==' in (ROOT/'constraints-cpu.txt').read_text()
