#!/usr/bin/env python3
"""Writes N deterministic RFC 5322 messages into DIR, one file each.

inbox: sized like a real inbox (80% 2-16 KB text, 18% with a 50-200 KB
attachment, 2% with a 1-3 MB one); small: 1.5 KB each, to expose the cost
of each message and each round trip."""
import argparse
import base64
import random
from pathlib import Path

WORDS = ("post office protocol mailbox retrieve message server client offline "
         "update transaction authorization delete list").split()


def text(rnd, size):
    lines, n = [], 0
    while n < size:
        line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 12)))
        if rnd.random() < 0.02:
            line = "." + line  # exercises dot-stuffing
        lines.append(line)
        n += len(line) + 2
    return "\r\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--profile", choices=["inbox", "small"], default="inbox")
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    out = Path(a.dir)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(a.count):
        attachment = 0
        if a.profile == "small":
            body = text(rnd, 1400)
        else:
            r = rnd.random()
            body = text(rnd, rnd.randint(2000, 16000))
            if r >= 0.98:
                attachment = rnd.randint(1_000_000, 3_000_000)
            elif r >= 0.80:
                attachment = rnd.randint(50_000, 200_000)
        head = (f"From: Correspondent {i % 89} <c{i % 89}@example.org>\r\nTo: alice@example.net\r\n"
                f"Subject: Bench message {i} on {rnd.choice(WORDS)}\r\n"
                f"Date: Tue, 3 Nov 2026 {i // 60 % 24:02d}:{i % 60:02d}:00 +0000\r\n"
                f"Message-ID: <bench-{a.profile}-{i}.{a.seed}@example.org>\r\nMIME-Version: 1.0\r\n")
        if attachment:
            blob = base64.encodebytes(rnd.randbytes(attachment)).decode().replace("\n", "\r\n")
            msg = (head + 'Content-Type: multipart/mixed; boundary="bb"\r\n\r\n--bb\r\n'
                   "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n--bb\r\n"
                   'Content-Type: application/octet-stream; name="data.bin"\r\n'
                   "Content-Transfer-Encoding: base64\r\n"
                   'Content-Disposition: attachment; filename="data.bin"\r\n\r\n' + blob + "--bb--\r\n")
        else:
            msg = head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
        (out / f"{i:06d}.eml").write_bytes(msg.encode())


if __name__ == "__main__":
    main()
