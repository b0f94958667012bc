"""The human evaluation studio (fpme.study): every refused input stores nothing, blinding holds, the export gives
Tables III-V, a killed server loses no acknowledged answer, and the load benchmark runs at its tiniest."""
import os, signal, subprocess, sys, threading, time
from pathlib import Path
import pandas as pd
import pytest
import requests

from conftest import ROOT
from fpme.stats import PAPER_SETS, read_votes, read_expert_sheet, comparison_table, expert_table, check_votes
import fpme.study
from fpme.study import (toy_protocol_run, create_study, invite, study_app, connect, export_study, admin_token,
                        spawn_server, study_main, serve, TOY_GENERATORS, STUDY_DB, MEDIA_DIR, KEY_FILE, MAX_BODY)

SAMPLES = 2  # samples per comparison of the toy studies: 4 comparisons x 2 = 8 pairs, 5 models x 2 = 10 videos
PAIRS, VIDEOS = len(PAPER_SETS) * SAMPLES, len(TOY_GENERATORS) * SAMPLES


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    return toy_protocol_run(tmp_path_factory.mktemp('run'), samples=SAMPLES)


@pytest.fixture
def study(run, tmp_path):
    return create_study(run, PAPER_SETS, tmp_path/'study')


@pytest.fixture
def client(study):
    return study_app(study).test_client()


def counts(study):
    "Rows of the answer tables: what a refused request must leave unchanged."
    con = connect(study)
    try:
        return {t: con.execute(f'SELECT count(*) FROM {t}').fetchone()[0] for t in ('votes', 'grades', 'people')}
    finally:
        con.close()


def key(study):
    "Blinded video id -> generator."
    return pd.read_csv(Path(study)/KEY_FILE).set_index('id').generator.to_dict()


def pair_models(study, token, state):
    "(model left, model right, comparison's a) of the pair a participant's state shows."
    k = key(study)
    vid = lambda side: state[side]['url'].rsplit('/', 1)[1][:-len('.png')]
    con = connect(study)
    a = con.execute('SELECT v.generator FROM pairs p JOIN videos v ON v.id = p.a WHERE p.id=?',
                    (state['pair'],)).fetchone()[0]
    con.close()
    return k[vid('left')], k[vid('right')], a


# --- creating and blinding -------------------------------------------------------------------------------------

def test_create_writes_a_blinded_study(study):
    media = sorted((study/MEDIA_DIR).iterdir())
    assert len(media) == VIDEOS and all(len(p.stem) == 12 and p.suffix == '.png' for p in media)
    assert set(key(study).values()) == set(TOY_GENERATORS)
    assert not any(g.encode() in p.read_bytes() for p in media for g in TOY_GENERATORS)  # no model in the files
    assert not (study/f'{STUDY_DB}.partial').exists()


def test_create_refuses_unknown_models_and_an_existing_study(run, study, tmp_path):
    with pytest.raises(ValueError, match=r"no video of \['GAN'\]"):
        create_study(run, ['GAN vs FOMM'], tmp_path/'other')
    assert not (tmp_path/'other'/STUDY_DB).exists()
    with pytest.raises(FileExistsError, match='already lives here'):
        create_study(run, PAPER_SETS, study)


def test_participant_pages_name_no_model(study, client):
    token = invite(study)[0]['token']
    seen = client.get(f'/p/{token}').text + client.get(f'/api/p/{token}').text
    for asset in ('study.js', 'participant.js', 'study.css'):
        seen += client.get(f'/static/study/{asset}').text
    assert not any(g in seen for g in TOY_GENERATORS)


def test_order_and_sides_are_fixed_per_participant(study):
    token = invite(study)[0]['token']
    first = study_app(study).test_client().get(f'/api/p/{token}').get_json()
    again = study_app(study).test_client().get(f'/api/p/{token}').get_json()  # a new server process, same study
    assert first == again


# --- refused inputs: a 4xx with a message, and nothing stored ----------------------------------------------------

def refused(client, study, method, url, status, needle, **kw):
    before = counts(study)
    r = getattr(client, method)(url, **kw)
    assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:300])
    body = r.get_json(silent=True)
    text = body['error'] if body else r.get_data(as_text=True)
    assert needle in text, text
    assert counts(study) == before


