"""Line discipline of the exported code: one statement a line, lines of at most 120 characters.

    python .ci/lines.py            # report the lines of fpme/*.py that break the rules, and fail if any does
    python .ci/lines.py --fix      # rewrite the exported cells of nbs/api/*.ipynb that break them (then nbdev_export)

`--fix` only makes changes that leave the cell's syntax tree identical (checked with `ast.dump`), so the code does
the same thing after it: statements chained with `;` go on lines of their own (a compound statement's one-line body
moves under its header), and a statement that spans more than the limit is re-wrapped inside its brackets. Lines it
cannot shorten safely (a long string, a long comment) are reported for a person to rewrite."""
import argparse, ast, io, json, re, sys, tokenize
from pathlib import Path

LIMIT = 120  # characters a line may hold
ROOT = Path(__file__).resolve().parents[1]
HEADERS = ('if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally', 'def', 'class', 'async')
EXPORT = re.compile(r'^#\|\s*export', re.M)
INDENT = 4  # spaces of one block level


def semicolons(line:str)->list[int]:
    "Columns of the statement-separating `;` of one physical line (none inside strings or comments)."
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(line.strip('\n') + '\n').readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    return [t.start[1] for t in toks if t.type == tokenize.OP and t.string == ';']


def header_end(segment:str)->int|None:
    "Where a compound header such as `if x:` ends in `segment` (index after its colon), or None for a simple statement."
    words = segment.split()
    if not words or words[0].rstrip(':') not in HEADERS:
        return None
    depth = 0
    for t in tokenize.generate_tokens(io.StringIO(segment + '\n').readline):
        if t.type != tokenize.OP:
            continue
        if t.string in '([{':
            depth += 1
        elif t.string in ')]}':
            depth -= 1
        elif t.string == ':' and depth == 0:
            return t.end[1]
    return None


def split_line(line:str)->list[str]:
    "One physical line with `;` chains → one statement a line (a one-line compound body moves under its header)."
    cols = semicolons(line)
    if not cols:
        return [line]
    body, comment = line.rstrip('\n'), ''
    toks = list(tokenize.generate_tokens(io.StringIO(body + '\n').readline))
    com = [t for t in toks if t.type == tokenize.COMMENT]
    if com:
        comment = '  ' + com[0].string
        body = body[:com[0].start[1]].rstrip()
    indent = body[:len(body) - len(body.lstrip())]
    cuts = [0, *[c + 1 for c in cols], len(body)]
    parts = [body[a:b].rstrip(';').strip() for a, b in zip(cuts, cuts[1:])]
    parts = [p for p in parts if p]
    head = header_end(parts[0])
    out = []
    if head is not None:
        first = parts[0][head:].strip()
        out.append(indent + parts[0][:head])
        inner = indent + ' ' * INDENT
        out += [inner + p for p in ([first] if first else []) + parts[1:]]
    else:
        out += [indent + p for p in parts]
    out[-1] += comment
    return [l + '\n' for l in out]


def same_tree(a:str, b:str)->bool:
    "Whether two sources parse to the same syntax tree (so they behave alike)."
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return False


def chained_rows(src:str)->set[int]:
    "0-based rows of `src` that hold a statement-separating `;` (tokenized as a whole, so strings never count)."
    try:
        toks = tokenize.generate_tokens(io.StringIO(src).readline)
        return {t.start[0] - 1 for t in toks if t.type == tokenize.OP and t.string == ';'}
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set()


def fix_semicolons(src:str)->str:
    "A cell's source with every `;` chain split, if that leaves its syntax tree unchanged; else the source as it was."
    lines = src.splitlines(keepends=True)
    if lines and not lines[-1].endswith('\n'):
        lines[-1] += '\n'
    rows = chained_rows(src)
    new = ''.join(l2 for i, l in enumerate(lines) for l2 in (split_line(l) if i in rows else [l]))
    new = new[:-1] if not src.endswith('\n') else new
    return new if same_tree(src, new) else src


def wrap_statement(src:str)->str:
    "Lines over the limit re-wrapped with black (line length LIMIT), statement by statement, if the tree is unchanged."
    try:
        import black
    except ImportError:
        return src
    tree = ast.parse(src)
    lines = src.splitlines(keepends=True)
    edits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.If, ast.For,
                                                                 ast.While, ast.With, ast.Try, ast.AsyncFunctionDef)):
            continue
        a, b = node.lineno - 1, node.end_lineno
        if max(len(l.rstrip('\n')) for l in lines[a:b]) <= LIMIT:
            continue
        text = ''.join(lines[a:b])
        indent = text[:len(text) - len(text.lstrip())]
        if '#' in ''.join(lines[a:b]):
            continue  # black would move comments; leave it to a person
        mode = black.Mode(line_length=LIMIT - len(indent), string_normalization=False, magic_trailing_comma=False)
        try:
            wrapped = black.format_str(text.strip() + '\n', mode=mode)
        except Exception:
            continue
        edits.append((a, b, ''.join(indent + l if l.strip() else l for l in wrapped.splitlines(keepends=True))))
    for a, b, text in sorted(edits, reverse=True):
        if all(not (a < a2 < b) for a2, _, _ in edits):
            lines[a:b] = [text]
    new = ''.join(lines)
    return new if same_tree(src, new) else src


def fix_notebook(path:Path)->int:
    "Rewrite the exported cells of a notebook that break the rules; the number of cells changed."
    nb = json.loads(path.read_text())
    changed = 0
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or not EXPORT.search(src):
            continue
        new = wrap_statement(fix_semicolons(src))
        if new != src:
            lines = new.split('\n')
            c['source'] = [l + '\n' for l in lines[:-1]] + [lines[-1]]
            changed += 1
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return changed


def offences(folder:Path)->list[str]:
    "`file:line: what` for every chained statement and over-long line of the exported modules."
    out = []
    for f in sorted(folder.glob('*.py')):
        if f.name.startswith('_'):
            continue
        text = f.read_text()
        chained = chained_rows(text)
        for n, line in enumerate(text.splitlines(), 1):
            if len(line) > LIMIT:
                out.append(f'{f.relative_to(ROOT)}:{n}: {len(line)} characters')
            if n - 1 in chained:
                out.append(f'{f.relative_to(ROOT)}:{n}: statements chained with ;')
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--fix', action='store_true', help='rewrite the exported notebook cells that break the rules')
    p.add_argument('--budget', type=int, default=0, help='offences tolerated (a ratchet while old code is mended)')
    a = p.parse_args()
    if a.fix:
        for nb in sorted((ROOT/'nbs'/'api').glob('*.ipynb')):
            n = fix_notebook(nb)
            if n:
                print(f'{nb.relative_to(ROOT)}: {n} cells rewritten')
        return 0
    bad = offences(ROOT/'fpme')
    for b in bad:
        print(b)
    print(f'{len(bad)} lines break the line discipline (budget {a.budget})')
    return 0 if len(bad) <= a.budget else 1


if __name__ == '__main__':
    sys.exit(main())
