"""Do recognisers on the onset->apex optical flow see the micro-expression? Trains fpme.flow's OFF-ApexNet and
STSTNet on the training subjects' clips of the embedded corpus, once per seed, and scores each on

* the held-out identities' clips (`corpora(scale).test`), the real test side of Tables VI-VII;
* their perfect transfers: every test clip's AU programme rendered on each template face
  (`fpme.experiments.ground_truth`), which should score about as well;
* a still face: each template repeated for the clip's length, which should score at chance.

Prints a Markdown table (UF1, UAR, accuracy: mean and min-max over seeds) and writes it to
benchmarks/results/flow_recognition_<scale>.md (under runs/test/ when run by the tests).

    python benchmarks/flow_recognition.py                          # smoke scale, both networks, seeds 0-9
    python benchmarks/flow_recognition.py --archs ststnet --seeds 0 1 2 --no-references
    python benchmarks/flow_recognition.py --archs off_apexnet --members 5 --seeds 0 1 2 3 4 5   # seed ensembles
    python benchmarks/flow_recognition.py --tiny                   # the plumbing, in seconds
"""
import argparse, datetime, platform, sys, time
from dataclasses import replace, asdict
import numpy as np, pandas as pd, torch
from fpme.core import get_device, markdown_table, project_path, in_test, runs_dir, parallel_map, job_workers
from fpme.experiments import corpora, experiment_scale
from fpme.metrics import mean_ci
from fpme.recognition import accuracy, f1_macro, uar
from fpme.flow import FLOW_ARCHS, FlowConfig, load_flow, fit_predict_flow, transfer_flow

TINY_EPOCHS = 5     # --tiny: epochs of the one training run
TINY_REFERENCE = 2  # --tiny: test clips whose transfers are rendered


def cpu_name()->str:
    "The CPU's model name (Linux), else the platform's processor string."
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or 'unknown CPU'


def test_sets(data, cfg:FlowConfig, references:bool, limit:int|None)->dict:
    "name -> (features, labels) of each scored set."
    test = data.test if limit is None else data.test.head(limit)
    sets = {'held-out clips': load_flow(data.test, cfg)}
    if references:
        sets['perfect transfer'] = transfer_flow(data.templates, test, cfg)
        sets['still face'] = transfer_flow(data.templates, test, cfg, still=True)
    return sets


def score(y, p)->dict:
    return dict(UF1=f1_macro(y, p), UAR=uar(y, p), accuracy=accuracy(y, p))


def summarise(runs:pd.DataFrame)->pd.DataFrame:
    "One row per (network, test set): each metric's mean and min-max over seeds."
    rows = []
    for (arch, name), g in runs.groupby(['network', 'test set'], sort=False):
        row = {'network': arch, 'test set': name, 'clips': int(g.clips.iloc[0]), 'seeds': len(g)}
        for k in ('UF1', 'UAR', 'accuracy'):
            row[k] = f"{g[k].mean():.3f} ({g[k].min():.3f}-{g[k].max():.3f})"
        _, lo, hi = mean_ci(g.UF1)
        row['UF1 95% CI'] = f"{lo:.3f}-{hi:.3f}" if len(g) > 1 else '-'
        row['UF1 per seed'] = ' '.join(f"{v:.2f}" for v in g.UF1)
        rows.append(row)
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--archs', nargs='+', default=list(FLOW_ARCHS), choices=FLOW_ARCHS)
    ap.add_argument('--seeds', type=int, nargs='+', default=list(range(10)))
    ap.add_argument('--epochs', type=int, default=None, help='override FlowConfig.epochs')
    ap.add_argument('--window', type=int, default=None, help='override FlowConfig.window')
    ap.add_argument('--jitter', type=int, default=None, help='override FlowConfig.jitter')
    ap.add_argument('--members', type=int, default=None, help='override FlowConfig.members (a seed ensemble per seed)')
    ap.add_argument('--workers', type=int, default=None, help='training processes (default: one per CPU core)')
    ap.add_argument('--no-references', action='store_true', help='skip the perfect-transfer and still-face rows')
    ap.add_argument('--scale', default='smoke')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    ap.add_argument('--tiny', action='store_true', help=f'one seed, {TINY_EPOCHS} epochs: the plumbing only')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = get_device(a.device)
    overrides = {k: v for k, v in dict(epochs=a.epochs, window=a.window, jitter=a.jitter, members=a.members).items()
                 if v is not None}
    if a.tiny: overrides.setdefault('epochs', TINY_EPOCHS)
    seeds = a.seeds[:1] if a.tiny else a.seeds
    cfg = replace(FlowConfig(), **overrides)
    t0 = time.time()
    data = corpora(a.scale)
    scale = experiment_scale(a.scale)[0]
    train = load_flow(data.train, cfg, views=True)
    sets = test_sets(data, cfg, not a.no_references, TINY_REFERENCE if a.tiny else None)
    print(f"{scale} scale: {len(data.train)} training clips, "
          + ', '.join(f"{k} {len(v[1])}" for k, v in sets.items()) + f"; features in {time.time() - t0:.0f} s")
    keys = [(arch, seed) for arch in a.archs for seed in seeds]
    jobs = [(replace(cfg, arch=arch, seed=seed), train, None, 1.0, dev, tuple(x for x, _ in sets.values())) for arch, seed in keys]
    t1 = time.time()
    preds = parallel_map(fit_predict_flow, jobs, a.workers or job_workers('cpu', len(jobs)), a.threads)  # side by side
    runs = [dict(network=arch, seed=seed, **{'test set': name, 'clips': len(y)}, **score(y.numpy(), p))
            for (arch, seed), ps in zip(keys, preds) for (name, (_, y)), p in zip(sets.items(), ps)]
    print(f"{len(jobs)} training runs in {time.time() - t1:.0f} s", flush=True)
    table = summarise(pd.DataFrame(runs))
    command = ' '.join(['python benchmarks/flow_recognition.py', *sys.argv[1:]])
    settings = {k: v for k, v in asdict(cfg).items() if k not in ('arch', 'seed')}
    stamp = (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; `{command}`; scale {scale}; "
             f"seeds {list(seeds)}; {cpu_name()}, {a.threads} torch thread(s) per process, device {dev}; "
             f"{time.time() - t0:.0f} s; data {data.data_file.parent.name}/{data.data_file.name}; "
             f"FlowConfig {settings}")
    text = (f"# Flow recognition ({scale})\n\n{stamp}\n\n{data.source}. UF1/UAR/accuracy: mean (min-max) over "
            "seeds, and the 95 % t-interval of the mean UF1; 3 classes: random guessing scores UF1 about 0.33, "
            "a constant guess about 0.17.\n\n" + markdown_table(table))
    print(text)
    out = (runs_dir('test', 'benchmarks') if in_test() or a.tiny else project_path('benchmarks', 'results'))
    path = out/(f'flow_recognition_{scale}' + (f'_members{cfg.members}' if cfg.members > 1 else '') + '.md')
    path.write_text(text)
    print(f"written {path}")


if __name__ == '__main__':
    main()