def test_bad_votes_are_refused_and_store_nothing(study, client):
    p, q = invite(study, count=2)
    s = client.get(f"/api/p/{p['token']}").get_json()
    url = f"/api/p/{p['token']}/vote"
    refused(client, study, 'post', '/api/p/not-a-token/vote', 404, 'no invitation',
            json={'pair': s['pair'], 'choice': 'left'})
    refused(client, study, 'post', url, 404, 'not one of your pairs', json={'pair': 'A' * 12, 'choice': 'left'})
    refused(client, study, 'post', url, 404, 'not one of your pairs', json={'pair': ['x'], 'choice': 'left'})
    refused(client, study, 'post', url, 400, "answer 'left' or 'right'", json={'pair': s['pair'], 'choice': 'both'})
    refused(client, study, 'post', url, 400, 'JSON body', data='{"pair": "x", "choice": ', content_type='application/json')
    refused(client, study, 'post', url, 400, 'JSON body', data='pair=x&choice=left')
    refused(client, study, 'post', url, 400, 'JSON object', json=['left'])
    refused(client, study, 'post', url, 400, 'send exactly', json={'pair': s['pair'], 'choice': 'left', 'x': 1})
    refused(client, study, 'post', url, 400, 'send exactly', json={'choice': 'left'})
    refused(client, study, 'post', url, 413, 'Too Large', json={'pair': 'x' * MAX_BODY, 'choice': 'left'})
    refused(client, study, 'get', url, 405, 'Method Not Allowed')
    assert client.post(url, json={'pair': s['pair'], 'choice': 'left'}).status_code == 200
    refused(client, study, 'post', url, 409, 'already voted', json={'pair': s['pair'], 'choice': 'right'})
    expert = invite(study, 'expert')[0]['token']
    refused(client, study, 'post', f'/api/p/{expert}/vote', 404, 'no invitation',
            json={'pair': s['pair'], 'choice': 'left'})  # an expert's token is no participant's
    client.post('/api/admin/' + admin_token(study) + '/revoke', json={'token': q['token']})
    refused(client, study, 'post', f"/api/p/{q['token']}/vote", 403, 'withdrawn',
            json={'pair': s['pair'], 'choice': 'left'})
    refused(client, study, 'get', f"/p/{q['token']}", 403, 'withdrawn')
    refused(client, study, 'get', '/p/unknown', 404, 'no invitation')


def test_bad_grades_are_refused_and_store_nothing(study, client):
    token = invite(study, 'expert')[0]['token']
    sheet = client.get(f'/api/e/{token}').get_json()
    video = sheet['videos'][0]['video']
    url = f'/api/e/{token}/grades'
    ok = dict(video=video, upper=1, lower=2, noise=3)
    for field, value in [('upper', 4), ('lower', -1), ('noise', 1.5), ('upper', '2'), ('lower', True), ('noise', None)]:
        refused(client, study, 'post', url, 400, 'grade it 0 (completely incorrect)', json={**ok, field: value})
    refused(client, study, 'post', url, 404, 'not on your sheet', json={**ok, 'video': 'B' * 12})
    refused(client, study, 'post', url, 400, 'send exactly', json={'video': video, 'upper': 1})
    refused(client, study, 'post', f'/api/e/{token}/submit', 409, 'still ungraded', json={})
    assert client.post(url, json=ok).status_code == 200
    assert client.post(url, json={**ok, 'upper': 0}).get_json()['upper'] == 0  # editable before submission
    for v in sheet['videos'][1:]:
        assert client.post(url, json={**ok, 'video': v['video']}).status_code == 200
    assert client.post(f'/api/e/{token}/submit', json={}).status_code == 200
    refused(client, study, 'post', url, 409, 'submitted and is final', json=ok)
    refused(client, study, 'post', f'/api/e/{token}/submit', 409, 'submitted and is final', json={})


def test_media_by_blinded_id_only(study, client):
    token = invite(study)[0]['token']
    s = client.get(f'/api/p/{token}').get_json()
    assert client.get(s['left']['url']).mimetype == 'image/png'
    vid = s['left']['url'].rsplit('/', 1)[1]
    for url in (f'/media/{token}/..%2F{STUDY_DB}', f'/media/{token}/../{KEY_FILE}', f'/media/{token}/{KEY_FILE}',
                f'/media/{token}/%2e%2e%2fkey.png', f'/media/{token}/{"C" * 12}.png', f'/media/nobody/{vid}',
                f'/static/../{STUDY_DB}', f'/static/study/../../study.py', f'/{STUDY_DB}', f'/{KEY_FILE}',
                f"/media/{token}/{s['pair']}.png"):
        r = client.get(url)
        assert r.status_code == 404, (url, r.status_code)
        assert b'SQLite' not in r.data and b'generator' not in r.data


