"""Region-selective transfer (`fpme animate --regions`, `fpme.animate.select_regions`) measured on the synthetic
ground truth: does a selected region keep its transfer, and does the rest of the face stay still?

For each MEGC2021-shaped held-out case (driving clip x template) and each AU region of the paper's Fig. 3 (brow,
eye, nose, mouth corner, lips), the case is animated by a trained generator, then reduced to that region alone.
Per region it prints, over the cases where the ground truth moves that region:

* transfer inside the region (its own pixels: `fpme.animate.region_closeness` ≥ `CORE`; the share of the true
  motion carried, `fpme.metrics.transfer_ratio`), whole-face animation vs the region alone, and their paired
  difference;
* the motion left in the *other* regions (their own pixels where the kept region's closeness is below `AWAY`; mean
  flow magnitude from the first frame, px), for the whole-face animation, the region alone and the ground truth; a
  still face scores exactly 0 there.

The row 'ground truth' applies the same selection to the ground truth itself: what a perfect generator would keep.
Results go to benchmarks/results/region_transfer_<scale>.{csv,md,tex} (under runs/test/ when run by the tests).

    python benchmarks/region_transfer.py [--generators fomm:awp mraa:awp] [--seed 0] [--scale smoke]
    python benchmarks/region_transfer.py --widths 0.02 0.03 0.045   # also the region's width against stillness

`--widths` first applies the selection to the ground truth alone with each σ² (`REGION_VARIANCE`) for the blend,
measured in the default width's pixels, and writes region_width_<scale>.{csv,md,tex}; the main table follows.
"""
import argparse
import numpy as np, pandas as pd
from fpme.core import get_device, save_result_table, markdown_table, project_path, in_test, runs_dir
from fpme.animate import (prepare_driving, select_regions, region_closeness, to_tensor, from_tensor, REGION_EDGE,
                          REGION_VARIANCE)
from fpme.keypoints import AU_GROUPS
from fpme.metrics import flow_from_first, transfer_ratio, mean_ci
from fpme.models import load_generator
from fpme.experiments import (corpora, protocol_cases, ground_truth, generate, trained_generators, generator_name,
                              experiment_scale, source_keypoints)

AWAY, CORE = REGION_EDGE   # a region's own pixels: closeness ≥ CORE (the blend keeps the generated frame whole there);
                           # elsewhere: other regions' own pixels where the kept region's closeness < AWAY (the source)
MOVES = 0.05      # px: a region counts as moved in a case when the true flow there averages at least this


def magnitude(flow, where):
    "Mean flow magnitude (px) over the frames after the first, inside a pixel mask."
    return float(np.linalg.norm(flow[1:, where], axis=-1).mean()) if where.any() else float('nan')


def case_rows(name, clip, t, truth, ft, size):
    "One row per region of one animated case: transfer inside it, motion left elsewhere, whole face vs region alone."
    kp = source_keypoints(t, size)
    masks = {g: region_closeness(kp, (g,), size).numpy() for g in AU_GROUPS}
    fg = flow_from_first(clip)
    rows = []
    for g in AU_GROUPS:
        core = masks[g] >= CORE
        away = np.any([masks[h] >= CORE for h in AU_GROUPS if h != g], 0) & (masks[g] < AWAY)
        sel = from_tensor(select_regions(to_tensor(clip), to_tensor(t.image), kp, (g,)))
        fs = flow_from_first(sel)
        rows.append(dict(generator=name, region=g, true_motion=magnitude(ft, core),
                         transfer_whole=transfer_ratio(fg, ft, core), transfer_region=transfer_ratio(fs, ft, core),
                         away_whole=magnitude(fg, away), away_region=magnitude(fs, away), away_truth=magnitude(ft, away)))
    return rows


def width_sweep(cases, truths, flows, size, widths):
    "Per width: the ground truth's transfer kept in its regions and the motion left elsewhere (default-width pixels)."
    rows = []
    for w in widths:
        kept, left = [], []
        for c, t, r in cases:
            kp = source_keypoints(t, size)
            clo = {g: region_closeness(kp, (g,), size).numpy() for g in AU_GROUPS}
            for g in AU_GROUPS:
                core = clo[g] >= CORE
                away = np.any([clo[h] >= CORE for h in AU_GROUPS if h != g], 0) & (clo[g] < AWAY)
                if magnitude(flows[c], core) < MOVES: continue
                fs = flow_from_first(from_tensor(select_regions(to_tensor(truths[c]), to_tensor(t.image), kp, (g,), variance=w)))
                kept.append(transfer_ratio(fs, flows[c], core))
                left.append(magnitude(fs, away))
        rows.append(dict(width=w, kept=float(np.mean(kept)), elsewhere=float(np.nanmean(left)), cases=len(kept)))
    return pd.DataFrame(rows)


