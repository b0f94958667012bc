"""The `fpme` console script end to end: installed entry point, help, the main job, and bad input."""
import subprocess, sys
import numpy as np
import pytest

from conftest import ROOT


def fpme(*args, cwd=None):
    "Run the installed `fpme` script; returns the completed process."
    return subprocess.run(['fpme', *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT)


def test_help_lists_every_subcommand():
    r = fpme('--help')
    assert r.returncode == 0
    for cmd in ('demo', 'landmarks', 'prior', 'synth'): assert f'    {cmd}' in r.stdout


def test_demo_writes_the_pipeline(tmp_path):
    r = fpme('demo', '--out', tmp_path, '--size', 128)
    assert r.returncode == 0, r.stderr
    z = np.load(tmp_path/'prior.npz')
    assert z['landmarks'].shape == (68, 2) and z['keypoints'].shape == (18, 2)
    assert z['ewp'].shape == (128, 128) and z['ewp'].max() > 0
    assert (tmp_path/'prior_overlay.png').stat().st_size > 0
    assert len((tmp_path/'keypoints.csv').read_text().splitlines()) == 19


@pytest.fixture()
def photos(tmp_path):
    import cv2
    from fpme.core import sample_face
    cv2.imwrite(str(tmp_path/'hopper.jpg'), cv2.cvtColor(sample_face('grace_hopper'), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path/'blank.png'), np.full((200, 200), 127, np.uint8))
    (tmp_path/'empty.png').write_bytes(b'')
    return tmp_path


def test_landmarks_keeps_good_outputs_and_names_bad_inputs(photos):
    from fpme.keypoints import prior_keypoints
    r = fpme('landmarks', photos/'hopper.jpg', photos/'blank.png', photos/'empty.png', '--out', photos/'out', '--layout', 'released')
    assert r.returncode == 1
    assert 'blank.png' in r.stderr and 'no face found' in r.stderr
    assert 'empty.png: the file is empty' in r.stderr
    z = np.load(photos/'out'/'hopper.landmarks.npz')
    np.testing.assert_allclose(z['keypoints'], prior_keypoints(z['landmarks'], 'released'), rtol=1e-5)
    assert not (photos/'out'/'blank.landmarks.npz').exists()


def test_landmarks_of_a_video(photos):
    import cv2
    from fpme.core import sample_face
    face = cv2.cvtColor(sample_face('grace_hopper'), cv2.COLOR_RGB2BGR)
    vw = cv2.VideoWriter(str(photos/'clip.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 25, face.shape[1::-1])
    step = 5  # px per frame: well above dlib's ~1 px jitter on a compressed video
    for i in range(4): vw.write(np.roll(face, i*step, axis=0))
    vw.release()
    r = fpme('landmarks', photos/'clip.mp4', '--out', photos)
    assert r.returncode == 0, r.stderr
    lm = np.load(photos/'clip.landmarks.npz')['landmarks']
    assert lm.shape == (4, 68, 2)
    np.testing.assert_allclose(lm[:, :, 1].mean(1) - lm[0, :, 1].mean(), np.arange(4)*step, atol=1.5)  # follows the roll


def test_prior_overlay_and_errors(photos):
    r = fpme('prior', photos/'hopper.jpg', '--out', photos/'o.png', '--size', 128)
    assert r.returncode == 0 and (photos/'o.png').stat().st_size > 0
    r = fpme('prior', photos/'blank.png', '--out', photos/'b.png')
    assert r.returncode == 1 and 'no face found' in r.stderr and not (photos/'b.png').exists()
    r = fpme('prior', photos/'missing.png', '--out', photos/'m.png')
    assert r.returncode == 1 and 'no such file' in r.stderr


def test_synth_writes_a_labelled_corpus_and_resumes(tmp_path):
    import pandas as pd
    r = fpme('synth', '--out', tmp_path/'c', '--clips', 3, '--size', 48, '--seed', 5)
    assert r.returncode == 0, r.stderr
    m = pd.read_csv(tmp_path/'c'/'manifest.csv')
    assert len(m) == 3 and set(m.emotion3) <= {'negative', 'positive', 'surprise'} and (m.split == 'train').all()
    first = (tmp_path/'c'/'00001'/'img000.png').read_bytes()
    (tmp_path/'c'/'00001'/'landmarks.npy').unlink()
    r = fpme('synth', '--out', tmp_path/'c', '--clips', 3, '--size', 48, '--seed', 5)
    assert r.returncode == 0 and (tmp_path/'c'/'00001'/'img000.png').read_bytes() == first
    assert pd.read_csv(tmp_path/'c'/'manifest.csv').drop(columns='path').equals(m.drop(columns='path'))


def test_animate_names_an_unknown_region_before_loading_anything(photos):
    r = fpme('animate', '--checkpoint', photos/'no_run', '--source', photos/'hopper.jpg', '--driving', photos,
             '--out', photos/'out.mp4', '--regions', 'brows,ears')
    assert r.returncode == 1
    assert "unknown face region 'ears'" in r.stderr and 'brow' in r.stderr
    assert not (photos/'out.mp4').exists()


def test_reproduce_knows_the_cpu_scale():
    "The cpu scale (issue 12): the smoke models trained longer with five seeds, more recogniser seeds; listed, not run."
    from fpme.experiments import EXPERIMENT_SCALES
    from fpme.reproduce import read_params, notebook_params
    r = fpme('reproduce', '--scale', 'cpu', '--list')
    assert r.returncode == 0, r.stderr
    assert 'table7_augmented_recognition' in r.stdout
    cpu, smoke = EXPERIMENT_SCALES['cpu'], EXPERIMENT_SCALES['smoke']
    assert len(cpu.seeds) >= 5 and cpu.steps > smoke.steps and cpu.model_scale == smoke.model_scale
    p = notebook_params(ROOT/'nbs'/'paper'/'table7_augmented_recognition.ipynb', read_params('cpu'))
    assert p['scale'] == 'cpu' and len(p['seeds']) >= 5 and len(p['flow_seeds']) >= 5
