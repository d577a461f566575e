#!/usr/bin/env python3
"""Renders SVG files with a real renderer and checks what comes out.

For each file: it parses as XML with an <svg> root that has a width, a height or a viewBox;
rsvg-convert (librsvg) renders it to PNG without an error; and the PNG has a size and more
than one colour (a chart that renders blank is as broken as one that does not render).

usage: check_svg.py RSVG_CONVERT OUT_DIR FILE.svg...
"""
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib


def png_colours(data, limit=2):
    """The distinct pixel values of an 8-bit RGB or RGBA PNG, up to `limit`."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour_type not in (2, 6):
                raise ValueError(f"unexpected PNG format (depth {depth}, colour type {colour_type})")
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if width == 0 or height == 0:
        raise ValueError("the PNG has no pixels")
    raw = zlib.decompress(idat)
    stride = width * channels
    seen, prev = set(), bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        filt, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):  # undo the PNG filters (RFC 2083 §6)
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if filt == 1:
                line[i] = (line[i] + a) & 255
            elif filt == 2:
                line[i] = (line[i] + b) & 255
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, channels):
            seen.add(bytes(line[x:x + channels]))
            if len(seen) >= limit:
                return seen
        prev = line
    return seen


def check(rsvg, out_dir, path):
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        return f"{path}: not well-formed XML: {e}"
    if not root.tag.endswith("svg"):
        return f"{path}: the root element is <{root.tag}>, not <svg>"
    if not (root.get("viewBox") or (root.get("width") and root.get("height"))):
        return f"{path}: <svg> has neither a viewBox nor a width and a height"
    png = os.path.join(out_dir, os.path.basename(path) + ".png")
    run = subprocess.run([rsvg, "-o", png, path], capture_output=True, text=True)
    if run.returncode != 0:
        return f"{path}: rsvg-convert failed ({run.returncode}): {run.stderr.strip()}"
    with open(png, "rb") as f:
        data = f.read()
    try:
        if len(png_colours(data)) < 2:
            return f"{path}: renders as a single colour"
    except (ValueError, zlib.error, struct.error) as e:
        return f"{path}: the rendered PNG is unreadable: {e}"
    print(f"ok {path} -> {png} ({len(data)} bytes)")
    return None


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    rsvg, out_dir, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out_dir, exist_ok=True)
    errors = [e for e in (check(rsvg, out_dir, f) for f in files) if e]
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
