"""GPU readiness check: the six generators at full scale, trained briefly and animated, in one short run.

## How to run

On a machine with one CUDA GPU (about 6 minutes on an H100/H200-class card by estimate; `--budget-s` stops it at 8):

    python benchmarks/gpu_check.py --device cuda                  # six generators, 256 px, full widths, AMP
    python benchmarks/gpu_check.py --device cuda --steps 300      # a longer look at the losses
    python benchmarks/gpu_check.py --tiny                         # the CPU setting the test suite runs (~1 min)
    python benchmarks/gpu_check.py --prepare-only                 # render the 256-px corpus on any CPU beforehand

It renders a small synthetic corpus (`fpme.synth.make_corpus`, 8 training clips and one held-out driving clip
per MEGC2019 class) under `runs/gpu_check/` once (about a minute of CPU at 256 px; reused by later runs), then
for each generator (FOMM and MRAA; vanilla, +EWP, +AWP):

1. trains `--steps` steps through `fpme.train.train` itself, at `make_config(model, prior, 'full')`: 256 px, the
   full widths, the full perceptual loss, batch 16, with mixed precision on CUDA (`TrainConfig.amp`: fp16 autocast
   and a GradScaler; `--no-amp` for fp32), logging every step's loss terms;
2. reloads the checkpoint (`load_generator`) and animates the MEGC2021-shaped protocol (`fpme.experiments.generate`:
   each held-out driving clip drives each of the two template faces, relative motion; one clip per class where
   the paper has three, `--per-class 3` for all nine);
3. prints steps/s (after `WARMUP_STEPS`), animation frames/s, peak GPU memory of training and of animation
   (`torch.cuda.max_memory_allocated`; 'n/a' on a CPU), whether each named loss term fell (mean of the first vs
   the last `LOSS_WINDOW` steps) and a one-line verdict: 'ok: every loss fell'; 'ok; watch X (rose)' when the
   total fell but a term did not; 'FAIL: ...' (an error such as out-of-memory or a non-finite loss, a total that
   did not fall, a blank animation); 'ran' under `MIN_TREND_STEPS` steps; 'not run: over budget'.

The table goes to `benchmarks/results/gpu_check.{csv,md,tex}` (other scales: `gpu_check_<scale>`; `--tiny`:
`runs/gpu_check/gpu_check_tiny`; under the test runner `runs/test/benchmarks/`), stamped with device, torch, AMP
and the perceptual network. The exit status is 1 when a generator failed or the budget left one out.

## What it checks

That the full-scale training path runs on the GPU at the paper's size without running out of memory or producing
non-finite losses under AMP, that the losses start to fall, that a saved checkpoint reloads and animates the
protocol, and how fast each step goes: enough to size a `fpme reproduce --scale full` run (5000 steps per
generator and seed).

## What it does not check

Quality: a few hundred steps teach no generator to carry a micro-expression, so nothing here is compared with
the paper. Nor multi-GPU training (`torchrun`), resuming, bit-exact determinism, the 3000-clip corpus or its
rendering speed, or the recognition experiments. Without torchvision's ImageNet VGG-19 in the torch cache the
perceptual loss is its ONet fallback (the stamp says which), as in every fpme run.
"""
import argparse, math, platform, sys, tempfile, time, traceback
from dataclasses import dataclass
from pathlib import Path
import pandas as pd
import torch

from fpme.core import get_device, in_test, markdown_table, project_path, runs_dir, save_result_table
from fpme.synth import SYNTH_SCALES, SynthConfig, make_corpus
from fpme.samplers import FramePairs
from fpme.train import TRAIN_SCALES, make_config, train
from fpme.models import LOG, MODELS, load_generator
from fpme.motion_model import check_frame_size
from fpme.losses import LOSS_WEIGHTS, PERCEPTUAL_SCALES, Perceptual
from fpme.animate import prepare_driving
from fpme.experiments import (GENERATORS, TEST_CORPUS_SEED, TRAIN_CORPUS_SEED, generate, generator_name,
                              protocol_clips, templates)