def test_admin_needs_the_admin_token(study, client):
    admin = admin_token(study)
    for method, url in [('get', '/admin/wrong'), ('get', '/api/admin/wrong'), ('get', '/api/admin/wrong/export/votes.csv'),
                        ('post', '/api/admin/wrong/invite'), ('post', '/api/admin/wrong/revoke')]:
        refused(client, study, method, url, 403, 'wrong admin link', json={'role': 'participant', 'count': 1})
    participant = invite(study)[0]['token']
    refused(client, study, 'get', f'/admin/{participant}', 403, 'wrong admin link')
    refused(client, study, 'post', f'/api/admin/{admin}/invite', 400, '"role"', json={'role': 'boss', 'count': 1})
    refused(client, study, 'post', f'/api/admin/{admin}/invite', 400, 'between 1 and 1000',
            json={'role': 'expert', 'count': 10 ** 6})
    refused(client, study, 'post', f'/api/admin/{admin}/invite', 409, 'already taken',
            json={'role': 'expert', 'names': ['P01']})
    refused(client, study, 'post', f'/api/admin/{admin}/revoke', 404, 'no invitation', json={'token': 'nope'})
    refused(client, study, 'get', f'/api/admin/{admin}/export/key.csv', 404, 'no export')
    assert client.get(f'/admin/{admin}').status_code == 200
    made = client.post(f'/api/admin/{admin}/invite', json={'role': 'expert', 'names': ['FACS1']}).get_json()
    assert made[0]['name'] == 'FACS1'
    people = client.get(f'/api/admin/{admin}').get_json()['people']
    assert {p['name'] for p in people} == {'P01', 'FACS1'}


def test_security_headers(study, client):
    token = invite(study)[0]['token']
    h = client.get(f'/p/{token}').headers
    assert h['Referrer-Policy'] == 'no-referrer' and "default-src 'self'" in h['Content-Security-Policy']
    assert h['Cache-Control'] == 'no-store'


def test_two_tabs_voting_at_once_store_one_vote(study):
    token = invite(study)[0]['token']
    app = study_app(study)
    pair = app.test_client().get(f'/api/p/{token}').get_json()['pair']
    codes = []
    def vote(choice):
        codes.append(app.test_client().post(f'/api/p/{token}/vote', json={'pair': pair, 'choice': choice}).status_code)
    threads = [threading.Thread(target=vote, args=(c,)) for c in ('left', 'right') * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] + [409] * 7
    assert counts(study)['votes'] == 1


# --- export: Tables III-V from the answers ------------------------------------------------------------------------

PREFERS = {'P01': 'a', 'P02': 'sample', 'P03': 'b'}  # which model each scripted participant picks


def scripted_choice(name, left, right, a, sample_index):
    "The side a scripted participant picks: model a, model b, or a on the first sample and b on the other."
    want_a = PREFERS[name] == 'a' or (PREFERS[name] == 'sample' and sample_index == 0)
    return 'left' if (left == a) == want_a else 'right'


def vote_all(client, study, person):
    "Vote through a participant's pairs by the script; the expected vote rows."
    rows = []
    order = sorted({f'toy|synth/{k:05d}' for k in range(SAMPLES)})  # toy_protocol_run's cases
    while not (s := client.get(f"/api/p/{person['token']}").get_json())['done']:
        left, right, a = pair_models(study, person['token'], s)
        con = connect(study)
        comparison, sample = con.execute('SELECT comparison, sample FROM pairs WHERE id=?', (s['pair'],)).fetchone()
        con.close()
        choice = scripted_choice(person['name'], left, right, a, order.index(sample))
        assert client.post(f"/api/p/{person['token']}/vote", json={'pair': s['pair'], 'choice': choice}).status_code == 200
        rows.append((person['name'], comparison, sample, left, right, choice))
    return rows


def test_export_gives_tables_iv_v_and_iii(study, client):
    people = invite(study, count=3)
    expected = check_votes(pd.DataFrame([r for p in people for r in vote_all(client, study, p)],
                                        columns=['participant', 'pair_id', 'sample', 'left', 'right', 'choice']))
    late = invite(study)[0]  # an incomplete participant: left out of the export
    s = client.get(f"/api/p/{late['token']}").get_json()
    client.post(f"/api/p/{late['token']}/vote", json={'pair': s['pair'], 'choice': 'left'})
    expert = invite(study, 'expert', names=['E1'])[0]
    grade = {g: i % 4 for i, g in enumerate(TOY_GENERATORS)}
    k = key(study)
    for v in client.get(f"/api/e/{expert['token']}").get_json()['videos']:
        g = grade[k[v['video']]]
        client.post(f"/api/e/{expert['token']}/grades", json=dict(video=v['video'], upper=g, lower=g, noise=3))
    files = export_study(study)
    assert len(read_expert_sheet(files['experts'])) == 0  # not submitted yet: not exported
    client.post(f"/api/e/{expert['token']}/submit", json={})
    files = export_study(study)
    votes = read_votes(files['votes'])
    assert set(votes.participant) == set(PREFERS)
    got = comparison_table(votes, PAPER_SETS)
    pd.testing.assert_frame_equal(got, comparison_table(expected, PAPER_SETS))
    assert got.preferred_a.tolist() == [1] * 4 and got.voting_rate.tolist() == pytest.approx([0.5] * 4)
    sheet = read_expert_sheet(files['experts'])
    assert len(sheet) == VIDEOS and set(sheet.generator) == set(TOY_GENERATORS)
    t3 = expert_table(sheet, 'rubric').set_index('generator')
    for g, score in grade.items():
        assert t3.loc[g, 'overall'] == SAMPLES * (2 * score + 3)
    admin_csv = client.get(f'/api/admin/{admin_token(study)}/export/votes.csv').get_data(as_text=True)
    assert admin_csv == files['votes'].read_text()


