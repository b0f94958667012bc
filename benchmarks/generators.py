"""Benchmark: training steps/s and animation frames/s of fpme's generators.

Prints, for FOMM and MRAA with the AWP prior at 64/128/256 px, one training step (generator forward and
backward with the perceptual and equivariance losses, Adam) and animation throughput (frames/s of
`fpme.animate.animate`), with the `smoke` widths and with FOMM's reference (vox-256, `full`) widths.

    python benchmarks/generators.py                  # all sizes, CPU (or CUDA when present)
    python benchmarks/generators.py --sizes 64 --scales smoke --device cpu --threads 2

Timings are medians over `--repeats` after one warm-up; the full widths at 256 px take about a minute
per step on a 2-core CPU, so they run once there.
"""
import argparse, statistics, time
import torch

from fpme.core import get_device, seed_everything
from fpme.train import make_config, GeneratorLoss
from fpme.models import build_model
from fpme.losses import Perceptual, PERCEPTUAL_SCALES
from fpme.animate import animate


FULL_MIN_SIZE = 128  # the full scale's 5-level hourglasses at scale 0.25 need at least 2**5 / 0.25 px


def _sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()


def time_it(fn, repeats, device):
    "Median seconds of `fn()` over `repeats` runs after one warm-up."
    fn(); _sync(device); times = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); _sync(device); times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench(model_name, scale, size, batch, repeats, device):
    "(training steps/s, animation frames/s) of one configuration."
    seed_everything(0)
    cfg = make_config(model_name, 'awp', scale, size=size, batch_size=batch)
    model = build_model(cfg).to(device)
    loss = GeneratorLoss(model, Perceptual(**PERCEPTUAL_SCALES[scale]).to(device), True)
    opt = torch.optim.Adam(model.parameters(), cfg.lr, betas=cfg.betas)
    frames = torch.rand(batch, 3, size, size, device=device)
    kp = torch.rand(batch, 18, 2, device=device) * 1.6 - 0.8
    batch_d = dict(source=frames, driving=frames.flip(0), kp_source=kp, kp_driving=kp.flip(0))

    def step():
        opt.zero_grad(set_to_none=True); total, _ = loss(batch_d); total.backward(); opt.step()
    train_s = time_it(step, repeats, device)
    model.eval(); clip = torch.rand(8, 3, size, size, device=device); kps = torch.rand(8, 18, 2, device=device) * 1.6 - 0.8
    anim_s = time_it(lambda: animate(model, clip[0], clip, kps[0], kps), repeats, device)
    return 1 / train_s, len(clip) / anim_s


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--sizes', type=int, nargs='+', default=[64, 128, 256])
    p.add_argument('--scales', nargs='+', default=['smoke', 'full'], help="'smoke' widths and FOMM's reference 'full' widths")
    p.add_argument('--models', nargs='+', default=['fomm', 'mraa'])
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--device', default='auto')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch\'s)')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    device = get_device(a.device)
    print(f"device={device} threads={torch.get_num_threads()} batch={a.batch} prior=awp")
    print(f"{'model':6s} {'widths':6s} {'px':>4s} {'train steps/s':>14s} {'animate frames/s':>17s}")
    for m in a.models:
        for scale in a.scales:
            for size in a.sizes:
                if scale == 'full' and size < FULL_MIN_SIZE:
                    print(f"{m:6s} {scale:6s} {size:4d} {'-':>14s} {'-':>17s}  (the full hourglasses need >= {FULL_MIN_SIZE} px)"); continue
                slow = device.type == 'cpu' and scale == 'full' and size >= 128
                steps, fps = bench(m, scale, size, a.batch, 1 if slow else a.repeats, device)
                print(f"{m:6s} {scale:6s} {size:4d} {steps:14.3f} {fps:17.2f}", flush=True)


if __name__ == '__main__':
    main()