BUDGET_S = 480          # the whole check (corpus, six trainings, animations) on one GPU: 8 minutes
DEFAULT_STEPS = 150     # per generator: ~6 min for six at >= 3 steps/s (256 px, batch 16, AMP, H100/H200-class;
                        # an estimate from the model's FLOPs: no GPU has timed it yet, hence `--budget-s`)
TRAIN_CLIPS = 8         # synthetic training clips (enough distinct pairs for a few hundred steps)
DRIVING_PER_CLASS = 1   # held-out driving clips per MEGC2019 class (the paper's protocol has 3)
LOSS_WINDOW = 10        # steps averaged at the start and at the end to say whether a loss fell
MIN_TREND_STEPS = 20    # fewer steps than this: the verdict does not judge the losses
WARMUP_STEPS = 5        # first steps left out of steps/s (cuDNN autotuning, the allocator's first requests)
WARMUP_FRAMES = 8       # driving frames animated once, untimed, before the timed protocol (one animate batch)
NEGLIGIBLE_SHARE = 1e-3  # a weighted term under this share of the total is noise (EWP/AWP's equivariance value:
                         # ~1e-9 in fp32, ~5e-4 under autocast), so whether it fell is not judged
GIB = 2**30             # bytes in a GiB
TERMS = ('loss', *LOSS_WEIGHTS)  # the logged total and its named terms (fpme.train.step_losses)
NOT_AVAILABLE = 'n/a'   # a cell with no value on this device
TINY = dict(scale='smoke', size=64, steps=2, batch=2, train_clips=3, max_frames=8, budget_s=300.0,
            generators=['fomm:none', 'mraa:awp'])  # the test suite's CPU setting (defaults of --tiny): both models


@dataclass
class Data:
    "What every generator of the check uses: training pairs, the protocol's driving clips and template faces."
    pairs: FramePairs  # training pairs of the synthetic corpus
    drivers: list      # `prepare_driving` outputs ((T, 3, H, W) frames, (T, 18, 2) keypoints), one per clip
    templates: list    # the held-out template faces (fpme.synth.Identity)


def corpus(work:Path,        # folder the corpora are rendered into (reused by later runs)
           size:int,         # frame side in px
           scale:str,        # 'smoke' or 'full': the corpus' frame stride
           train_clips:int,  # training clips to render
           per_class:int,    # held-out driving clips per class
           max_frames:int|None=None # animate at most this many frames of each driving clip (None: all)
          )->Data:
    "Render (or reuse) the small training and held-out corpora and prepare the protocol's inputs."
    stride = SYNTH_SCALES[scale].stride
    train_cfg = SynthConfig(size=size, clips=train_clips, stride=stride, seed=TRAIN_CORPUS_SEED, balanced=True)
    held_cfg = SynthConfig(size=size, clips=3 * per_class, stride=stride, seed=TEST_CORPUS_SEED, balanced=True)
    train_t = make_corpus(work/f'train_{size}px_s{stride}', train_cfg, 'train', progress=False)
    held_t = make_corpus(work/f'heldout_{size}px_s{stride}', held_cfg, 'heldout', progress=False)
    drive = protocol_clips(held_t, per_class)
    drivers = [prepare_driving(r.path, size, progress=False) for r in drive.itertuples()]
    drivers = [(frames[:max_frames], keypoints[:max_frames]) for frames, keypoints in drivers]
    return Data(FramePairs(train_t, size=size).prepare(), drivers, templates(size))


def reset_peak(device:torch.device):
    "Start a new peak-memory window (CUDA only)."
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device:torch.device)->float:
    "Peak allocated GPU memory since `reset_peak`, GiB; NaN off CUDA."
    return torch.cuda.max_memory_allocated(device) / GIB if device.type == 'cuda' else math.nan


def steps_per_second(log:pd.DataFrame # a run's log.csv, one row a step (`step`, cumulative `seconds`)
                    )->float:
    "Training speed after the warm-up steps (all but the first step when the run is shorter)."
    skip = min(WARMUP_STEPS, len(log) - 1)
    if skip < 1: return math.nan
    first, last = log.iloc[skip - 1], log.iloc[-1]
    return (last.step - first.step) / max(last.seconds - first.seconds, 1e-9)