def test_cli_create_invite_export(run, tmp_path, capsys):
    out = tmp_path/'cli'
    assert study_main(['study', 'create', '--from', str(run), '--out', str(out), '--comparisons', 'FOMM+AWP vs FOMM',
                       'MRAA+AWP vs MRAA', '--participants', '2', '--experts', '1']) == 0
    text = capsys.readouterr().out
    assert f'{2 * SAMPLES} pairs' in text and text.count('/p/') == 2 and text.count('/e/') == 1 and '/admin/' in text
    assert study_main(['study', 'invite', str(out), '--names', 'alice', 'bob']) == 0
    assert 'alice' in capsys.readouterr().out
    assert study_main(['study', 'export', str(out)]) == 0
    assert (out/'export'/'votes.csv').is_file()
    assert study_main(['study', 'create', '--from', str(tmp_path/'none'), '--out', str(tmp_path/'x')]) == 1
    assert 'error:' in capsys.readouterr().err
    assert study_main(['study', 'invite', str(out), '--names', '../x']) == 1


def test_study_without_an_action_prints_help(capsys):
    assert study_main(['study']) == 2
    assert 'create' in capsys.readouterr().out


class _Idle:
    "A stand-in for waitress' server: bound to nothing, `run` returns at once."
    effective_port = '8765'
    def run(self):
        pass
    def close(self):
        pass


def test_serving_beyond_loopback_warns(study, monkeypatch, capsys):
    monkeypatch.setattr(fpme.study, 'make_server', lambda *a, **k: _Idle())
    serve(study, 8765, '127.0.0.1')
    assert 'warning' not in capsys.readouterr().err
    serve(study, 8765, '0.0.0.0')
    out = capsys.readouterr()
    assert 'warning: serving on 0.0.0.0' in out.err and '/admin/' in out.out


# --- a real server: killed mid-study, and the load benchmark -------------------------------------------------------

def test_killed_server_loses_no_acknowledged_vote(study):
    person = invite(study)[0]
    proc, base = spawn_server(study)
    acked, stop = [], threading.Event()
    def voter():
        with requests.Session() as s:
            while not stop.is_set():
                try:
                    state = s.get(f"{base}/api/p/{person['token']}", timeout=5).json()
                    if state['done']:
                        return
                    r = s.post(f"{base}/api/p/{person['token']}/vote", json={'pair': state['pair'], 'choice': 'left'},
                               timeout=5)
                except requests.RequestException:
                    return  # the server died under us: this vote was never acknowledged
                if r.status_code == 200:
                    acked.append(state['pair'])
    t = threading.Thread(target=voter)
    t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # at an arbitrary moment of the voting
    proc.wait()
    stop.set()
    t.join()
    assert acked, 'no vote went through before the kill'
    proc, base = spawn_server(study)  # restart on the same study
    try:
        state = requests.get(f"{base}/api/p/{person['token']}", timeout=10).json()
        con = connect(study)
        stored = {r[0] for r in con.execute('SELECT pair FROM votes WHERE token=?', (person['token'],))}
        con.close()
        assert set(acked) <= stored and len(stored) - len(acked) <= 1  # at most the vote in flight at the kill
        assert state['answered'] == len(stored)
        assert state['done'] or state['pair'] not in stored  # resumes at the next unanswered pair
    finally:
        proc.terminate()
        proc.wait()


def test_load_benchmark_tiny():
    r = subprocess.run([sys.executable, str(ROOT/'benchmarks'/'study_load.py'), '--participants', '3', '--samples', '2'],
                       capture_output=True, text=True, cwd=ROOT, env={**os.environ, 'IN_TEST': '1'}, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:] + r.stdout[-2000:]
    assert 'requests/s' in r.stdout and 'p95_ms' in r.stdout
