#!/usr/bin/env python3
"""Runs `certretry-harness report --quick --out OUT_DIR` and checks what it wrote.

Checks: exit status 0; nothing on stderr (no progress bar when stderr is not a terminal);
index.html, report.md and every SVG named on the command line exist and are not empty;
index.html is one HTML document that links each SVG; report.md has a section per summary line;
stdout has one summary line per section, each with its figure and, for a section with targets,
"-> holds" or "-> MISSED".

usage: check_report.py HARNESS OUT_DIR SECTION... -- FILE.svg...
"""
import os
import re
import shutil
import subprocess
import sys


def fail(why):
    print("check_report: " + why, file=sys.stderr)
    sys.exit(1)


def main():
    harness, out_dir = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    if "--" not in rest:
        fail("usage: check_report.py HARNESS OUT_DIR SECTION... -- FILE.svg...")
    sections, svgs = rest[: rest.index("--")], rest[rest.index("--") + 1:]
    shutil.rmtree(out_dir, ignore_errors=True)
    run = subprocess.run([harness, "report", "--quick", "--out", out_dir],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL, timeout=300)
    print(run.stdout, end="")
    if run.returncode != 0:
        fail(f"exit status {run.returncode}; stderr:\n{run.stderr}")
    if run.stderr:
        fail("stderr is not a terminal, yet the report wrote to it:\n" + run.stderr)

    for name in ["index.html", "report.md"] + svgs:
        path = os.path.join(out_dir, name)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            fail(f"{path} is missing or empty")

    lines = run.stdout.splitlines()
    for key in sections:
        mine = [l for l in lines if l.startswith(key + " ")]
        if len(mine) != 1:
            fail(f"expected one summary line starting with '{key}', found {len(mine)}")
        if not re.search(r"(-> (holds|MISSED) )?\(\d+\.\d s\)$", mine[0]):
            fail(f"summary line without its verdict and time: {mine[0]!r}")
        if "FAILED" in mine[0]:
            fail(f"a section failed: {mine[0]!r}")
    if not lines or not lines[-1].startswith("wrote "):
        fail("the last stdout line does not say where the report is")

    with open(os.path.join(out_dir, "index.html"), encoding="utf-8") as f:
        html = f.read()
    if not html.startswith("<!DOCTYPE html>") or not html.rstrip().endswith("</html>"):
        fail("index.html is not one HTML document")
    if "<style>" not in html:
        fail("index.html has no inline CSS")
    for svg in svgs:
        if f'src="{svg}"' not in html:
            fail(f"index.html does not show {svg}")
    with open(os.path.join(out_dir, "report.md"), encoding="utf-8") as f:
        md = f.read()
    if md.count("\n## ") < len(sections):
        fail("report.md has fewer sections than the summary")
    for key in sections:
        if f"[{key}](#{key})" not in md:
            fail(f"report.md's summary has no row for {key}")
    print(f"check_report: {len(sections)} sections, {len(svgs)} charts, index.html and "
          "report.md: ok")


if __name__ == "__main__":
    main()
