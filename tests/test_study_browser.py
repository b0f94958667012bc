"""The study's pages in a real headless browser (Debian's chromium and chromedriver, driven by Selenium): a
participant votes, leaves, comes back and finishes; an expert fills and submits a sheet; the admin invites and
revokes; the export then gives Tables IV-V (and III) of exactly those answers. `.ci/install_browser` installs
what these tests need; without chromium they are skipped."""
import shutil
from pathlib import Path
import pandas as pd
import pytest
import requests

from fpme.stats import PAPER_SETS, read_votes, read_expert_sheet, comparison_table, expert_table, check_votes
from fpme.study import (toy_protocol_run, create_study, invite, spawn_server, export_study, admin_token, connect,
                        TOY_GENERATORS, KEY_FILE)

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
CHROMEDRIVER = shutil.which('chromedriver')
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:
    webdriver = None
MISSING = [what for what, ok in (('chromium', CHROMIUM), ('chromedriver', CHROMEDRIVER), ('selenium', webdriver))
           if not ok]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"no {', '.join(MISSING)} here: run .ci/install_browser")

SAMPLES = 2  # 8 pairs, 10 videos
WAIT_S = 30  # the longest a page may take to reach a state
LEAVE_AFTER = 3  # votes before the participant leaves and comes back


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('browser')
    study = create_study(toy_protocol_run(tmp/'run', samples=SAMPLES), PAPER_SETS, tmp/'study')
    proc, base = spawn_server(study)
    yield study, base
    proc.terminate()
    proc.wait()


@pytest.fixture(scope='module')
def browser():
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1100,900'):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def body(driver, key):
    return driver.execute_script(f'return document.body.dataset.{key} || null')


def wait_for(driver, state, key=None, changed_from=None):
    "Wait until the page reports `state` (and, with `key`, a new value of that data attribute)."
    WebDriverWait(driver, WAIT_S).until(lambda d: body(d, 'state') == state
                                        and (key is None or body(d, key) != changed_from))


def generators(study):
    return pd.read_csv(Path(study)/KEY_FILE).set_index('id').generator.to_dict()


def pair_info(study, pair):
    "(comparison, sample, model a) of a pair."
    con = connect(study)
    try:
        return tuple(con.execute('SELECT p.comparison, p.sample, v.generator FROM pairs p JOIN videos v ON v.id = p.a '
                                 'WHERE p.id=?', (pair,)).fetchone())
    finally:
        con.close()


def next_pair(study, token):
    "The first unanswered pair of a participant's stored order."
    con = connect(study)
    try:
        return con.execute('SELECT item FROM slots WHERE token=? AND item NOT IN (SELECT pair FROM votes WHERE token=?) '
                           'ORDER BY position LIMIT 1', (token, token)).fetchone()[0]
    finally:
        con.close()


def policy(name, comparison, sample, a, left):
    "The scripted participants: P01 always picks model a, P02 model a on the first sample only, P03 model b."
    want_a = name == 'P01' or (name == 'P02' and sample.endswith('00000'))
    return 'left' if (left == a) == want_a else 'right'


def canvas_sum(driver, cid):
    return driver.execute_script(
        f"const c = document.getElementById('{cid}'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height)"
        ".data; let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s;")


def browser_vote(driver, study, person, rows, by_key=False):
    "Vote on the pair the page shows, by the script (a click, or an arrow key); append the expected row."
    pair = body(driver, 'pair')
    k = generators(study)
    left, right = (k[Path(driver.find_element(By.ID, f'{side}-video').get_attribute('data-src')).stem]
                   for side in ('left', 'right'))
    comparison, sample, a = pair_info(study, pair)
    choice = policy(person['name'], comparison, sample, a, left)
    if by_key:
        driver.find_element(By.TAG_NAME, 'body').send_keys(Keys.ARROW_LEFT if choice == 'left' else Keys.ARROW_RIGHT)
    else:
        driver.find_element(By.ID, f'choose-{choice}').click()
    rows.append((person['name'], comparison, sample, left, right, choice))
    WebDriverWait(driver, WAIT_S).until(lambda d: body(d, 'state') == 'done'
                                        or (body(d, 'state') == 'ready' and body(d, 'pair') != pair))


def http_votes(study, base, person, rows):
    "A participant voting by the script through the JSON API (the other two of the panel)."
    k = generators(study)
    with requests.Session() as s:
        while not (st := s.get(f"{base}/api/p/{person['token']}").json())['done']:
            left, right = (k[Path(st[side]['url']).stem] for side in ('left', 'right'))
            comparison, sample, a = pair_info(study, st['pair'])
            choice = policy(person['name'], comparison, sample, a, left)
            assert s.post(f"{base}/api/p/{person['token']}/vote",
                          json={'pair': st['pair'], 'choice': choice}).status_code == 200
            rows.append((person['name'], comparison, sample, left, right, choice))


