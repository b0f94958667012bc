"""Every benchmark script runs at its tiniest setting, so none goes stale (the figures they print are read from
their own runs in the README, not checked here). Under the test runner experiments use the tiny 'test' scale and
write under runs/test/."""
import os, shutil, subprocess, sys
import pytest

from conftest import ROOT

TINY = {  # script -> (arguments of its tiniest run, a header its table prints)
    'generators.py': (['--sizes', '64', '--scales', 'smoke', '--models', 'fomm', '--batch', '1', '--repeats', '1'],
                      'train steps/s'),
    'recognition.py': (['--scales', 'smoke', '--archs', 'r3d_18', '--repeats', '1'], 'steps/s'),
    'transfer_vs_steps.py': (['--generators', 'fomm:awp', '--steps', '2', '--device', 'cpu'], 'motion transfer'),
    'flow_recognition.py': (['--tiny'], 'UF1'),
    'expression_following.py': (['--generators', 'fomm:awp', '--frames', '6', '--device', 'cpu'], 'amplitude ratio'),
    'region_transfer.py': (['--generators', 'fomm:awp', '--device', 'cpu', '--widths', '0.02', '0.03'], 'region alone'),
    'gpu_check.py': (['--tiny', '--device', 'cpu'], 'steps/s'),
    'train_throughput.py': (['--models', 'fomm', '--steps', '1', '--warmup', '0'], 'samples/s'),
    'study_load.py': (['--participants', '3', '--samples', '2'], 'requests/s'),
    'study_screenshots.py': (['--toy', '--samples', '2'], 'screenshots'),
}
NEEDS_BROWSER = {'study_screenshots.py'}  # Debian's chromium (installed by .ci/install_browser)


def test_every_benchmark_has_a_tiny_run():
    assert sorted(TINY) == sorted(p.name for p in (ROOT/'benchmarks').glob('*.py'))


@pytest.mark.parametrize('script', sorted(TINY))
def test_benchmark_runs(script):
    args, header = TINY[script]
    if script in NEEDS_BROWSER and not shutil.which('chromium'): pytest.skip('chromium is not installed (.ci/install_browser)')
    r = subprocess.run([sys.executable, str(ROOT/'benchmarks'/script), *args], capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, 'IN_TEST': '1'}, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [l for l in r.stdout.splitlines() if header in l]
    assert lines, f'{script} printed no table with {header!r}:\n{r.stdout[-2000:]}'
    after = r.stdout.split(lines[0], 1)[1]
    assert any(ch.isdigit() for ch in after), f'{script} printed no figures under its header:\n{r.stdout[-2000:]}'
