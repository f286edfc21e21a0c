"""seedlib.py - the wire-format basics the make_*_seeds.py scripts share.

Written from the MQTT specifications, independent of src/proto (the seeds are an
independent statement of the wire format). The scripts import it from their own
directory, which Python puts first on sys.path when it runs a script, so they
still run from anywhere: python3 fuzz/make_seeds.py
"""
import os
import struct


def varint(n):
    """Variable Byte Integer, minimal form (3.1.1 §2.2.3, 5.0 §1.5.5)."""
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(x):
    """A UTF-8 string (str) or binary data (bytes) with its 2-byte length."""
    x = x.encode() if isinstance(x, str) else x
    return struct.pack(">H", len(x)) + x


def u16(n):
    return struct.pack(">H", n)


def pkt(first, body):
    """Fixed header (first byte, Remaining Length) + body."""
    return bytes([first]) + varint(len(body)) + body


def write_corpus(target, seeds):
    """Writes {name: bytes} into fuzz/corpus/TARGET/ and says how many."""
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", target)
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {out}")
