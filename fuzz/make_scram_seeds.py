#!/usr/bin/env python3
"""make_scram_seeds.py - writes the seed corpus for fuzz_scram into fuzz/corpus/fuzz_scram/.

Each seed is one mode byte (0 credentials file, 1 raw exchange with RFC 7677's
server nonce, 2 client-first for the target's honest client), then the text;
in modes 1 and 2 a NUL separates the client-first-message from the
client-final-message (mode 1) or from extensions (mode 2). The messages are
written out by hand from RFC 5802 §7 and RFC 7677 §3. Run from anywhere:

    python3 fuzz/make_scram_seeds.py
"""
from seedlib import write_corpus


CNONCE = "rOprNGfwEbeRWgbNEkqO"
SNONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
PROOF = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
KEY = "A" * 43 + "="

SEEDS = {
    # RFC 7677 §3: authenticates.
    "rfc7677": (1, "n,,n=user,r=" + CNONCE, "c=biws,r=" + CNONCE + SNONCE + "," + PROOF),
    # Same, with a flipped proof bit: wrong password.
    "rfc7677_bad_proof": (1, "n,,n=user,r=" + CNONCE,
                          "c=biws,r=" + CNONCE + SNONCE + ",p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
    "bad_channel_binding": (1, "n,,n=user,r=" + CNONCE, "c=eSws,r=" + CNONCE + SNONCE + "," + PROOF),
    "bad_nonce": (1, "n,,n=user,r=" + CNONCE, "c=biws,r=" + CNONCE + "," + PROOF),
    "final_extension": (1, "n,,n=user,r=" + CNONCE, "c=biws,r=" + CNONCE + SNONCE + ",x=1," + PROOF),
    "unknown_user": (1, "n,,n=nobody,r=abc", "c=biws,r=abc" + SNONCE + "," + PROOF),
    "authzid_escapes": (1, "y,a=a=2Cb=3Dc,n=a=2Cb=3Dc,r=xyz,e=ext", "c=eSxhPWE9MkNiPTNEYyw=,r=xyz" + SNONCE + "," + PROOF),
    "bad_escape": (1, "n,,n=us=2cer,r=abc", None),
    "channel_binding_requested": (1, "p=tls-unique,,n=user,r=abc", None),
    "mandatory_extension": (1, "n,,m=x,n=user,r=abc", None),
    "final_first": (1, "", "c=biws,r=abc," + PROOF),
    "honest_user": (2, "n,,n=user,r=abc", None),
    "honest_escapes_ext": (2, "n,a=a=2Cb=3Dc,n=a=2Cb=3Dc,r=!~", "x=1,y=a=b"),
    "honest_unknown": (2, "y,,n=nobody,r=q", None),
    "creds_good": (0, "# users\n\nuser:4096:W22ZaJ0SNY7soEsUEjb6gQ==:%s:%s\r\na,b=c:10000:AQID:%s:%s\n" % (KEY, KEY, KEY, KEY), None),
    "creds_bad_iterations": (0, "user:4095:AQID:%s:%s\n" % (KEY, KEY), None),
    "creds_duplicate": (0, "u:4096:AQID:%s:%s\nv:4096:AQID:%s:%s\nu:4096:AQID:%s:%s\n" % ((KEY,) * 6), None),
    "creds_colon_user": (0, "a:b:4096:AQID:%s:%s\n" % (KEY, KEY), None),
}


def encode(mode, first, second):
    data = bytes([mode]) + first.encode()
    if second is not None:
        data += b"\0" + second.encode()
    return data


if __name__ == "__main__":
    write_corpus("fuzz_scram", {name: encode(*seed) for name, seed in SEEDS.items()})
