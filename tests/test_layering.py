"""The model stack imports only NumPy and torch: `import fpme.fomm` (and the modules below it) must work on a machine
without dlib or OpenCV. Each check runs in a fresh interpreter where `import dlib` and `import cv2` fail."""
import subprocess, sys
import pytest

from conftest import ROOT

BLOCKED = ('dlib', 'cv2')  # the face-detection and image-IO libraries the model stack must not need
MODEL_STACK = ('fpme.keypoints', 'fpme.prior', 'fpme.blocks', 'fpme.dense_motion', 'fpme.generator',
               'fpme.motion_model', 'fpme.fomm', 'fpme.mraa', 'fpme.losses', 'fpme.models')
SPLIT_PENDING = {'fpme.dense_motion', 'fpme.generator', 'fpme.motion_model', 'fpme.models'}  # checked once they exist

# Run in a child interpreter: sys.modules[name] = None makes `import name` raise ImportError. Importing the modules one
# at a time, in order, names the first one whose import chain reaches a blocked library.
CHILD = '''
import sys, traceback
for name in {blocked!r}: sys.modules[name] = None
for module in {modules!r}:
    try: __import__(module)
    except ImportError as e:
        chain = [f.filename for f in traceback.extract_tb(e.__traceback__) if '/fpme/' in f.filename.replace('\\\\', '/')]
        print(f"{{module}} pulled in a blocked library: {{e}} (via {{' -> '.join(chain) or module}})")
        sys.exit(1)
print('ok')
'''


def existing(modules):
    "The modules whose files exist in fpme/ (the split of fpme.blocks adds some while this test is in place)."
    return [m for m in modules if m not in SPLIT_PENDING or (ROOT/'fpme'/f"{m.split('.')[1]}.py").is_file()]


def import_without(modules, blocked=BLOCKED):
    "Import `modules` in a fresh interpreter where `blocked` cannot be imported; the completed process."
    code = CHILD.format(blocked=tuple(blocked), modules=tuple(modules))
    return subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def assert_imports_without(modules):
    r = import_without(modules)
    assert r.returncode == 0 and r.stdout.strip().endswith('ok'), \
        f"importing {', '.join(modules)} must not need {' or '.join(BLOCKED)}: {r.stdout.strip() or r.stderr.strip()[-2000:]}"


def test_model_stack_imports_without_dlib_and_cv2():
    assert_imports_without(existing(MODEL_STACK))


def test_recognition_imports_without_dlib_and_cv2():
    assert_imports_without(['fpme.recognition'])


def test_the_check_names_the_module_that_pulls_them_in():
    r = import_without(['fpme.keypoints', 'fpme.landmarks'])
    assert r.returncode == 1 and 'fpme.landmarks pulled in a blocked library' in r.stdout, r.stdout + r.stderr


def test_landmarks_still_import_with_dlib_and_cv2():
    r = subprocess.run([sys.executable, '-c', 'import fpme.landmarks as l, fpme.faces; print(l.N_LANDMARKS)'],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.split() == ['68'], r.stderr[-2000:]
