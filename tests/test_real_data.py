"""The real-data path end to end: CASME II-, SAMM- and SMIC-HS-shaped trees with template faces, as a user who
holds the datasets would point fpme at them (`fpme data check`, `fpme reproduce --data`), at the test scale."""
import shutil, subprocess
import pandas as pd
import pytest
import yaml

from conftest import ROOT

TRUTH_STEPS = ('generator_quality', 'ablation', 'table3_expert_eval', 'tables4_5_public_eval')  # need the truth


def fpme(*args):
    "Run the installed `fpme` script from the project root."
    return subprocess.run(['fpme', *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=3600)


@pytest.fixture()
def user_data(tmp_path):
    "A user's copy of the real-layout trees and a data file of their own: no synthetic ground truth in it."
    from fpme.experiments import embedded_data
    src = embedded_data('smoke')  # the test scale's trees under runs/test/
    root = tmp_path/'fme'
    shutil.copytree(src.parent, root, ignore=shutil.ignore_patterns('synthetic_key.csv', 'data.yaml'))
    spec = yaml.safe_load(src.read_text())
    del spec['truth']
    (root/'data.yaml').write_text(yaml.safe_dump(spec))
    return root/'data.yaml'


def test_data_check_names_what_is_missing(user_data):
    r = fpme('data', 'check', user_data)
    assert r.returncode == 0, r.stderr
    assert 'driving clips (9)' in r.stdout and 'smic_hs:' in r.stdout
    (user_data.parent/'SAMM').rename(user_data.parent/'SAMM_elsewhere')
    r = fpme('data', 'check', user_data)
    assert r.returncode == 1 and 'SAMM' in r.stderr and 'problem' in r.stderr


def test_reproduce_runs_the_protocol_on_real_layouts(user_data):
    from fpme.core import tables_dir
    r = fpme('reproduce', '--scale', 'smoke', '--data', user_data, '--quiet')
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    for step in TRUTH_STEPS: assert f'{step}: skipped' in r.stdout, step
    for step in ('fig6_megc_protocol', 'table6_auto_eval', 'table7_augmented_recognition'):
        assert f'{step}: done' in r.stdout or f'{step}: up to date' in r.stdout, step
    t6 = pd.read_csv(tables_dir()/'table6_auto_eval_test.csv', comment='#')
    assert len(t6) and 'test subjects' in (tables_dir()/'table6_auto_eval_test.csv').read_text().splitlines()[0]
