"""Does longer training make a smoke-scale generator carry the micro-expression? Trains generators for several
step counts (same data, seed and scale otherwise; the runs of `fpme reproduce` are reused where they match) and
scores each on the MEGC2021-shaped held-out cases (9 driving clips x 2 held-out templates) against the ground
truth, beside the copy-the-source floor. Prints a Markdown table and writes it to
benchmarks/results/transfer_vs_steps_<scale>.{csv,md,tex} (under runs/test/ when run by the tests),
never tables/, which holds only what `fpme reproduce` writes.

    python benchmarks/transfer_vs_steps.py --generators mraa:ewp mraa:none --steps 300 900 [--seed 0] [--device auto]
    python benchmarks/transfer_vs_steps.py --generators mraa:ewp --steps 300 --set lr=6e-4   # a training setting changed

`--set FIELD=VALUE` changes a `fpme.train.TrainConfig` field for every run (each setting trains its own run folder);
the table is then written as transfer_vs_steps_<scale>_<settings>.

Columns: motion error in the AU regions (px), its paired difference to the copy-source floor on the same cases
(negative: closer to the true motion than a still face), motion transfer (share of the true AU-region motion the
clip carries), PSNR; means and 95 % t-intervals over the cases.
"""
import argparse, ast, re, time
import numpy as np, pandas as pd
from fpme.core import get_device, save_result_table, markdown_table, project_path, in_test, runs_dir
from fpme.animate import prepare_driving
from fpme.metrics import score_clip, mean_ci
from fpme.models import load_generator
from fpme.experiments import (corpora, protocol_cases, ground_truth, generate, trained_generators, generator_name,
                              experiment_dir, experiment_scale)

COLUMNS = ('motion_error', 'vs_copy', 'motion_transfer', 'psnr')


def summary(name, steps, minutes, s):
    "One table row: means and CI half-widths of a scored run."
    row = dict(generator=name, steps=steps, minutes=minutes)
    for k in COLUMNS:
        m, lo, hi = mean_ci(s[k]); row[k], row[f'{k}_ci'] = m, (hi - lo) / 2
    return row


def display(rows):
    "The rows as formatted cells (a DataFrame for `save_result_table`)."
    ci = lambda r, k, d: f"{r[k]:.{d}f} ± {r[k + '_ci']:.{d}f}"
    return pd.DataFrame([{'generator': r['generator'], 'steps': r['steps'], 'training min': f"{r['minutes']:.1f}",
                          'motion error (px)': ci(r, 'motion_error', 3), 'vs copy source (px)': ci(r, 'vs_copy', 3),
                          'motion transfer': ci(r, 'motion_transfer', 2), 'PSNR': f"{r['psnr']:.1f}"} for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--generators', nargs='+', default=['mraa:ewp'], help='model:prior pairs, e.g. mraa:awp fomm:none')
    ap.add_argument('--steps', type=int, nargs='+', default=[300, 900])
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--scale', default='smoke'); ap.add_argument('--device', default='auto')
    ap.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE', help='TrainConfig fields for every run, e.g. lr=6e-4')
    a = ap.parse_args(); dev = get_device(a.device)
    overrides = {k: ast.literal_eval(v) for k, v in (x.split('=', 1) for x in a.set)}
    tag = re.sub(r'[^A-Za-z0-9.-]+', '', '_'.join(f'{k}-{v}' for k, v in overrides.items()).replace(',', '_').replace('_', '-'))
    gens = tuple(tuple(g.split(':')) for g in a.generators)
    data = corpora(a.scale); cases = protocol_cases(a.scale)
    truths = {case: ground_truth(t, r) for case, t, r in cases}
    drivers = {r.clip_id: prepare_driving(r.path, data.size, progress=False) for _, _, r in cases}
    floor = pd.DataFrame([dict(case=c, **score_clip(np.repeat(t.image[None], len(truths[c][0]), 0), *truths[c])) for c, t, r in cases])
    rows = [summary('copy source', 0, 0.0, floor.assign(vs_copy=0.0))]
    for n in a.steps:
        t0 = time.time()
        runs = trained_generators(a.scale, dev, seeds=(a.seed,), steps=n, generators=gens, overrides=overrides or None)  # trains the missing ones, in parallel on a CPU
        minutes = (time.time() - t0) / 60
        for (model, prior, seed), out in runs.items():
            net = load_generator(out, dev)[0]
            s = pd.DataFrame([dict(case=c, **score_clip(generate(net, t, drivers[r.clip_id]), *truths[c])) for c, t, r in cases])
            s['vs_copy'] = s.motion_error - floor.set_index('case').loc[s.case, 'motion_error'].to_numpy()
            rows.append(summary(generator_name(model, prior), n, minutes, s))
        print(markdown_table(display(rows)), flush=True)
    name = experiment_scale(a.scale)[0]
    stamp = (f"scale={name}, device={dev.type}, seed={a.seed}, training settings changed: {overrides or 'none'}, {len(cases)} held-out cases (9 driving clips x 2 templates), "
             f"data={data.source}; training min: wall time of training all generators of a step count together")
    out = runs_dir('test', 'benchmarks') if in_test() else project_path('benchmarks', 'results')
    files = save_result_table(pd.DataFrame(rows), f'transfer_vs_steps_{name}' + (f'_{tag}' if tag else ''), display(rows), stamp, folder=out)
    print(f"\n{stamp}\ntable: {files[0]} (.md, .tex)")


if __name__ == '__main__':
    main()