def test_participant_votes_leaves_resumes_and_the_export_gives_tables_iv_v(served, browser, tmp_path):
    study, base = served
    p1, p2, p3 = invite(study, count=3)
    rows = []
    browser.get(f"{base}/p/{p1['token']}")
    wait_for(browser, 'ready')
    assert not any(g in browser.page_source for g in TOY_GENERATORS)  # blinded
    assert canvas_sum(browser, 'left-video') > 0 and canvas_sum(browser, 'right-video') > 0  # videos drawn
    first = canvas_sum(browser, 'left-video')
    WebDriverWait(browser, WAIT_S).until(lambda d: canvas_sum(d, 'left-video') != first)  # the video plays
    for _ in range(LEAVE_AFTER):
        browser_vote(browser, study, p1, rows)
    assert browser.find_element(By.ID, 'count').text == f'Pair {LEAVE_AFTER + 1} of {len(PAPER_SETS) * SAMPLES}'
    shown = (body(browser, 'pair'), browser.find_element(By.ID, 'left-video').get_attribute('data-src'))
    browser.get('about:blank')  # leaves ...
    browser.get(f"{base}/p/{p1['token']}")  # ... and comes back: same pair, same sides
    wait_for(browser, 'ready')
    assert (body(browser, 'pair'), browser.find_element(By.ID, 'left-video').get_attribute('data-src')) == shown
    assert shown[0] == next_pair(study, p1['token'])
    browser_vote(browser, study, p1, rows, by_key=True)  # the keyboard votes too
    while body(browser, 'state') != 'done':
        browser_vote(browser, study, p1, rows)
    assert browser.find_element(By.ID, 'done').is_displayed()
    browser.save_screenshot(str(tmp_path/'participant_done.png'))
    http_votes(study, base, p2, rows)
    http_votes(study, base, p3, rows)
    expected = check_votes(pd.DataFrame(rows, columns=['participant', 'pair_id', 'sample', 'left', 'right', 'choice']))
    votes = read_votes(export_study(study)['votes'])
    assert len(votes) == 3 * len(PAPER_SETS) * SAMPLES
    got = comparison_table(votes, PAPER_SETS)
    pd.testing.assert_frame_equal(got, comparison_table(expected, PAPER_SETS))
    assert got.preferred_a.tolist() == [1] * len(PAPER_SETS)  # P01 + P02 outvote P03 on the first sample only


GRADES = {g: i % 4 for i, g in enumerate(TOY_GENERATORS)}  # the scripted expert's upper and lower grade per model


def test_expert_fills_edits_and_submits_a_sheet(served, browser):
    study, base = served
    expert = invite(study, 'expert', names=['E1'])[0]
    k = generators(study)
    browser.get(f"{base}/e/{expert['token']}")
    wait_for(browser, 'ready')
    assert not any(g in browser.page_source for g in TOY_GENERATORS)
    assert 'completely incorrect' in browser.find_element(By.ID, 'categories').text
    for i in range(len(TOY_GENERATORS) * SAMPLES):
        video = body(browser, 'video')
        g = GRADES[k[video]]
        for field, grade in (('upper', g), ('lower', 0), ('noise', 3)):
            browser.find_element(By.ID, f'{field}-{grade}').click()
        browser.find_element(By.ID, 'save').click()
        WebDriverWait(browser, WAIT_S).until(lambda d: 'Saved video' in d.find_element(By.ID, 'status').text
                                             and body(d, 'state') == 'ready')
    browser.find_element(By.CSS_SELECTOR, '#chips .chip').click()  # back to video 1: still editable
    WebDriverWait(browser, WAIT_S).until(lambda d: 'Video 1 of' in d.find_element(By.ID, 'caption').text)
    first = body(browser, 'video')
    browser.find_element(By.ID, 'lower-1').click()
    browser.find_element(By.ID, 'save').click()
    WebDriverWait(browser, WAIT_S).until(lambda d: 'Saved video 1' in d.find_element(By.ID, 'status').text)
    browser.find_element(By.ID, 'confirm').click()
    browser.find_element(By.ID, 'submit').click()
    wait_for(browser, 'submitted')
    assert not browser.find_element(By.ID, 'save').is_enabled()
    sheet = read_expert_sheet(export_study(study)['experts'])
    assert len(sheet) == len(TOY_GENERATORS) * SAMPLES
    t3 = expert_table(sheet, 'rubric').set_index('generator')
    for g, grade in GRADES.items():
        edited = int(k[first] == g)  # the edit added one grade to that model
        assert t3.loc[g, 'overall'] == SAMPLES * (grade + 3) + edited


def test_admin_invites_follows_and_revokes(served, browser):
    study, base = served
    browser.get(f"{base}/admin/{admin_token(study)}")
    wait_for(browser, 'ready')
    assert '8 pairs in 4 comparisons' in browser.find_element(By.ID, 'summary').text
    browser.find_element(By.ID, 'names').send_keys('Q77')
    browser.find_element(By.CSS_SELECTOR, '#invite button').click()
    WebDriverWait(browser, WAIT_S).until(lambda d: 'Q77' in d.find_element(By.ID, 'people').text)
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, '#people tbody tr') if 'Q77' in r.text)
    link = row.find_element(By.CSS_SELECTOR, 'input.link').get_attribute('value')
    assert requests.get(link.replace('/p/', '/api/p/')).status_code == 200
    row.find_element(By.CSS_SELECTOR, 'button.danger').click()
    row.find_element(By.CSS_SELECTOR, 'button.danger').click()  # confirm
    WebDriverWait(browser, WAIT_S).until(lambda d: 'Revoked Q77' in d.find_element(By.ID, 'status').text)
    assert requests.get(link.replace('/p/', '/api/p/')).status_code == 403
    assert requests.get(f'{base}/admin/not-the-token').status_code == 403
