"""Bytes that are not UTF-8, replaced with U+FFFD as Java's UTF-8 decoder replaces them.

zkCli reads its input (and the JVM its arguments) through Java's decoder, then stores what a
command got as UTF-8.  Java and Python both replace a malformed sequence with one U+FFFD but
disagree on how long the sequence is: Java takes an encoded surrogate (`ED A0 80`) as one
malformed sequence of three bytes where Python sees three, and `ED A0 41` as two bytes where
Python sees two sequences of one.  So `a<ED A0 80>b` is 5 bytes in zkCli and would be 11 in
zksh.  The `java-replace` error handler asks Python to resume where Java would.

The lengths follow sun.nio.cs.UTF_8.Decoder (JDK 17): decodeArrayLoop, malformedN and the
isMalformed* checks.  A sequence cut short by the end of the input is one malformed sequence,
as CharsetDecoder.decode(..., endOfInput=true) reports what is left.
"""

from __future__ import annotations

import codecs

ERRORS = "java-replace"


def _continuation(byte: int) -> bool:
    return byte & 0xC0 == 0x80


def _three_byte_length(data: bytes, start: int) -> int:
    b1 = data[start]
    rest = data[start + 1:start + 3]
    bad_second = len(rest) > 0 and ((b1 == 0xE0 and rest[0] & 0xE0 == 0x80)
                                    or not _continuation(rest[0]))
    if bad_second:
        return 1
    if len(rest) < 2:
        return 1 + len(rest)  # cut short by the end of the input
    if not _continuation(rest[1]):
        return 2
    return 3  # well formed but a surrogate (ED A0..BF xx): one malformed sequence


def _four_byte_length(data: bytes, start: int) -> int:
    b1 = data[start]
    rest = data[start + 1:start + 4]
    if b1 > 0xF4:
        return 1
    if rest:
        b2 = rest[0]
        if ((b1 == 0xF0 and not 0x90 <= b2 <= 0xBF) or (b1 == 0xF4 and b2 & 0xF0 != 0x80)
                or not _continuation(b2)):
            return 1
    if len(rest) > 1 and not _continuation(rest[1]):
        return 2
    if len(rest) < 3:
        return 1 + len(rest)  # cut short by the end of the input
    return 3  # the fourth byte is not a continuation


def malformed_length(data: bytes, start: int) -> int:
    """How many bytes from `start` Java's decoder replaces with one U+FFFD."""
    b1 = data[start]
    if 0xC2 <= b1 <= 0xDF:
        return 1
    if 0xE0 <= b1 <= 0xEF:
        return _three_byte_length(data, start)
    if 0xF0 <= b1 <= 0xF7:
        return _four_byte_length(data, start)
    return 1  # a continuation byte, C0, C1, F8..FF


def _java_replace(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    length = malformed_length(error.object, error.start)
    return "\ufffd", min(error.start + length, len(error.object))


codecs.register_error(ERRORS, _java_replace)


def decode(data: bytes) -> str:
    """`data` as Java's UTF-8 decoder reads it (the whole of an input: a cut-short sequence
    at its end is malformed)."""
    return data.decode("utf-8", ERRORS)
