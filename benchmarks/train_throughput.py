"""CPU training throughput of the smoke-scale generators, every option side by side in one run.

The reproduction trains its twelve smoke generators (6 models x 2 seeds) in one process per CPU core, one torch
thread each (`fpme.core.parallel_map`). This script times the real training step (a seeded batch of the embedded
corpus's frame pairs with their prior keypoints, `fpme.train.draw_batch`; the generator's forward, the perceptual
pyramid and equivariance losses, backward and Adam) under each option:

* threads vs processes: 1 process x 1 thread (one run, as the reproduction trains it), 1 process x all threads,
  one process per core x 1 thread (the machine's throughput, today's preset);
* `channels_last` memory format; bf16 autocast on the CPU; `torch.compile` (its compile time reported apart);
* a larger batch (throughput per sample, not per step);
* data loading: the share of a step spent drawing the batch.

Samples/s are training pairs per second over the whole machine; the speed-up is against today's preset (one
process per core, one thread each, batch as the smoke scale). Medians over `--steps` steps after `--warmup`.
Results go to benchmarks/results/train_throughput.{csv,md,tex} (under runs/test/ when run by the tests).

    python benchmarks/train_throughput.py [--models fomm mraa] [--steps 20] [--compile]
"""
import argparse, os, statistics, time
import multiprocessing as mp
import pandas as pd
import torch

from fpme.core import get_device, save_result_table, markdown_table, project_path, in_test, runs_dir, seed_everything
from fpme.experiments import corpora, experiment_scale
from fpme.losses import Perceptual, PERCEPTUAL_SCALES
from fpme.models import build_model
from fpme.samplers import FramePairs
from fpme.train import make_config, GeneratorLoss, draw_batch, TRAIN_SCALES

PRIOR = 'awp'  # every option is timed on the AWP models (the prior's extra channel and conv layer included)


def _step_times(model, scale, batch, steps, warmup, threads, option):
    "(median seconds per step, median seconds per batch draw, compile seconds) of one option, in this process."
    torch.set_num_threads(threads)
    seed_everything(0)
    data = corpora(scale)
    pairs = FramePairs(data.gen_train, size=data.size).prepare()
    cfg = make_config(model, PRIOR, experiment_scale(scale)[1].model_scale, batch_size=batch, size=data.size)
    net = GeneratorLoss(build_model(cfg), Perceptual(**PERCEPTUAL_SCALES[cfg.scale]), True)
    opt = torch.optim.Adam(net.parameters(), cfg.lr, betas=cfg.betas)
    parts = option.split('+')   # options combine with '+', e.g. channels_last+bf16
    layout = torch.channels_last if 'channels_last' in parts else torch.contiguous_format
    net = net.to(memory_format=layout)
    run = torch.compile(net) if 'compile' in parts else net
    loads, steps_s, compile_s = [], [], 0.0
    for step in range(warmup + steps):
        t = time.perf_counter()
        b = draw_batch(pairs, batch, step, 0)
        b = {k: v.contiguous(memory_format=layout) if v.dim() == 4 else v for k, v in b.items()}
        t_load = time.perf_counter()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled='bf16' in parts):
            loss, _ = run(b)
        opt.zero_grad(set_to_none=True)
        loss.float().backward()
        opt.step()
        t_end = time.perf_counter()
        if 'compile' in parts and step == 0: compile_s = t_end - t
        if step >= warmup:
            loads.append(t_load - t)
            steps_s.append(t_end - t)
    return statistics.median(steps_s), statistics.median(loads), compile_s


def _in_processes(n, args):
    "`_step_times` in n processes at once (spawned): wall seconds per step of each, loads, compile."
    with mp.get_context('spawn').Pool(n) as pool:
        return pool.starmap(_step_times, [args] * n)


