"""Does a generated face follow its driver's expression? A check that needs no ground truth, for real driving videos.

A face photo is animated by each driving clip with trained generators. dlib's 68 landmarks are found on the driving
frames and on the generated frames (both at the model's size, as the model sees them), and three expression signals
are read from them (`fpme.metrics.expression_signals`): mouth width, mouth opening and brow height, each over the
inter-ocular distance, after every frame's head pose (shift, roll, zoom) is laid onto the first frame's, so that
global head motion does not count as expression. Per generator, driver and signal it reports the driver's change
(rms over frames, from its first frame), the generated clip's, their ratio (amplitude) and their temporal correlation
(`fpme.metrics.expression_following`); a driver whose signal does not rise above the landmark noise (measured on a
still clip; for the built-in drivers, whose true change is known, the true change is compared with it) is marked,
and its ratio means nothing.

Drivers: your own videos or frame folders (`--driving a.mp4 b/ ...`), or, by default, built-in drivers made from a
real photo (the held-out portrait 'biden') that performs macro expressions rendered with the corpus's AU motion
model (`fpme.synth.render`; smile AU 6+12, brow raise AU 1+2, frown AU 4; `--amplitude` of the face size), plus
two controls: the still photo (sensor noise only; it gives the noise floor) and the photo moved as a rigid head
only (shift, roll, zoom). No real face video ships with fpme or can be fetched here, so the default
drivers are real faces with synthetic motion: they test the measurement and the generators on large expressions, not
the generators on real human motion. That motion model is a smooth warp and cannot part closed lips, so no built-in
driver opens the mouth (its exact mouth opening stays 0): that signal is read only from real videos. For the
built-in drivers the table also gives the change read from their exact landmarks: the gap to dlib's reading is the
measurement's own error (the head-motion control shows how much of a rigid motion dlib reads as expression).
The source is the other held-out portrait ('grace_hopper') unless `--source`.

Writes benchmarks/results/expression_following_<scale>.{csv,md,tex} (the CSV one row per seed; the Markdown and
LaTeX tables mean [min, max] over the seeds) and a figure of the first seed's frames and signal traces (.png)
(under runs/test/ when run by the tests).

    python benchmarks/expression_following.py --scale cpu --generators fomm:awp mraa:awp --seeds 0 1 2 3 4
    python benchmarks/expression_following.py --driving smile.mp4 talk/ --source me.jpg --scale cpu
"""
import argparse
from pathlib import Path
import cv2
import numpy as np, pandas as pd
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from fpme.core import (get_device, save_result_table, save_figure, markdown_table, project_path, in_test, runs_dir,
                       sample_face)
from fpme.animate import prepare_source, prepare_driving, animate, to_tensor, from_tensor
from fpme.landmarks import clip_landmarks, preprocess_clip, NoFaceError
from fpme.prior import norm_keypoints
from fpme.metrics import expression_signals, expression_following, SIGNALS, NOISE_MULTIPLE
from fpme.models import load_generator
from fpme.experiments import trained_generators, generator_name, experiment_scale
from fpme.synth import crop_identity, render, Programme, face_frame, PORTRAIT_SOURCES

SOURCE_FACE = 'grace_hopper'   # default source photo (a held-out template of the corpus)
DRIVER_FACE = 'biden'          # default driving face (the other held-out template)
DRIVER_SIDE = 256              # px: the built-in drivers are rendered at this size, then cropped like any video
DRIVER_FPS = 25                # built-in drivers are filmed at ordinary video rate
DURATION = 1.6                 # s, onset -> offset of a built-in expression
MACRO = 0.06                   # apex displacement of a built-in expression, fraction of the face size
APEX_AT = 0.5                  # share of a built-in expression's duration before its apex
EXPRESSIONS = {  # built-in driver -> (emotion label, AUs); each AU at weight 1
    'smile': ('happiness', (6, 12)),
    'brow raise': ('surprise', (1, 2)),
    'frown': ('anger', (4,)),
}
HEAD_SHIFT = 0.05              # the head-motion control: peak shift, fraction of the face size
HEAD_ROLL = 5.0                # its peak roll, degrees
HEAD_ZOOM = 0.05               # its peak change of scale
HEAD_RISE = 0.5                # its vertical shift, as a share of the horizontal one (upwards while moving right)
LANDMARK_SIDE = 256            # frames are enlarged to this side before dlib reads them (it needs ~80 px faces)
FIG_DPI = 80                   # the figure is a large grid of thumbnails
CONTROLS = ('still (noise floor)', 'head motion only')


