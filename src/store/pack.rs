//! How a message's bytes are kept on disk (store version 8): smaller, and
//! given back exactly.
//!
//! Most of a mailbox's bytes are attachments in base64, which no general
//! compressor shrinks below about three quarters and which deflate shrinks
//! slowly (see the README's Performance section). Base64 is a transfer
//! encoding, not information: a run of base64 lines is kept as the bytes it
//! encodes plus its line length and line ending, and written out again on
//! reading. Everything else (headers, text, 8-bit parts) is deflated
//! (level 1). Exactness never rests on the detection: [`pack`] unpacks
//! what it made and compares it with the original before it gives it out,
//! and keeps the bytes as they are if the two differ.
//!
//! A packed blob is self-describing and checked: a version byte, the
//! CRC-32 and length of the original, then segments. [`unpack`] refuses
//! (never panics, never returns other bytes) anything that does not give
//! back exactly that length and checksum.
//!
//! ```text
//! blob    := 0x01 crc32(le u32) varint(length) segment*
//! segment := 0x00 varint(n) bytes(n)                           stored
//!          | 0x01 varint(n) varint(m) deflate(m bytes -> n)    deflated
//!          | 0x02 varint(line) eol(0: CRLF, 1: LF) varint(n) bytes(n)
//!                                                              base64 lines
//! ```

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const VERSION: u8 = 1;
const STORED: u8 = 0;
const DEFLATED: u8 = 1;
const BASE64: u8 = 2;

/// A run of base64 is kept decoded only from this many encoded bytes on:
/// below that the segment's few bytes of header and the deflate of the
/// text around it gain as much.
const MIN_BASE64_RUN: usize = 1024;
/// Literal stretches shorter than this are stored as they are.
const MIN_DEFLATE: usize = 64;
/// The longest base64 line recognised (RFC 5322's line limit).
const MAX_LINE: usize = 998;

/// Why packed bytes cannot be given back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Corrupt(pub &'static str);

/// The packed form of `raw`, checked: unpacking it gives `raw` back. Bytes
/// that pack no smaller come back as `None`: they are kept as they are.
pub fn pack(raw: &[u8]) -> Option<Vec<u8>> {
    let packed = encode(raw);
    if packed.len() >= raw.len() {
        return None;
    }
    // Exactness is checked here, not trusted: a message may be deleted on
    // the server once this is stored.
    match unpack(&packed) {
        Ok(back) if back == raw => Some(packed),
        _ => None,
    }
}

fn encode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() / 2 + 16);
    out.push(VERSION);
    out.extend_from_slice(&crc32fast::hash(raw).to_le_bytes());
    put_varint(&mut out, raw.len() as u64);
    let mut literal = 0; // start of the bytes not yet written out
    let mut pos = 0; // a line's start
    while pos < raw.len() {
        match base64_run(raw, pos) {
            Run::Found(run) => {
                put_literal(&mut out, &raw[literal..pos]);
                out.push(BASE64);
                put_varint(&mut out, run.line as u64);
                out.push(u8::from(!run.crlf));
                put_varint(&mut out, run.decoded.len() as u64);
                out.extend_from_slice(&run.decoded);
                pos = run.end;
                literal = run.end;
            }
            Run::None(next) => pos = next,
        }
    }
    put_literal(&mut out, &raw[literal..]);
    out
}

