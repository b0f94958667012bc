"""Screenshots of the study's participant, expert and admin pages for the README, taken in headless chromium.

Builds a study from a protocol run (runs/smoke/ when its protocol videos exist, else a toy run), invites the paper's
panel (31 participants, 3 experts), lets some of them answer through the JSON API so the pages show progress, and
saves figures/study_participant.png, figures/study_expert.png and figures/study_admin.png (under runs/test/ when
run by the tests). Needs chromium, chromedriver and selenium (.ci/install_browser).

    python benchmarks/study_screenshots.py                     # from runs/smoke if present
    python benchmarks/study_screenshots.py --from runs/full    # any protocol run
    python benchmarks/study_screenshots.py --toy               # the toy run (no trained generators needed)
    python benchmarks/study_screenshots.py --toy --samples 2   # the tiny setting the tests run
"""
import argparse, shutil, sys, tempfile, time
from pathlib import Path
import requests

from fpme.core import figures_dir, project_path
from fpme.stats import PAPER_SETS, PAPER_PARTICIPANTS, PAPER_SAMPLES
from fpme.study import toy_protocol_run, create_study, invite, spawn_server, admin_token, PROTOCOL_TABLE

EXPERTS = 3  # MEGC2021's panel
WINDOW = (1200, 980)  # browser window in px
PLAY_S = 0.6  # let the videos run a moment before the picture
WAIT_S = 30


def answer(base, people, votes_of, grades_of):
    "Let some invitations answer through the API: votes_of[name] votes, grades_of[name] graded videos."
    with requests.Session() as s:
        for p in people:
            for _ in range(votes_of.get(p['name'], 0)):
                st = s.get(f"{base}/api/p/{p['token']}").json()
                if st['done']:
                    break
                s.post(f"{base}/api/p/{p['token']}/vote", json={'pair': st['pair'], 'choice': 'left'})
            if p['name'] in grades_of:
                sheet = s.get(f"{base}/api/e/{p['token']}").json()
                for v in sheet['videos'][:grades_of[p['name']]]:
                    s.post(f"{base}/api/e/{p['token']}/grades", json=dict(video=v['video'], upper=2, lower=1, noise=3))
                s.post(f"{base}/api/e/{p['token']}/submit", json={})  # refused (409) while videos are ungraded


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    opts = Options()
    opts.binary_location = shutil.which('chromium') or shutil.which('chromium-browser')
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars',
                f'--window-size={WINDOW[0]},{WINDOW[1]}'):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(shutil.which('chromedriver')), options=opts)


def shoot(driver, url, out, ready='ready', before=None):
    "Open `url`, wait for the page's state, optionally act, and save a screenshot; its size in px."
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(url)
    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script('return document.body.dataset.state') == ready)
    if before:
        before(driver)
    time.sleep(PLAY_S)
    driver.save_screenshot(str(out))
    return driver.get_window_size()


def pick_grades(driver):
    "Choose grades on the expert page (not saved) so the picture shows a sheet being filled."
    from selenium.webdriver.common.by import By
    for field, grade in (('upper', 2), ('lower', 1), ('noise', 3)):
        driver.find_element(By.ID, f'{field}-{grade}').click()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--from', dest='run', default=str(project_path('runs', 'smoke')), help='protocol run')
    p.add_argument('--toy', action='store_true', help='use a toy run instead')
    p.add_argument('--samples', type=int, default=PAPER_SAMPLES, help='samples per comparison of the toy run (18)')
    args = p.parse_args(argv)
    missing = [x for x in ('chromium', 'chromedriver') if not (shutil.which(x) or shutil.which(f'{x}-browser'))]
    if missing:
        sys.exit(f"no {', '.join(missing)} here: run .ci/install_browser first")
    out = figures_dir()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.run)
        if args.toy or not (run/PROTOCOL_TABLE).is_file():
            print(f'no protocol videos under {run}: using a toy run')
            run = toy_protocol_run(Path(tmp)/'run', samples=args.samples, frames=12, size=64)
        study = create_study(run, PAPER_SETS, Path(tmp)/'study')
        pairs = len(PAPER_SETS) * (args.samples if run.parent == Path(tmp) else PAPER_SAMPLES)  # one participant's
        people = invite(study, count=PAPER_PARTICIPANTS) + invite(study, 'expert', EXPERTS)
        proc, base = spawn_server(study)
        driver = browser()
        try:
            token = {q['name']: q['token'] for q in people}
            videos = len(requests.get(f"{base}/api/e/{token['E2']}").json()['videos'])
            # some finished, some part-way; the participant and expert shown stop mid-study (finished pages differ)
            shown = min(27, pairs // 2)
            answer(base, people, {f'P{i:02d}': pairs - 7 * (i - 1) for i in range(1, 11)} | {'P12': shown},
                   {'E1': videos, 'E2': min(41, videos // 2)})
            shots = {'participant': shoot(driver, f"{base}/p/{token['P12']}", out/'study_participant.png'),
                     'expert': shoot(driver, f"{base}/e/{token['E2']}", out/'study_expert.png', before=pick_grades),
                     'admin': shoot(driver, f'{base}/admin/{admin_token(study)}', out/'study_admin.png')}
        finally:
            driver.quit()
            proc.terminate()
            proc.wait()
    print('screenshots (page, window px, file):')
    for page, size in shots.items():
        print(f"{page:<12} {size['width']}x{size['height']}  {out/f'study_{page}.png'}")


if __name__ == '__main__':
    main()