def programme(emotion, aus, amplitude):
    "A built-in driver's AU programme (no blink: a blink would move the brows' neighbourhood)."
    return Programme(emotion, aus, tuple(1.0 for _ in aus), amplitude, DURATION, APEX_AT, DRIVER_FPS, None, 0)


def head_motion(ident, frames):
    "The still photo moved as a rigid head (one smooth cycle of shift, roll and zoom): frames and exact landmarks."
    h, w = ident.image.shape
    out, marks = [], []
    for a in np.sin(np.linspace(0, 2 * np.pi, frames)):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), HEAD_ROLL * a, 1 + HEAD_ZOOM * a)
        m[:, 2] += HEAD_SHIFT * w * np.array([a, -HEAD_RISE * a])
        out.append(cv2.warpAffine(ident.image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
        marks.append(ident.landmarks @ m[:, :2].T + m[:, 2])
    return np.stack(out), np.stack(marks)


def builtin_drivers(amplitude, frames=None):
    "Name -> ((T, H, W) uint8 frames, (T, 68, 2) exact landmarks) of the built-in drivers, all of one length."
    ident = crop_identity(DRIVER_FACE, PORTRAIT_SOURCES[DRIVER_FACE], sample_face(DRIVER_FACE), DRIVER_SIDE, 'heldout')
    clips = {name: render(ident, programme(e, aus, amplitude)) for name, (e, aus) in EXPRESSIONS.items()}
    n = len(next(iter(clips.values()))[0])
    clips[CONTROLS[0]] = render(ident, programme('happiness', (12,), 0.0))
    clips[CONTROLS[1]] = head_motion(ident, n)
    if frames:  # the tiniest run: a few frames spread over the clip, apex included
        pick = np.unique(np.linspace(0, n - 1, frames).round().astype(int))
        clips = {k: (f[pick], lm[pick]) for k, (f, lm) in clips.items()}
    return clips


def rms_change(sig):
    "Per signal, the rms change from the first frame."
    return {k: float(np.sqrt(np.mean(np.square(v - v[0])))) for k, v in sig.items()}


def crop_driver(frames, size, name):
    "A built-in driver's frames cropped as any video is (first frame's face box): frames and prior keypoints."
    clip = preprocess_clip(frames, size, where=name, progress=False)
    return to_tensor(clip.frames[..., 0]), norm_keypoints(clip.landmarks, size)


def signals(frames, name, required=True):
    "Expression signals of (T, H, W) uint8 frames, read by dlib on frames enlarged to `LANDMARK_SIDE`."
    scale = LANDMARK_SIDE / frames.shape[-1]
    big = np.stack([cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) for f in frames])
    try:
        return expression_signals(clip_landmarks(big, name, progress=False).landmarks)
    except NoFaceError:
        if required:
            raise
        return None   # a generated clip in which dlib finds no face: reported as such, not dropped


def rows_of(generator, driver, driven, generated, floor):
    "Table rows of one (generator, driver): one per signal; NaN for the generated clip where it shows no face."
    found = generated is not None
    follow = expression_following(driven, generated if found else driven, floor)
    lost = dict(generated_rms=np.nan, amplitude_ratio=np.nan, correlation=np.nan)
    return [dict(generator=generator, driver=driver, signal=k, face_found=found, **{**v, **({} if found else lost)})
            for k, v in follow.items()]


def summarise(df):
    "Per generator, driver and signal: the driver's change, and the generated clip's over the seeds (mean, min, max)."
    out = []
    for (g, d, k), x in df.groupby(['generator', 'driver', 'signal'], sort=False):
        seen = x[x.face_found]
        row = dict(generator=g, driver=d, signal=k, seeds=len(x), faces=len(seen), driver_moves=bool(x.driver_moves.iloc[0]),
                   driver_exact_rms=x.driver_exact_rms.iloc[0], driver_rms=x.driver_rms.iloc[0],
                   generated_rms=seen.generated_rms.mean())
        for c in ('amplitude_ratio', 'correlation'):
            row.update({c: seen[c].mean(), f'{c}_min': seen[c].min(), f'{c}_max': seen[c].max()})
        out.append(row)
    return pd.DataFrame(out)


def display(s):
    "Formatted cells; over several seeds the mean and [min, max]; brackets where the driver does not move the signal."
    def cell(r, c):
        if not r.faces: return '–'
        v = f'{r[c]:.3f}' if r.seeds == 1 else f'{r[c]:.2f} [{r[c + "_min"]:.2f}, {r[c + "_max"]:.2f}]'
        return v if r.driver_moves else f'({v})'
    def moves(r):
        text = 'yes' if r.driver_moves else 'no'
        if r.faces < r.seeds: text += f'; no face generated by {r.seeds - r.faces} of {r.seeds} seed(s)'
        return text
    rows = [r for _, r in s.iterrows()]
    return pd.DataFrame({
        'generator': s.generator, 'driver': s.driver, 'signal': s.signal,
        'driver change, exact landmarks': s.driver_exact_rms.map('{:.4f}'.format),
        'driver change (rms, /IOD)': s.driver_rms.map('{:.4f}'.format),
        'generated change (rms, /IOD)': s.generated_rms.map('{:.4f}'.format),
        'amplitude ratio': [cell(r, 'amplitude_ratio') for r in rows],
        'correlation': [cell(r, 'correlation') for r in rows],
        'driver moves': [moves(r) for r in rows]})


def figure(drivers, generated, traces, stamp):
    "Frames (first, the driver's largest change, last) of every driver and generated clip, and the signal traces."
    names = list(drivers)
    gens = list(generated)
    fig, axes = plt.subplots(len(names), 3 + len(gens) * 3 + 1, figsize=(2.0 * (4 + 3 * len(gens)), 2.1 * len(names)),
                             squeeze=False, gridspec_kw=dict(width_ratios=[1] * (3 + 3 * len(gens)) + [3]))
    for i, d in enumerate(names):
        change = np.abs(np.stack([v - v[0] for v in traces['driver'][d].values()])).sum(0)
        picks = (0, int(change.argmax()), len(change) - 1)
        for j, (who, clip) in enumerate([('driver', drivers[d])] + [(g, generated[g][d]) for g in gens]):
            for k, t in enumerate(picks):
                ax = axes[i, 3 * j + k]
                ax.imshow(clip[t], cmap='gray', vmin=0, vmax=255)
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0: ax.set_title(f'{who}\nframe {t}' if k == 1 else f'frame {t}', fontsize=7)
            axes[i, 0].set_ylabel(d, fontsize=8)
        ax = axes[i, -1]
        for s, colour in zip(SIGNALS, ('C0', 'C1', 'C2')):
            v = traces['driver'][d][s]
            ax.plot(v - v[0], color=colour, lw=1.5, label=f'{s}: driver')
            for g, style in zip(gens, ('--', ':', '-.')):
                if traces[g][d] is None: continue
                w = traces[g][d][s]
                ax.plot(w - w[0], color=colour, ls=style, lw=1, label=f'{s}: {g}')
        ax.tick_params(labelsize=6)
        if i == 0: ax.legend(fontsize=5, ncol=2)
    axes[-1, -1].set_xlabel('frame', fontsize=7)
    fig.tight_layout()
    return fig


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--generators', nargs='+', default=['fomm:awp', 'mraa:awp'], help='model:prior pairs, e.g. mraa:ewp fomm:none')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0], help='generator training seeds (the figure shows the first)')
    ap.add_argument('--scale', default='smoke')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--source', default=None, help=f'face photo to animate (default: the {SOURCE_FACE!r} portrait)')
    ap.add_argument('--driving', nargs='*', default=None, help='driving videos or frame folders (default: built-in drivers)')
    ap.add_argument('--amplitude', type=float, default=MACRO, help='built-in expressions: apex displacement / face size')
    ap.add_argument('--frames', type=int, default=None, help='use only this many frames of each built-in driver (tiny runs)')
    a = ap.parse_args()
    dev = get_device(a.device)
    gens = tuple(tuple(g.split(':')) for g in a.generators)
    scale = experiment_scale(a.scale)[0]
    runs = trained_generators(a.scale, dev, seeds=tuple(a.seeds), generators=gens)  # the reproduction's runs where they exist
    nets = {(generator_name(m, p), seed): load_generator(run, dev) for (m, p, seed), run in runs.items()}
    size = next(iter(nets.values()))[1].size
    src, kp_s = prepare_source(a.source if a.source else sample_face(SOURCE_FACE), size)
    builtin = builtin_drivers(a.amplitude, a.frames)
    still = signals(from_tensor(crop_driver(builtin[CONTROLS[0]][0], size, CONTROLS[0])[0]), 'still driver')
    floor = rms_change(still)  # landmark noise at this size
    if a.driving:
        crops = {Path(p).name: prepare_driving(p, size, progress=False) for p in a.driving}
        exact = {}
    else:
        crops = {name: crop_driver(f, size, name) for name, (f, _) in builtin.items()}
        exact = {name: rms_change(expression_signals(lm)) for name, (_, lm) in builtin.items()}
    drivers = {name: from_tensor(frames) for name, (frames, _) in crops.items()}
    traces = {'driver': {name: signals(f, f'driver {name}') for name, f in drivers.items()}}
    rows, generated = [], {}
    print('noise floor (rms change of the still driver, dlib):', {k: round(v, 4) for k, v in floor.items()})
    for (g, seed), (net, cfg) in nets.items():
        prior = cfg.prior != 'none'
        shown = seed == a.seeds[0]  # the figure shows the first seed's clips
        for name, (frames, kp_d) in crops.items():
            clip = from_tensor(animate(net, src, frames, kp_s if prior else None, kp_d if prior else None))
            sig = signals(clip, f'{g} seed {seed} driven by {name}', required=False)
            rows += [dict(r, seed=seed) for r in rows_of(g, name, traces['driver'][name], sig, floor)]
            if shown:
                generated.setdefault(g, {})[name] = clip
                traces.setdefault(g, {})[name] = sig
    df = pd.DataFrame(rows)
    df['driver_exact_rms'] = [exact.get(d, {}).get(k, np.nan) for d, k in zip(df.driver, df.signal)]
    if exact:  # built-in drivers: whether one moves a signal is known exactly, not from dlib's noisy reading
        df['driver_moves'] = df.driver_exact_rms > NOISE_MULTIPLE * df.signal.map(floor)
    out = runs_dir('test', 'benchmarks') if in_test() else project_path('benchmarks', 'results')
    source = a.source or f'the {SOURCE_FACE!r} portrait'
    what = ' '.join(map(str, a.driving)) if a.driving else (f"built-in drivers from the {DRIVER_FACE!r} portrait, "
                                                            f"expressions at {a.amplitude:g} of the face size")
    seeds = ' '.join(map(str, a.seeds))
    stamp = (f"`python benchmarks/expression_following.py --scale {a.scale} --generators {' '.join(a.generators)} "
             f"--seeds {seeds}`; scale={scale}, device={dev.type}, generator seeds {seeds} (several: mean [min, max] "
             f"over them; the figure: seed {a.seeds[0]}), source {source}, drivers: "
             f"{what}; landmarks by dlib at {LANDMARK_SIDE} px on {size}-px frames; ratio and correlation in brackets "
             f"where the driver's (true, for built-in drivers) change is within {NOISE_MULTIPLE:g}x the noise floor")
    summary = summarise(df)
    print(markdown_table(display(summary)))
    name = f'expression_following_{scale}'
    files = save_result_table(df, name, display(summary), stamp, folder=out)
    figs = save_figure(figure(drivers, generated, traces, stamp), name, stamp, formats=('png',), folder=out, dpi=FIG_DPI)
    print(f"\n{stamp}\ntable: {files[0]} (.md, .tex); figure: {figs[0]}")


if __name__ == '__main__':
    main()