fn put_literal(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    if bytes.len() >= MIN_DEFLATE {
        let mut e = flate2::write::DeflateEncoder::new(
            Vec::with_capacity(bytes.len() / 3),
            flate2::Compression::fast(),
        );
        // Writing into a Vec cannot fail.
        if e.write_all(bytes).is_ok()
            && let Ok(deflated) = e.finish()
            && deflated.len() + 8 < bytes.len()
        {
            out.push(DEFLATED);
            put_varint(out, bytes.len() as u64);
            put_varint(out, deflated.len() as u64);
            out.extend_from_slice(&deflated);
            return;
        }
    }
    out.push(STORED);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

struct Base64Run {
    /// Where the run ends (after its last line's line ending).
    end: usize,
    /// Characters in each line but the last.
    line: usize,
    crlf: bool,
    decoded: Vec<u8>,
}

enum Run {
    Found(Base64Run),
    /// No run here; look again at this line's start.
    None(usize),
}

/// One line from `start`: its text (without the line ending), whether it
/// ended in CRLF, and where the next begins; `None` at a last line with no
/// line ending.
fn line_at(raw: &[u8], start: usize) -> Option<(&[u8], bool, usize)> {
    let nl = start + memchr::memchr(b'\n', &raw[start..])?;
    let text = &raw[start..nl];
    match text.strip_suffix(b"\r") {
        Some(t) => Some((t, true, nl + 1)),
        None => Some((text, false, nl + 1)),
    }
}

/// A run of base64 lines starting at `start`, as an encoder writes them:
/// every line `line` characters (a multiple of 4) but the last, which may
/// be shorter and end in padding, all with one kind of line ending. Each
/// line is checked by decoding it: the strict decoder refuses any other
/// character, padding before the end and non-zero trailing bits, so what
/// it accepts encodes back to the same characters (`pack` checks anyway).
fn base64_run(raw: &[u8], start: usize) -> Run {
    let Some((first, crlf, mut after)) = line_at(raw, start) else {
        return Run::None(raw.len());
    };
    let line = first.len();
    if !(16..=MAX_LINE).contains(&line) || !line.is_multiple_of(4) {
        return Run::None(after);
    }
    let full = line / 4 * 3;
    let mut decoded = Vec::new();
    let mut chars = 0;
    let mut end = start; // after the last line of the run
    let mut t = first;
    loop {
        let at = decoded.len();
        decoded.resize(at + full, 0);
        match STANDARD.decode_slice(t, &mut decoded[at..]) {
            Ok(k) => decoded.truncate(at + k),
            Err(_) if chars == 0 => return Run::None(after),
            Err(_) => {
                // Not part of the run: it ends before this line.
                decoded.truncate(at);
                break;
            }
        }
        chars += t.len();
        end = after;
        // A shorter line, or one with padding, is the last.
        if t.len() < line || decoded.len() - at < full {
            break;
        }
        match line_at(raw, end) {
            Some((l, c, n))
                if c == crlf && !l.is_empty() && l.len() <= line && l.len().is_multiple_of(4) =>
            {
                t = l;
                after = n;
            }
            _ => break,
        }
    }
    if chars < MIN_BASE64_RUN {
        return Run::None(end);
    }
    Run::Found(Base64Run {
        end,
        line,
        crlf,
        decoded,
    })
}

/// Whether `packed` says it was made from `raw` (its length and CRC-32):
/// a cheap check that a packed form handed over with some bytes is theirs.
pub fn describes(packed: &[u8], raw: &[u8]) -> bool {
    let mut r = Reader { bytes: packed };
    (|| {
        let version = r.byte()?;
        let crc = r.take(4)?;
        let length = r.varint()?;
        Ok::<_, Corrupt>(
            version == VERSION
                && length == raw.len() as u64
                && crc == crc32fast::hash(raw).to_le_bytes(),
        )
    })()
    .unwrap_or(false)
}

/// The bytes `packed` was made from, or why they cannot be had.
pub fn unpack(packed: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut r = Reader { bytes: packed };
    if r.byte()? != VERSION {
        return Err(Corrupt("unknown format"));
    }
    let crc = u32::from_le_bytes(r.take(4)?.try_into().map_err(|_| Corrupt("cut short"))?);
    let length = r.varint()?;
    // Deflate gives at most about 1,032 bytes a byte, base64 4/3 and a
    // line ending: a length beyond that is damage, not a message.
    if length > (packed.len() as u64).saturating_mul(1100) {
        return Err(Corrupt("its length is impossible"));
    }
    let length = length as usize;
    // Room for what a sound blob of this size gives; a damaged length
    // field is not trusted with memory (the parts grow it as they come).
    let mut out = Vec::with_capacity(length.min(packed.len().saturating_mul(8) + (1 << 20)));
    while !r.bytes.is_empty() {
        match r.byte()? {
            STORED => {
                let n = r.len(length - out.len())?;
                out.extend_from_slice(r.take(n)?);
            }
            DEFLATED => {
                let n = r.len(length - out.len())?;
                let m = r.varint()?;
                let m = usize::try_from(m).map_err(|_| Corrupt("cut short"))?;
                let deflated = r.take(m)?;
                let before = out.len();
                flate2::read::DeflateDecoder::new(deflated)
                    .take(n as u64)
                    .read_to_end(&mut out)
                    .map_err(|_| Corrupt("a deflated part does not inflate"))?;
                if out.len() - before != n {
                    return Err(Corrupt("a deflated part has the wrong length"));
                }
            }
            BASE64 => {
                let line = r.varint()?;
                if line == 0 || !line.is_multiple_of(4) || line > MAX_LINE as u64 {
                    return Err(Corrupt("a base64 part has an impossible line length"));
                }
                let line = line as usize;
                let eol: &[u8] = match r.byte()? {
                    0 => b"\r\n",
                    1 => b"\n",
                    _ => return Err(Corrupt("a base64 part has an unknown line ending")),
                };
                // Its decoded bytes are at most 3/4 of what they write out.
                let n = r.len(length - out.len())?;
                let decoded = r.take(n)?;
                let per_line = line / 4 * 3;
                for chunk in decoded.chunks(per_line) {
                    let at = out.len();
                    out.resize(at + base64::encoded_len(chunk.len(), true).unwrap_or(0), 0);
                    let k = STANDARD
                        .encode_slice(chunk, &mut out[at..])
                        .map_err(|_| Corrupt("a base64 part does not encode"))?;
                    out.truncate(at + k);
                    out.extend_from_slice(eol);
                    if out.len() > length {
                        return Err(Corrupt("its parts are longer than the message"));
                    }
                }
            }
            _ => return Err(Corrupt("an unknown part")),
        }
        if out.len() > length {
            return Err(Corrupt("its parts are longer than the message"));
        }
    }
    if out.len() != length {
        return Err(Corrupt("its parts are shorter than the message"));
    }
    if crc32fast::hash(&out) != crc {
        return Err(Corrupt("its checksum does not match"));
    }
    Ok(out)
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        if n > self.bytes.len() {
            return Err(Corrupt("cut short"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, Corrupt> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, Corrupt> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Corrupt("a number too long"))
    }

    /// A count of bytes the message still has room for.
    fn len(&mut self, room: usize) -> Result<usize, Corrupt> {
        let n = self.varint()?;
        if n > room as u64 {
            return Err(Corrupt("its parts are longer than the message"));
        }
        Ok(n as usize)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}