def loss_trend(log:pd.DataFrame, # a run's log.csv, one row a step
               term:str          # a column of it, e.g. 'perceptual'
              )->tuple[float, float, bool|None]:
    "(mean of the first window, mean of the last, whether it fell); None when its weighted share is negligible."
    window = max(1, min(LOSS_WINDOW, len(log) // 2))
    first, last = log[term].head(window).mean(), log[term].tail(window).mean()
    share = LOSS_WEIGHTS.get(term, 1) * max(abs(first), abs(last)) / abs(log['loss'].head(window).mean())
    if share < NEGLIGIBLE_SHARE: return first, last, None
    return first, last, bool(last < first)


def trend_cell(first:float, last:float, fell:bool|None)->str:
    "A table cell such as 'fell 2.96 → 0.85'."
    if fell is None: return '≈0'
    return f"{'fell' if fell else 'ROSE'} {first:.3g} → {last:.3g}"


def verdict(row:dict,   # a generator's result row
            steps:int   # the steps it trained
           )->str:
    "One line: ok, ok with terms to watch, or what failed."
    if not row['animation_ok']: return 'FAIL: the animation is blank or of the wrong shape'
    if steps < MIN_TREND_STEPS: return f'ran (under {MIN_TREND_STEPS} steps: losses not judged)'
    if not row['loss_fell']: return 'FAIL: the total loss did not fall'
    rose = [t for t in LOSS_WEIGHTS if row[f'{t}_fell'] is False]
    return f"ok; watch {', '.join(rose)} (rose)" if rose else 'ok: every loss fell'


def animate_protocol(net,             # a trained generator (`load_generator`)
                     data:Data,       # the protocol's driving clips and templates
                     size:int,        # frame side in px
                     device:torch.device
                    )->tuple[int, float, bool]:
    "(frames generated, seconds, whether every clip came out non-blank at the right shape): each clip × template."
    frames, keypoints = data.drivers[0]
    generate(net, data.templates[0], (frames[:WARMUP_FRAMES], keypoints[:WARMUP_FRAMES]))  # untimed warm-up
    reset_peak(device)
    count, ok, t0 = 0, True, time.perf_counter()
    for driving in data.drivers:
        for template in data.templates:
            clip = generate(net, template, driving)  # (T, H, W) uint8, copied to the host (a sync)
            count += len(clip)
            ok = ok and clip.shape == (len(driving[0]), size, size) and int(clip.max()) > int(clip.min())
    return count, time.perf_counter() - t0, ok


def check_generator(model:str, prior:str, # the generator
                    args,                 # the parsed command line
                    data:Data, device:torch.device, work:Path)->dict:
    "Train one generator briefly, reload and animate it; its result row."
    cfg = make_config(model, prior, args.scale, size=args.size, steps=args.steps, batch_size=args.batch,
                      log_every=1, checkpoint_every=args.steps, amp=args.amp)
    row = dict(generator=generator_name(model, prior), model=model, prior=prior, steps=args.steps)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f'{model}_{prior}_', dir=work) as out:
        reset_peak(device)
        train(cfg, data.pairs, out, device, progress=False)
        row['train_peak_gib'] = peak_gib(device)
        log = pd.read_csv(Path(out)/LOG)
        net = load_generator(out, device)[0]
    frames, seconds, row['animation_ok'] = animate_protocol(net, data, args.size, device)
    row.update(steps_per_s=steps_per_second(log), frames=frames, frames_per_s=frames / max(seconds, 1e-9),
               animate_peak_gib=peak_gib(device))
    for term in TERMS:
        row[f'{term}_first'], row[f'{term}_last'], row[f'{term}_fell'] = loss_trend(log, term)
    row['wall_s'] = time.perf_counter() - t0
    row['verdict'] = verdict(row, args.steps)
    return row


def not_run(model:str, prior:str, steps:int, why:str)->dict:
    "The row of a generator the check did not finish."
    return dict(generator=generator_name(model, prior), model=model, prior=prior, steps=steps, verdict=why)


def number(value, fmt:str)->str:
    "A formatted figure, or 'n/a' when there is none (NaN or missing)."
    if value is None or (isinstance(value, float) and math.isnan(value)): return NOT_AVAILABLE
    return format(value, fmt)


def display(rows:list)->pd.DataFrame:
    "The rows as the printed table's cells."
    cells = []
    for r in rows:
        cell = {'generator': r['generator'], 'steps': r['steps'], 'steps/s': number(r.get('steps_per_s'), '.2f'),
                'animate frames/s': number(r.get('frames_per_s'), '.1f'),
                'train peak GiB': number(r.get('train_peak_gib'), '.2f'),
                'animate peak GiB': number(r.get('animate_peak_gib'), '.2f')}
        for term in TERMS:
            fell = r.get(f'{term}_fell', 'missing')
            cell[term] = NOT_AVAILABLE if fell == 'missing' else trend_cell(r[f'{term}_first'], r[f'{term}_last'], fell)
        cells.append({**cell, 'verdict': r['verdict']})
    return pd.DataFrame(cells)


def device_name(device:torch.device)->str:
    "The GPU's name, or the CPU's."
    if device.type == 'cuda': return torch.cuda.get_device_name(device)
    return f'CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)'


def parse_args(argv:list|None=None)->argparse.Namespace:
    "The command line, with --tiny's settings and each scale's defaults filled in."
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='auto', help="'auto' (CUDA when present), 'cuda', 'cuda:1', 'cpu'")
    p.add_argument('--steps', type=int, default=DEFAULT_STEPS, help='training steps per generator')
    p.add_argument('--scale', default='full', choices=sorted(TRAIN_SCALES), help="'full' (GPU) or 'smoke' (CPU)")
    p.add_argument('--size', type=int, default=None, help="frame side in px (default: the scale's)")
    p.add_argument('--batch', type=int, default=None, help="pairs per step (default: the scale's)")
    p.add_argument('--generators', nargs='+', default=None, help='model:prior pairs (default: all six)')
    p.add_argument('--train-clips', type=int, default=TRAIN_CLIPS, help='synthetic training clips to render')
    p.add_argument('--per-class', type=int, default=DRIVING_PER_CLASS, help='driving clips per MEGC2019 class')
    p.add_argument('--max-frames', type=int, default=None, help='animate at most this many frames a driving clip')
    p.add_argument('--budget-s', type=float, default=BUDGET_S, help='stop before a generator that would overrun')
    p.add_argument('--no-amp', dest='amp', action='store_false', help='train in fp32 on CUDA too')
    p.add_argument('--work', type=Path, default=None, help='corpus and scratch folder (default runs/gpu_check)')
    p.add_argument('--tiny', action='store_true', help='the CPU test setting: smoke widths, 64 px, 2 steps')
    p.add_argument('--prepare-only', action='store_true', help='render the corpus and stop (e.g. before a GPU lease)')
    if p.parse_known_args(argv)[0].tiny: p.set_defaults(**TINY)  # explicit options still win
    a = p.parse_args(argv)
    a.name = 'tiny' if a.tiny else a.scale
    a.size = a.size or TRAIN_SCALES[a.scale]['size']
    a.batch = a.batch or TRAIN_SCALES[a.scale]['batch_size']
    a.generators = tuple(tuple(g.split(':')) for g in a.generators) if a.generators else GENERATORS
    if a.steps < 1: p.error(f'--steps must be at least 1, got {a.steps}')
    return a