def measure(model, scale, batch, steps, warmup, cores, options):
    "Rows of one model: per option, steps/s of one process, samples/s of the machine, the share spent loading."
    rows = []
    def add(option, procs, threads, b, res):
        per_step = statistics.mean(r[0] for r in res)
        rows.append(dict(model=f'{model}+{PRIOR}', option=option, processes=procs, threads=threads, batch=b,
                         steps_per_s=1 / per_step, samples_per_s=procs * b / per_step,
                         loading=statistics.mean(r[1] for r in res) / per_step, compile_s=res[0][2]))
        print(f"  {model}: {option}: {rows[-1]['samples_per_s']:.1f} samples/s", flush=True)
    add('1 process x 1 thread', 1, 1, batch, [_step_times(model, scale, batch, steps, warmup, 1, 'plain')])
    add(f'1 process x {cores} threads', 1, cores, batch, [_step_times(model, scale, batch, steps, warmup, cores, 'plain')])
    add(f'{cores} processes x 1 thread (today)', cores, 1, batch,
        _in_processes(cores, (model, scale, batch, steps, warmup, 1, 'plain')))
    for option in options:
        try: res = _in_processes(cores, (model, scale, batch, steps, warmup, 1, option))
        except Exception as e:   # e.g. torch.compile failing on an op: report it and go on with the other options
            first = str(e).strip().splitlines()[0][:100]
            print(f"  {model}: {option} failed: {type(e).__name__}: {first}", flush=True)
            rows.append(dict(model=f'{model}+{PRIOR}', option=f'{cores} processes x 1 thread + {option}: failed ({first})',
                             processes=cores, threads=1, batch=batch, steps_per_s=float('nan'),
                             samples_per_s=float('nan'), loading=float('nan'), compile_s=0.0))
            continue
        add(f'{cores} processes x 1 thread + {option}', cores, 1, batch, res)
    add(f'{cores} processes x 1 thread, batch {2 * batch}', cores, 1, 2 * batch,
        _in_processes(cores, (model, scale, 2 * batch, steps, warmup, 1, 'plain')))
    today = next(r for r in rows if r['option'].endswith('(today)'))['samples_per_s']
    for r in rows: r['speedup'] = r['samples_per_s'] / today
    return rows


def display(rows):
    "Formatted cells."
    return pd.DataFrame([{'model': r['model'], 'option': r['option'], 'batch': r['batch'],
                          'steps/s (one process)': f"{r['steps_per_s']:.2f}",
                          'samples/s (machine)': f"{r['samples_per_s']:.1f}", 'speed-up vs today': f"{r['speedup']:.2f}x",
                          'loading share': '-' if r['loading'] != r['loading'] else f"{100 * r['loading']:.0f} %",
                          'compile s': f"{r['compile_s']:.0f}" if r['compile_s'] else '-'} for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--models', nargs='+', default=['fomm', 'mraa'])
    ap.add_argument('--scale', default='smoke')
    ap.add_argument('--steps', type=int, default=20, help='timed steps per option')
    ap.add_argument('--warmup', type=int, default=3, help='untimed steps first')
    ap.add_argument('--options', nargs='*', default=['channels_last', 'bf16', 'channels_last+bf16'],
                    help="of 'channels_last', 'bf16', 'compile', or several joined by '+'")
    ap.add_argument('--compile', action='store_true', help='also time torch.compile (minutes of compiling on a CPU)')
    a = ap.parse_args()
    if get_device('auto').type != 'cpu': print('note: this benchmark times the CPU; a GPU is present but unused')
    cores = os.cpu_count() or 1
    scale = experiment_scale(a.scale)[0]
    batch = TRAIN_SCALES[experiment_scale(a.scale)[1].model_scale]['batch_size']
    options = a.options + (['compile'] if a.compile else [])
    t0 = time.time()
    rows = [r for m in a.models for r in measure(m, a.scale, batch, a.steps, a.warmup, cores, options)]
    stamp = (f"`python benchmarks/train_throughput.py --models {' '.join(a.models)} --steps {a.steps} --warmup {a.warmup} "
             f"--options {' '.join(options)}`; scale={scale}, {cores} CPU cores, torch {torch.__version__}, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {time.time() - t0:.0f} s; medians over {a.steps} steps")
    print('\n' + markdown_table(display(rows)))
    out = runs_dir('test', 'benchmarks') if in_test() else project_path('benchmarks', 'results')
    files = save_result_table(pd.DataFrame(rows), 'train_throughput', display(rows), stamp, folder=out)
    print(f"\n{stamp}\ntable: {files[0]} (.md, .tex)")


if __name__ == '__main__':
    main()
