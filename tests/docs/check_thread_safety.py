#!/usr/bin/env python3
"""Every public class and struct in include/certretry says who may share it.

usage: check_thread_safety.py DIR_OR_HEADER...

A class or struct defined at namespace scope outside a `detail` namespace (detail, detail_*,
*_detail) must carry a `///` comment, directly above it (or above its template line), that
contains "Thread safety". Prints each one that does not and exits 1; exits 0 when all do.
(docs/reference.md states the rule; Doxygen renders the line with the rest of the comment.)
"""
import pathlib
import re
import sys


def code_of(line):
    """The line without its // comment and with string and char literals emptied."""
    out, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if line.startswith('//', i):
            break
        m = re.match(r'R"([^(\s]*)\(', line[i:]) if c == 'R' and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] == '_')) else None
        if m:
            end = line.find(')' + m.group(1) + '"', i + m.end())
            i = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""')
            continue
        if c in '"\'':
            if c == "'" and 0 < i < n - 1 and line[i - 1].isalnum() and line[i + 1].isalnum():
                i += 1  # digit separator
                continue
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == '\\' else 1
            out.append('""')
            i = j + 1
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def strip_template_head(s):
    m = re.match(r'\s*template\s*<', s)
    if not m:
        return s.strip()
    depth, i = 1, m.end()
    while i < len(s) and depth:
        depth += {'<': 1, '>': -1}.get(s[i], 0)
        i += 1
    return s[i:].strip()


def check(path):
    lines = path.read_text().split('\n')
    stack = []  # 'ns', 'detail', 'class', 'other'
    stmt, stmt_line = '', None
    missing = []
    for idx, line in enumerate(lines):
        if line.strip().startswith('#'):
            continue
        code = code_of(line)
        if re.match(r'\s*(public|private|protected)\s*:', code):
            stmt, stmt_line = '', None
            continue
        for ch in code:
            if ch == '{':
                s = ' '.join(stmt.split())
                m = re.search(r'\bnamespace\s*([\w:]*)\s*$', s)
                body = strip_template_head(s)
                cm = re.match(r'(class|struct)\s+(\w+)', body)
                if m:
                    name = m.group(1).split('::')[-1]
                    detail = name == 'detail' or name.startswith('detail_') or name.endswith('_detail')
                    stack.append('detail' if detail else 'ns')
                elif cm and '(' not in body and '=' not in body.replace('==', ''):
                    if all(k == 'ns' for k in stack) and stack:
                        doc = []
                        j = stmt_line - 1
                        while j >= 0 and lines[j].strip().startswith('///'):
                            doc.append(lines[j])
                            j -= 1
                        if not any('Thread safety' in d for d in doc):
                            missing.append((stmt_line + 1, cm.group(2)))
                    stack.append('class')
                else:
                    stack.append('other')
                stmt, stmt_line = '', None
            elif ch == '}':
                if stack:
                    stack.pop()
                stmt, stmt_line = '', None
            elif ch == ';':
                stmt, stmt_line = '', None
            else:
                if stmt_line is None and not ch.isspace():
                    stmt_line = idx
                stmt += ch
        stmt += ' '
    return missing


def main(args):
    if not args:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    files = []
    for a in args:
        p = pathlib.Path(a)
        files += sorted(p.rglob('*.hpp')) if p.is_dir() else [p]
    bad = 0
    for f in files:
        for line, name in check(f):
            print(f'{f}:{line}: {name}: no "Thread safety" in its /// comment')
            bad += 1
    if bad:
        print(f'{bad} public types without a thread-safety line')
        return 1
    print(f'every public class and struct in {len(files)} headers has a thread-safety line')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