def check_arguments(args):
    "Clear errors for generator names and frame sizes the models cannot take, before any rendering."
    for g in args.generators:
        if len(g) != 2 or g not in GENERATORS:
            raise SystemExit(f"unknown generator {':'.join(g)!r}; choose among {[':'.join(g) for g in GENERATORS]}")
    for name, (_, ccls) in MODELS.items():
        try: check_frame_size(ccls.at_scale(args.scale), args.size)
        except ValueError as e: raise SystemExit(f'--size {args.size} at --scale {args.scale} ({name}): {e}') from None


def run_all(args, data:Data, device:torch.device, work:Path, t_start:float)->list:
    "Every generator's row, leaving out (and saying so) those the budget has no time for."
    rows, longest = [], 0.0
    for model, prior in args.generators:
        elapsed = time.perf_counter() - t_start
        if elapsed + longest > args.budget_s:
            why = f'not run: over budget ({elapsed:.0f} s used + ~{longest:.0f} s > {args.budget_s:g} s)'
            print(f'{generator_name(model, prior)}: {why}', flush=True)
            rows.append(not_run(model, prior, args.steps, why))
            continue
        try: row = check_generator(model, prior, args, data, device, work)
        except Exception as e:  # report every generator, then fail the run
            traceback.print_exc()
            row = not_run(model, prior, args.steps, f'FAIL: {type(e).__name__}: {str(e).splitlines()[0][:200]}')
        longest = max(longest, time.perf_counter() - t_start - elapsed)
        print(f"{row['generator']}: {row['verdict']} ({time.perf_counter() - t_start:.0f} s so far)", flush=True)
        rows.append(row)
        if device.type == 'cuda': torch.cuda.empty_cache()
    return rows