def summarise(rows):
    "Means (95 % t-intervals for the paired transfer difference) per generator and region, over cases that move it."
    df = pd.DataFrame(rows)
    df = df[df.true_motion >= MOVES]
    out = []
    for (g, r), d in df.groupby(['generator', 'region'], sort=False):
        diff = mean_ci(d.transfer_region - d.transfer_whole)
        out.append(dict(generator=g, region=r, cases=len(d), transfer_whole=d.transfer_whole.mean(),
                        transfer_region=d.transfer_region.mean(), diff=diff[0], diff_lo=diff[1], diff_hi=diff[2],
                        away_whole=d.away_whole.mean(), away_region=d.away_region.mean(), away_truth=d.away_truth.mean()))
    return pd.DataFrame(out)


def display(s):
    "Formatted cells."
    return pd.DataFrame({'generator': s.generator, 'region kept': s.region, 'cases': s.cases,
                         'transfer, whole face': s.transfer_whole.map('{:.3f}'.format),
                         'transfer, region alone': s.transfer_region.map('{:.3f}'.format),
                         'difference [95 % CI]': [f'{m:+.3f} [{lo:+.3f}, {hi:+.3f}]' for m, lo, hi in zip(s['diff'], s.diff_lo, s.diff_hi)],
                         'motion elsewhere (px): whole face': s.away_whole.map('{:.3f}'.format),
                         'region alone': s.away_region.map('{:.3f}'.format),
                         'ground truth': s.away_truth.map('{:.3f}'.format)})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--generators', nargs='+', default=['fomm:awp', 'mraa:awp'], help='model:prior pairs, e.g. mraa:awp fomm:none')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--scale', default='smoke')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--widths', type=float, nargs='*', default=None, help='σ² of the region (REGION_VARIANCE) to compare')
    a = ap.parse_args()
    dev = get_device(a.device)
    gens = tuple(tuple(g.split(':')) for g in a.generators)
    data = corpora(a.scale)
    cases = protocol_cases(a.scale)
    drivers = {r.clip_id: prepare_driving(r.path, data.size, progress=False) for _, _, r in cases}
    truths = {case: ground_truth(t, r)[0] for case, t, r in cases}
    flows = {case: flow_from_first(truths[case]) for case, _, _ in cases}
    scale = experiment_scale(a.scale)[0]
    out = runs_dir('test', 'benchmarks') if in_test() else project_path('benchmarks', 'results')
    if a.widths:
        w = width_sweep(cases, truths, flows, data.size, a.widths)
        wd = pd.DataFrame({'region width σ²': w.width.map(lambda v: f'{v:g}' + (' (default)' if v == REGION_VARIANCE else '')),
                           'transfer kept in the region': w.kept.map('{:.3f}'.format),
                           'motion left elsewhere (px)': w.elsewhere.map('{:.4f}'.format), 'region-cases': w.cases})
        stamp = (f"`python benchmarks/region_transfer.py --widths {' '.join(map(str, a.widths))}`; scale={scale}, ground truth "
                 f"of {len(cases)} held-out cases; measured in the default width's pixels; the truth moves about 0.17 px there")
        print(markdown_table(wd))
        files = save_result_table(w, f'region_width_{scale}', wd, stamp, folder=out)
        print(f"\n{stamp}\ntable: {files[0]} (.md, .tex)\n")
    rows = [x for c, t, r in cases for x in case_rows('ground truth', truths[c], t, truths[c], flows[c], data.size)]
    runs = trained_generators(a.scale, dev, seeds=(a.seed,), generators=gens)   # the reproduction's runs where they exist
    for (model, prior, seed), run in runs.items():
        net = load_generator(run, dev)[0]
        name = generator_name(model, prior)
        for c, t, r in cases:
            rows += case_rows(name, generate(net, t, drivers[r.clip_id]), t, truths[c], flows[c], data.size)
    s = summarise(rows)
    stamp = (f"`python benchmarks/region_transfer.py --generators {' '.join(a.generators)} --seed {a.seed}`; scale={scale}, "
             f"device={dev.type}, generator seed {a.seed}, {len(cases)} held-out cases, data={data.source}; region pixels: "
             f"closeness ≥ {CORE}; elsewhere: other regions' pixels where the kept region's closeness < {AWAY}; cases "
             f"where the truth moves the region ≥ {MOVES} px")
    print(markdown_table(display(s)))
    files = save_result_table(s, f'region_transfer_{scale}', display(s), stamp, folder=out)
    print(f"\n{stamp}\ntable: {files[0]} (.md, .tex)")


if __name__ == '__main__':
    main()
