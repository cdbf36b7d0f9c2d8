"""The LAME "Info" tag: a silent first frame saying how many frames and bytes follow and how
many samples of encoder delay and padding to drop, so players (and mutagen) know the exact
length and decoders that honour it (mpg123, ffmpeg, Apple) play exactly the samples we encoded.

lameenc does not write this frame (LAME's ``lame_get_lametag_frame`` is not exposed), so we
reserve a frame's worth of bytes before the audio and fill it in once the frame count is known.
Layout: Xing header (``Info`` for CBR) then the 36-byte LAME extension, as LAME 3.100 writes them.
"""
from __future__ import annotations

import struct

ENCODER_DELAY = 576  #: samples LAME puts before the signal (decoders add their own 529)
DECODER_DELAY = 529
_XING_FLAGS = 0x0F  #: frames, bytes, TOC and quality fields present
_LAME_EXT = 36


def samples_per_frame(rate: int) -> int:
    return 1152 if rate >= 32000 else 576


def frame_bytes(rate: int, bitrate: int) -> float:
    """Average length in bytes of a CBR layer III frame (padding included)."""
    return samples_per_frame(rate) / 8 * bitrate * 1000 / rate


def side_info(rate: int) -> int:
    return 17 if rate >= 32000 else 9  # mono


def info_size(rate: int, bitrate: int) -> int:
    """Bytes of the Info frame, or 0 when a frame at this bitrate is too small to hold the tag."""
    size = int(frame_bytes(rate, bitrate))
    need = 4 + side_info(rate) + 4 + 4 + 4 + 4 + 100 + 4 + _LAME_EXT
    return size if size >= need else 0


def _crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC, as LAME uses for the tag CRC."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def count_frames(stream_bytes: int, rate: int, bitrate: int) -> int:
    """Frames in a CBR stream of ``stream_bytes`` (LAME keeps padding within a byte of exact)."""
    return round(stream_bytes / frame_bytes(rate, bitrate))


def info_frame(first_header: bytes, *, rate: int, bitrate: int, frames: int, stream_bytes: int,
               samples: int) -> bytes:
    """The Info frame for a stream whose first audio frame starts with ``first_header``."""
    size = info_size(rate, bitrate)
    header = bytes([first_header[0], first_header[1], first_header[2] & 0xFD, first_header[3]])  # no padding
    total = size + stream_bytes
    padding = frames * samples_per_frame(rate) - ENCODER_DELAY - samples
    padding = min(max(padding, 0), 0xFFF)
    toc = bytes(min(255, i * 256 // 100) for i in range(100))  # CBR: bytes grow linearly
    xing = b"Info" + struct.pack(">IIII", _XING_FLAGS, frames, total, 0)[:12] + toc + struct.pack(">I", 50)
    ext = (b"LAME3.100" + bytes([0x01, min(255, rate * 9 // 20 // 100)]) + bytes(4) + bytes(4)
           + bytes([0x00, min(255, bitrate)])
           + bytes([ENCODER_DELAY >> 4, ((ENCODER_DELAY & 0xF) << 4) | (padding >> 8), padding & 0xFF])
           + bytes([0x00, 0x00]) + bytes(2) + struct.pack(">I", total) + bytes(2))
    frame = bytearray(header + bytes(side_info(rate)) + xing + ext)
    frame += struct.pack(">H", _crc16(bytes(frame)))
    frame += bytes(size - len(frame))
    return bytes(frame)
