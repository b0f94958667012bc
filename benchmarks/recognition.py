"""Benchmark: training steps/s and clips/s of fpme's three recognition backbones (R3D-18, MC3-18, R(2+1)D-18).

Prints, for each backbone at the `smoke` and `full` scales of `fpme.recognition.RECOGNITION_SCALES`, one
training step (forward, cross-entropy, backward, Adam) on random clips of the scale's batch, size and length,
and inference throughput (clips/s at `predict`'s batch of 64). Table VII's augmented runs draw a real
and a generated batch per step, so their steps cost about twice a real-only step.

    python benchmarks/recognition.py                            # both scales, CPU (or CUDA when present)
    python benchmarks/recognition.py --scales smoke --device cpu --threads 1

Timings are medians over `--repeats` after one warm-up. A full-scale step is timed once; when that single
step takes longer than `--max-seconds` the remaining full measurements of that backbone are skipped with a note.
"""
import argparse, statistics, time
import torch
import torch.nn.functional as F

from fpme.core import get_device, seed_everything
from fpme.datasets import EMOTION3
from fpme.recognition import BACKBONES, RECOGNITION_SCALES, VideoResNet, recognition_config

EVAL_BATCH = 64  # clips per inference batch (`fpme.recognition.predict`'s default)


def _sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()


def timed(fn, device):
    "Seconds of one call."
    _sync(device); t = time.perf_counter(); fn(); _sync(device)
    return time.perf_counter() - t


def bench(arch, scale, repeats, max_seconds, device):
    "(train steps/s, train clips/s, inference clips/s, note) of one backbone at one scale."
    seed_everything(0)
    cfg = recognition_config(scale, arch)
    model = VideoResNet(arch, len(EMOTION3), cfg.width).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    x = torch.rand(cfg.batch_size, 3, cfg.frames, cfg.size, cfg.size, device=device)  # (B, 3, T, H, W)
    y = torch.randint(0, len(EMOTION3), (cfg.batch_size,), device=device)
    xe = torch.rand(EVAL_BATCH, 3, cfg.frames, cfg.size, cfg.size, device=device)

    def step():
        model.train(); loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()

    def infer():
        model.eval()
        with torch.no_grad(): model(xe)

    first = timed(step, device)  # the warm-up (and, at full scale, possibly the only measurement)
    if scale == 'full' and first > max_seconds:
        return 1 / first, cfg.batch_size / first, float('nan'), f"one step took {first:.0f} s > {max_seconds:g} s: timed once, inference skipped"
    n = 1 if scale == 'full' and device.type == 'cpu' else repeats
    t_step = statistics.median(timed(step, device) for _ in range(n))
    timed(infer, device)
    t_inf = statistics.median(timed(infer, device) for _ in range(n))
    return 1 / t_step, cfg.batch_size / t_step, EVAL_BATCH / t_inf, ''


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--scales', nargs='+', default=list(RECOGNITION_SCALES), choices=list(RECOGNITION_SCALES))
    p.add_argument('--archs', nargs='+', default=list(BACKBONES), choices=list(BACKBONES))
    p.add_argument('--device', default='auto')
    p.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: leave as is)')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--max-seconds', type=float, default=60.0, help='full scale: skip the rest when one step exceeds this')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    device = get_device(a.device)
    print(f"device {device}, {torch.get_num_threads()} CPU thread(s)")
    print(f"{'backbone':<12}{'scale':<8}{'input (B×T×H×W, width)':<28}{'steps/s':>9}{'train clips/s':>15}{'infer clips/s':>15}  note")
    for scale in a.scales:
        cfg = RECOGNITION_SCALES[scale]
        shape = f"{cfg.batch_size}×{cfg.frames}×{cfg.size}×{cfg.size}, {cfg.width:g}"
        for arch in a.archs:
            sps, cps, ips, note = bench(arch, scale, a.repeats, a.max_seconds, device)
            print(f"{arch:<12}{scale:<8}{shape:<28}{sps:>9.2f}{cps:>15.1f}{ips:>15.1f}  {note}", flush=True)


if __name__ == '__main__':
    main()
