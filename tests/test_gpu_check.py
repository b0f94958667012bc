"""benchmarks/gpu_check.py: its helpers, and its --tiny setting end to end on a CPU (the same code path a GPU runs,
at smoke widths, 64 px and 2 steps). Under the test runner it writes under runs/test/, never benchmarks/results/."""
import importlib.util, math, os, subprocess, sys
import pandas as pd
import pytest

from conftest import ROOT

SCRIPT = ROOT/'benchmarks'/'gpu_check.py'
TINY_TIMEOUT_S = 600  # generous: the 2-core CPU is shared with training runs (the tiny run takes ~40 s alone)
COLUMNS = ('generator', 'steps', 'steps/s', 'animate frames/s', 'train peak GiB', 'animate peak GiB', 'loss',
           'perceptual', 'equivariance_value', 'equivariance_jacobian', 'verdict')  # the printed table's header


def _load():
    spec = importlib.util.spec_from_file_location('gpu_check', SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gc = _load()


def _log(**terms):
    "A log.csv-like frame: one row a step, a second per step, the given term columns."
    n = len(next(iter(terms.values())))
    return pd.DataFrame({'step': range(1, n + 1), 'seconds': [float(s) for s in range(1, n + 1)], **terms})


def test_loss_trend_fell_rose_and_negligible():
    n = 2 * gc.LOSS_WINDOW
    log = _log(loss=[30.0] * (n // 2) + [10.0] * (n // 2), perceptual=[1.0] * (n // 2) + [2.0] * (n // 2),
               equivariance_value=[1e-6] * n)
    assert gc.loss_trend(log, 'loss') == (30.0, 10.0, True)
    assert gc.loss_trend(log, 'perceptual')[2] is False
    assert gc.loss_trend(log, 'equivariance_value')[2] is None  # weighted share far under NEGLIGIBLE_SHARE
    assert gc.trend_cell(30.0, 10.0, True) == 'fell 30 → 10'
    assert gc.trend_cell(1e-6, 1e-6, None) == '≈0'


def test_steps_per_second_skips_the_warmup():
    log = _log(loss=[1.0] * 10).assign(seconds=[100.0 + s for s in range(10)])  # a 100 s first step, then 1 s each
    assert gc.steps_per_second(log) == pytest.approx(1.0)
    assert math.isnan(gc.steps_per_second(log.head(1)))


def test_verdict_and_cells():
    row = dict(animation_ok=True, loss_fell=True, perceptual_fell=True, equivariance_value_fell=None,
               equivariance_jacobian_fell=False)
    assert gc.verdict(row, gc.MIN_TREND_STEPS) == 'ok; watch equivariance_jacobian (rose)'
    assert gc.verdict(row, 2).startswith('ran')
    assert gc.verdict({**row, 'loss_fell': False}, gc.MIN_TREND_STEPS).startswith('FAIL')
    assert gc.verdict({**row, 'animation_ok': False}, 2).startswith('FAIL')
    assert gc.number(math.nan, '.2f') == gc.NOT_AVAILABLE
    assert gc.number(1.234, '.2f') == '1.23'


def test_arguments():
    full = gc.parse_args([])
    assert (full.scale, full.size, full.batch, full.steps) == ('full', 256, 16, gc.DEFAULT_STEPS)
    assert len(full.generators) == 6
    tiny = gc.parse_args(['--tiny', '--steps', '3'])
    assert (tiny.name, tiny.scale, tiny.size, tiny.steps) == ('tiny', 'smoke', 64, 3)  # explicit options win
    with pytest.raises(SystemExit, match='multiple of'): gc.check_arguments(gc.parse_args(['--size', '64']))
    with pytest.raises(SystemExit, match='unknown generator'):
        gc.check_arguments(gc.parse_args(['--generators', 'fomm:xyz']))


def test_tiny_run_on_cpu():
    out = ROOT/'runs'/'test'/'benchmarks'/'gpu_check_tiny.csv'
    out.unlink(missing_ok=True)
    r = subprocess.run([sys.executable, str(SCRIPT), '--tiny', '--device', 'cpu'], capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, 'IN_TEST': '1'}, timeout=TINY_TIMEOUT_S)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    header = [l for l in r.stdout.splitlines() if l.startswith('| generator')]
    assert header, f'no table printed:\n{r.stdout[-2000:]}'
    assert [c.strip() for c in header[0].strip('|').split('|')] == list(COLUMNS)
    rows = [l for l in r.stdout.splitlines() if l.startswith(('| FOMM', '| MRAA'))]
    assert len(rows) == len(gc.TINY['generators'])
    cells = [[c.strip() for c in l.strip('|').split('|')] for l in rows]
    peaks = [COLUMNS.index('train peak GiB'), COLUMNS.index('animate peak GiB')]
    assert all(c[i] == gc.NOT_AVAILABLE for c in cells for i in peaks), rows  # no peak GPU memory on a CPU
    numbers = pd.read_csv(out, skiprows=1)  # the first line is the stamp
    assert len(numbers) == len(gc.TINY['generators'])
    for term in gc.TERMS:
        assert {f'{term}_first', f'{term}_last', f'{term}_fell'} <= set(numbers.columns)
    assert (numbers.steps_per_s > 0).all() and (numbers.frames_per_s > 0).all() and (numbers.frames > 0).all()
    assert numbers.train_peak_gib.isna().all() and numbers.animate_peak_gib.isna().all()
    assert numbers.animation_ok.all()
    assert (out.parent/'gpu_check_tiny.md').read_text().count('| MRAA+AWP |') == 1


def test_a_failing_generator_is_reported_and_the_rest_still_run(monkeypatch, tmp_path):
    calls = []

    def fake(model, prior, args, data, device, work):
        calls.append((model, prior))
        if model == 'fomm': raise RuntimeError('CUDA out of memory. Tried to allocate 2.00 GiB\nmore detail')
        return dict(generator=gc.generator_name(model, prior), verdict='ok: every loss fell')
    monkeypatch.setattr(gc, 'check_generator', fake)
    args = gc.parse_args(['--tiny'])
    rows = gc.run_all(args, None, gc.get_device('cpu'), tmp_path, gc.time.perf_counter())
    assert calls == [('fomm', 'none'), ('mraa', 'awp')]
    assert rows[0]['verdict'] == 'FAIL: RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB'
    assert rows[1]['verdict'].startswith('ok')


def test_the_budget_leaves_generators_out_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(gc, 'check_generator', lambda *a: pytest.fail('ran a generator past the budget'))
    args = gc.parse_args(['--tiny', '--budget-s', '1'])
    rows = gc.run_all(args, None, gc.get_device('cpu'), tmp_path, gc.time.perf_counter() - 2)
    assert [r['verdict'].split(':')[0] for r in rows] == ['not run'] * 2
    assert 'over budget' in rows[0]['verdict']
    assert gc.display(rows)['steps/s'].tolist() == [gc.NOT_AVAILABLE] * 2
