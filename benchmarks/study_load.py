"""Benchmark: the study server under the paper's public evaluation load, on loopback.

31 participants (threads, one HTTP session each) vote concurrently through all 72 pairs (the paper's four comparison
sets x 18 samples) of a toy study served by `fpme study serve` in a child process. Every participant asks for its
next pair, then votes on it; each request is timed. At the end every acknowledged vote must be stored exactly once
(checked against the database) and the export must give Tables IV-V. Prints requests/s and latency percentiles and
writes benchmarks/results/study_load.{csv,md} (under runs/test/ when run by the tests).

    python benchmarks/study_load.py                                   # 31 participants x 72 pairs
    python benchmarks/study_load.py --participants 3 --samples 2      # the tiny setting the tests run
"""
import argparse, os, platform, random, sqlite3, statistics, sys, tempfile, threading, time
from pathlib import Path
import pandas as pd
import requests

from fpme.core import in_test, project_path, runs_dir, markdown_table
from fpme.stats import PAPER_SETS, PAPER_PARTICIPANTS, PAPER_SAMPLES, read_votes, comparison_table
from fpme.study import toy_protocol_run, create_study, invite, spawn_server, export_study, STUDY_DB

TIME_LIMIT_S = 300.0  # the whole run must finish within this (a stuck server fails the benchmark, not hangs it)
REQUEST_TIMEOUT_S = 30.0  # one request


def participant(base, token, seed, deadline, timings, acked, errors):
    "One participant: next pair, vote, until done; (seconds, kind) of each request into `timings`."
    rng = random.Random(seed)
    with requests.Session() as s:
        while time.monotonic() < deadline:
            t = time.perf_counter()
            state = s.get(f'{base}/api/p/{token}', timeout=REQUEST_TIMEOUT_S)
            timings.append((time.perf_counter() - t, 'state'))
            if state.status_code != 200:
                errors.append(f'state {state.status_code}: {state.text[:200]}')
                return
            if state.json()['done']:
                return
            pair, choice = state.json()['pair'], rng.choice(('left', 'right'))
            t = time.perf_counter()
            r = s.post(f'{base}/api/p/{token}/vote', json={'pair': pair, 'choice': choice}, timeout=REQUEST_TIMEOUT_S)
            timings.append((time.perf_counter() - t, 'vote'))
            if r.status_code != 200:
                errors.append(f'vote {r.status_code}: {r.text[:200]}')
                return
            acked.append((token, pair, choice))
    errors.append(f'{token[:6]}...: not done within {TIME_LIMIT_S:g} s')


def check_stored(study, acked, n_participants, n_pairs):
    "Every acknowledged vote stored exactly once, nothing else stored: the number of stored votes."
    con = sqlite3.connect(Path(study)/STUDY_DB)
    stored = con.execute('SELECT token, pair, choice FROM votes').fetchall()
    con.close()
    assert len(stored) == len(set(stored)) == len(acked) == len(set(acked)), 'a vote was stored twice or lost'
    assert set(stored) == set(acked), 'the stored votes differ from the acknowledged ones'
    assert len(stored) == n_participants * n_pairs, f'{len(stored)} votes stored, expected {n_participants * n_pairs}'
    return len(stored)


def run(participants, samples, workdir):
    "Create, serve and load one toy study; the figures and Tables IV-V of the export."
    background = os.getloadavg()[0]  # what else the machine runs (a shared 2-core box skews the latencies)
    study = create_study(toy_protocol_run(Path(workdir)/'run', samples=samples), PAPER_SETS, Path(workdir)/'study')
    people = invite(study, count=participants)
    n_pairs = len(PAPER_SETS) * samples
    proc, base = spawn_server(study)
    timings, acked, errors = [], [], []
    try:
        deadline = time.monotonic() + TIME_LIMIT_S
        threads = [threading.Thread(target=participant, args=(base, p['token'], i, deadline, timings, acked, errors))
                   for i, p in enumerate(people)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if errors:
        sys.exit(f'load test failed: {len(errors)} error(s), first: {errors[0]}')
    stored = check_stored(study, acked, participants, n_pairs)
    tables = comparison_table(read_votes(export_study(study)['votes']), PAPER_SETS)
    return figures(timings, wall, participants, n_pairs, stored, background), tables


def figures(timings, wall, participants, n_pairs, stored, background):
    "One row of results: sizes, requests/s, latency percentiles (ms)."
    ms = sorted(1000 * t for t, _ in timings)
    votes_ms = sorted(1000 * t for t, k in timings if k == 'vote')
    q = lambda xs, p: xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
    return dict(machine=f'{platform.machine()} {os.cpu_count()} CPU(s)', load_before=round(background, 1),
                participants=participants, pairs=n_pairs, requests=len(ms), votes_stored=stored,
                seconds=round(wall, 2), **{'requests/s': round(len(ms) / wall, 1)},
                p50_ms=round(statistics.median(ms), 1), p95_ms=round(q(ms, 0.95), 1),
                vote_p95_ms=round(q(votes_ms, 0.95), 1), max_ms=round(ms[-1], 1))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--participants', type=int, default=PAPER_PARTICIPANTS, help='concurrent participants (31)')
    p.add_argument('--samples', type=int, default=PAPER_SAMPLES, help='samples per comparison (18: 72 pairs)')
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        row, tables = run(args.participants, args.samples, tmp)
    df = pd.DataFrame([row])
    print('study server load on loopback (one child process, waitress, SQLite WAL):')
    print(df.to_string(index=False))
    print('\nTables IV-V of the exported (random) votes:')
    print(tables[['comparison', 'preferred_a', 'preferred_b', 'voting_rate', 'z']].to_string(index=False))
    out = runs_dir('test', 'benchmarks') if in_test() else project_path('benchmarks', 'results')
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out/'study_load.csv', index=False)
    (out/'study_load.md').write_text(markdown_table(df))
    print(f'\nwrote {out/"study_load.csv"} and {out/"study_load.md"}')


if __name__ == '__main__':
    main()