def setup(args)->tuple[torch.device, str, Path]:
    "The device (a clear error when it is absent), the AMP mode it trains with, the work folder."
    try: device = get_device(args.device)
    except RuntimeError as e: raise SystemExit(f'--device {args.device}: {e}') from None
    if device.type == 'cpu' and args.scale == 'full' and not args.prepare_only:
        print('note: the full scale on a CPU takes about a minute a step; --tiny or --scale smoke suit a CPU')
    amp = 'fp16 autocast + GradScaler' if args.amp and device.type == 'cuda' else 'off'
    work = args.work or (runs_dir('test', 'gpu_check') if in_test() else runs_dir('gpu_check'))
    work.mkdir(parents=True, exist_ok=True)
    return device, amp, work


def save(rows:list, args, stamp:str, work:Path)->list[Path]:
    "Write the table (CSV numbers, Markdown and LaTeX cells): benchmarks/results/, or scratch for --tiny and tests."
    folder = project_path('benchmarks', 'results')
    if args.tiny: folder = work  # plumbing figures, not a result
    if in_test(): folder = runs_dir('test', 'benchmarks')
    stem = 'gpu_check' if args.name == 'full' else f'gpu_check_{args.name}'
    return save_result_table(pd.DataFrame(rows), stem, display(rows), stamp, folder=folder)


def main(argv:list|None=None)->int:
    "Run the check; the exit status (1 when a generator failed or was left out)."
    t_start = time.perf_counter()
    args = parse_args(argv)
    check_arguments(args)
    device, amp, work = setup(args)
    perceptual = Perceptual(**PERCEPTUAL_SCALES[args.scale]).source
    print(f'device={device} ({device_name(device)}) torch={torch.__version__} scale={args.scale} size={args.size} '
          f'batch={args.batch} steps={args.steps} amp={amp} budget={args.budget_s:g} s', flush=True)
    data = corpus(work, args.size, args.scale, args.train_clips, args.per_class, args.max_frames)
    cases = f'{len(data.drivers)} driving clips x {len(data.templates)} templates'
    print(f'corpus ready in {time.perf_counter() - t_start:.0f} s in {work}: {len(data.pairs)} training clips, {cases}')
    if args.prepare_only: return 0
    rows = run_all(args, data, device, work, t_start)
    total = time.perf_counter() - t_start
    print('\n' + markdown_table(display(rows)), flush=True)
    stamp = (f'gpu_check {args.name}: device={device_name(device)}, torch={torch.__version__}, scale={args.scale}, '
             f'{args.size} px, batch {args.batch}, {args.steps} steps, amp={amp}, perceptual={perceptual}, '
             f'{cases}, {total:.0f} s in all')
    print(f'{stamp}\ntable: {save(rows, args, stamp, work)[0]} (.md, .tex)')
    if total > args.budget_s: print(f'OVER BUDGET: {total:.0f} s > --budget-s {args.budget_s:g} s')
    failed = [r['generator'] for r in rows if not r['verdict'].startswith(('ok', 'ran'))]
    if failed: print(f"not ready: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
