"""A user's own clips as video files (MP4, AVI, MOV), colour or grayscale, at any frame rate: listed by
`fpme.datasets.load_clips`, prepared by `fpme.samplers.prepared_path` (Sec. IV-B crop, dlib landmarks, cached by the
file's bytes), with short landmark gaps repaired and long ones refused. Clips are tiny astronaut faces from
`fpme.fixtures`, a few frames each, so dlib runs about a second per clip."""
from pathlib import Path
import imageio.v3 as iio
import numpy as np
import pytest

from fpme.datasets import CLIPS_SHEET, InvalidDataError, load_clips, load_dataset
from fpme.fixtures import FIXTURE_SIZE, fixture_frames
from fpme.landmarks import MAX_REPAIR_GAP, FaceLostError, read_clip
from fpme.samplers import clip_key, load_prepared, prepared_path

N_FRAMES = 5  # frames of each test clip
SIZE = 32  # px: side of the prepared crops
GREY = 128  # a flat grey frame: dlib finds no face in it


def write_video(path:Path, frames:np.ndarray, fps:float, **kw)->Path:
    "Frames (T, H, W[, 3]) as a video file; the extension picks the container."
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, frames, fps=fps, plugin='FFMPEG', macro_block_size=1, **kw)
    return path


@pytest.fixture
def own_clips(tmp_path):
    "A folder of three clips: a colour MP4 at 30 fps, a grayscale AVI at 12.5 fps, a colour MOV at 24 fps."
    write_video(tmp_path/'alice'/'take1.mp4', fixture_frames(N_FRAMES, face=True), 30)
    write_video(tmp_path/'bob'/'gray.avi', fixture_frames(N_FRAMES, face=True, seed=1)[..., 0], 12.5, codec='mjpeg')
    write_video(tmp_path/'carol.mov', fixture_frames(N_FRAMES, face=True, seed=2), 24)
    (tmp_path/CLIPS_SHEET).write_text('clip,emotion,onset,apex,offset\nalice/take1.mp4,positive,0,2,4\n'
                                      'gray,surprise,,,\ncarol.mov,joy,1,,3\n')
    return tmp_path


def test_videos_are_listed_with_their_own_frame_rates(own_clips):
    t = load_clips(own_clips)
    assert t.clip_id.tolist() == ['clips/alice/take1', 'clips/bob/gray', 'clips/carol/carol']
    assert t.n_frames.tolist() == [N_FRAMES] * 3
    assert t.fps.tolist() == [30.0, 12.5, 24.0]
    assert t.emotion3.tolist() == ['positive', 'surprise', '']
    assert t[['onset', 'apex', 'offset']].values.tolist() == [[0, 2, 4], [-1, -1, -1], [1, -1, 3]]
    assert (t.dataset == 'clips').all() and not t.preprocessed.any()
    assert load_dataset('clips', own_clips).equals(t)  # what `fpme data table clips <folder>` calls


def test_videos_are_prepared_and_cached_by_their_bytes(own_clips):
    t = load_clips(own_clips)
    for r in t.itertuples(index=False):
        f = prepared_path(r, SIZE)
        p = load_prepared(str(f))
        assert p.frames.shape == (N_FRAMES, SIZE, SIZE) and p.frames.dtype == np.uint8, r.clip_id
        assert p.landmarks.shape == (N_FRAMES, 68, 2) and np.isfinite(p.landmarks).all(), r.clip_id
        assert (p.landmarks > -SIZE / 2).all() and (p.landmarks < SIZE * 1.5).all(), r.clip_id  # on the face crop
        assert prepared_path(r, SIZE) == f  # the second call finds the cache
    r = next(t.itertuples(index=False))
    key = clip_key(r, SIZE)
    write_video(Path(r.path), fixture_frames(N_FRAMES, face=True), 25)  # same frames, other bytes
    assert clip_key(r, SIZE) != key


def test_grayscale_video_decodes_to_equal_channels(own_clips):
    frames = read_clip(own_clips/'bob'/'gray.avi')
    assert frames.shape == (N_FRAMES, FIXTURE_SIZE, FIXTURE_SIZE, 3)
    assert (frames[..., 0] == frames[..., 1]).all() and (frames[..., 1] == frames[..., 2]).all()


def test_broken_and_truncated_videos_are_named(tmp_path):
    (tmp_path/'broken.mp4').write_bytes(b'this is not a video')
    with pytest.raises(InvalidDataError, match=r'broken\.mp4: not a video that OpenCV can open.*re-encode it'):
        load_clips(tmp_path)
    (tmp_path/'broken.mp4').unlink()
    good = write_video(tmp_path/'cut.mp4', fixture_frames(N_FRAMES, face=True), 30).read_bytes()
    (tmp_path/'cut.mp4').write_bytes(good[:len(good) // 3])
    with pytest.raises(InvalidDataError, match=r'cut\.mp4'):
        load_clips(tmp_path)


def test_short_face_loss_is_repaired_and_long_loss_refused(tmp_path):
    frames = fixture_frames(N_FRAMES + MAX_REPAIR_GAP, face=True)
    short, long = frames.copy(), frames.copy()
    short[2:4] = GREY
    long[1:2 + MAX_REPAIR_GAP] = GREY
    write_video(tmp_path/'short.mp4', short, 30)
    write_video(tmp_path/'long.mp4', long, 30)
    rl, rs = load_clips(tmp_path).itertuples(index=False)
    with pytest.warns(UserWarning, match=r'no face in 2 of 8 frames \[2, 3\]'):
        p = load_prepared(str(prepared_path(rs, SIZE)))
    assert p.frames.shape[0] == len(frames) and np.isfinite(p.landmarks).all()  # every frame kept
    with pytest.raises(FaceLostError, match=rf'clips/long/long: no face in frames 1-{1 + MAX_REPAIR_GAP} '
                                            rf'\({MAX_REPAIR_GAP + 1} frames > {MAX_REPAIR_GAP} repairable\)'):
        prepared_path(rl, SIZE)
