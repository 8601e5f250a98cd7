"""A pure-Python reader of TensorFlow "tensor bundle" checkpoints (no TensorFlow needed).

A checkpoint ``<prefix>`` is two files:

    <prefix>.index                 a LevelDB-format sorted table: tensor name → BundleEntryProto
    <prefix>.data-00000-of-00001   the raw little-endian tensor bytes the entries point into

The table is a sequence of blocks (each followed by a 1-byte compression type and a 4-byte CRC),
an index block of block handles, and a 48-byte footer ending in a magic number. Inside a block,
keys are prefix-compressed (varint shared length, varint unshared length, varint value length,
the unshared key bytes, the value), and a trailer of uint32 restart offsets closes the block. The
entry with the empty key is the BundleHeaderProto; every other value is a BundleEntryProto, read
here with a minimal protobuf varint decoder:

    1 dtype (enum)   2 shape (TensorShapeProto: 2 dim {1 size})   3 shard_id   4 offset   5 size
    6 crc32c (fixed32, optional)   7 slices (partitioned variables: not supported, reported)

    read_checkpoint(prefix) -> dict[name, np.ndarray]      every tensor, or only ``names=``
    checkpoint_entries(prefix) -> dict[name, TensorEntry]  the table alone (dtype, shape, offset, size)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ArtifactError

_MAGIC = 0xDB4775248B80FB57
_FOOTER = 48
_BLOCK_TRAILER = 5

# tensorflow/core/framework/types.proto: the enum values this reader can turn into numpy arrays.
DTYPES: dict[int, np.dtype] = {
    1: np.dtype("<f4"), 2: np.dtype("<f8"), 3: np.dtype("<i4"), 4: np.dtype("u1"), 5: np.dtype("<i2"),
    6: np.dtype("i1"), 9: np.dtype("<i8"), 10: np.dtype("?"), 17: np.dtype("<u2"), 19: np.dtype("<f2"),
    22: np.dtype("<u4"), 23: np.dtype("<u8"),
}


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lives in the data file."""

    name: str
    dtype: int                     # TF DataType enum (1 = float32)
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int                      # bytes
    crc32c: int | None = None
    sliced: bool = False


# ------------------------------------------------------------------------------------- protobuf
def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode one base-128 varint at ``pos`` → (value, next position)."""
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def _fields(buf: bytes):
    """Yield (field number, wire type, value) of a protobuf message; value is int or bytes."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            val, pos = _varint(buf, pos)
        elif wire == 1:
            val, pos = struct.unpack_from("<Q", buf, pos)[0], pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            val, pos = bytes(buf[pos:pos + n]), pos + n
        elif wire == 5:
            val, pos = struct.unpack_from("<I", buf, pos)[0], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield num, wire, val


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _shape(buf: bytes) -> tuple[int, ...]:
    dims = []
    for num, _, val in _fields(buf):
        if num == 2:  # repeated Dim
            size = 0
            for dnum, _, dval in _fields(val):
                if dnum == 1:
                    size = _signed64(dval)
            dims.append(size)
    return tuple(dims)


def _entry(name: str, buf: bytes) -> TensorEntry:
    kw = {"dtype": 0, "shape": (), "shard_id": 0, "offset": 0, "size": 0, "crc32c": None, "sliced": False}
    for num, _, val in _fields(buf):
        if num == 1:
            kw["dtype"] = val
        elif num == 2:
            kw["shape"] = _shape(val)
        elif num == 3:
            kw["shard_id"] = val
        elif num == 4:
            kw["offset"] = _signed64(val)
        elif num == 5:
            kw["size"] = _signed64(val)
        elif num == 6:
            kw["crc32c"] = val
        elif num == 7:
            kw["sliced"] = True
    return TensorEntry(name=name, **kw)


# ------------------------------------------------------------------------------------- the table
def _block(data: bytes, offset: int, size: int, path: Path) -> bytes:
    if offset + size + _BLOCK_TRAILER > len(data):
        raise ArtifactError(f"{path}: a block handle points past the end of the file ({offset}+{size} > "
                            f"{len(data)}). The checkpoint is truncated; reinstall it (run `make run`).")
    kind = data[offset + size]
    raw = data[offset:offset + size]
    if kind == 0:
        return raw
    if kind == 1:
        try:
            import snappy  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ArtifactError(f"{path}: block at byte {offset} is snappy-compressed and the 'snappy' module is "
                                "not installed. Install python-snappy, or use an uncompressed checkpoint.") from exc
        return snappy.uncompress(raw)
    raise ArtifactError(f"{path}: block at byte {offset} has compression type {kind}; expected 0 (none) or "
                        "1 (snappy). The file is not a TensorFlow checkpoint index or is corrupt.")


def _block_items(block: bytes):
    """Yield (key, value) of one table block, undoing the prefix compression."""
    if len(block) < 4:
        raise ValueError("block shorter than its restart count")
    n_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * n_restarts
    if end < 0:
        raise ValueError("restart array larger than the block")
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        vlen, pos = _varint(block, pos)
        if shared > len(key):
            raise ValueError("key shares more bytes than the previous key has")
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield bytes(key), bytes(block[pos:pos + vlen])
        pos += vlen


def _table(path: Path):
    """Yield (key, value) of every entry of a LevelDB-format table file, in key order."""
    data = path.read_bytes()
    if len(data) < _FOOTER:
        raise ArtifactError(f"{path}: {len(data)} bytes, shorter than a table footer ({_FOOTER}). "
                            "The checkpoint is truncated; reinstall it (run `make run`).")
    footer = data[-_FOOTER:]
    if struct.unpack_from("<Q", footer, _FOOTER - 8)[0] != _MAGIC:
        raise ArtifactError(f"{path}: the footer has no table magic number; expected a TensorFlow checkpoint "
                            ".index file (LevelDB table). Check the path.")
    pos = 0
    _meta_off, pos = _varint(footer, pos)
    _meta_size, pos = _varint(footer, pos)
    idx_off, pos = _varint(footer, pos)
    idx_size, pos = _varint(footer, pos)
    for _, handle in _block_items(_block(data, idx_off, idx_size, path)):
        off, p = _varint(handle, 0)
        size, _ = _varint(handle, p)
        yield from _block_items(_block(data, off, size, path))


def _index_path(prefix: str | Path) -> Path:
    """``<prefix>.index``; a folder as prefix means files named '.index', '.data-…' inside it (musicnn's)."""
    if Path(prefix).is_dir():
        return Path(prefix) / ".index"
    prefix = str(prefix)
    return Path(prefix if prefix.endswith(".index") else prefix + ".index")


def checkpoint_entries(prefix: str | Path) -> dict[str, TensorEntry]:
    """The tensor table of the checkpoint at ``prefix`` (``<prefix>.index``), header entry left out."""
    path = _index_path(prefix)
    if not path.exists():
        raise ArtifactError(f"Checkpoint index {path} not found; expected a TensorFlow '<prefix>.index' file. "
                            "Check the prefix (musicnn's models: run `make run` or `make test` to install them).")
    try:
        return {k.decode("utf-8"): _entry(k.decode("utf-8"), v) for k, v in _table(path) if k}
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: not a readable TensorFlow checkpoint index ({exc}). "
                            "Reinstall the checkpoint (run `make run`).") from exc


def read_checkpoint(prefix: str | Path, *, names=None, check_crc: bool = False) -> dict[str, np.ndarray]:
    """Tensors of a single-shard checkpoint → {name: array of the stored dtype and shape}.

    ``names`` limits the read to those tensors (KeyError-style ArtifactError for a missing one);
    ``check_crc`` verifies each tensor's masked CRC32C when the entry has one (slow in pure Python).
    """
    entries = checkpoint_entries(prefix)
    index = _index_path(prefix)
    wanted = list(entries) if names is None else list(names)
    missing = [n for n in wanted if n not in entries]
    if missing:
        raise ArtifactError(f"{index}: no tensor(s) {missing[:5]}; the checkpoint has {len(entries)} tensors, "
                            f"e.g. {sorted(entries)[:5]}. Check the names (or the model the checkpoint belongs to).")
    out: dict[str, np.ndarray] = {}
    files: dict[int, bytes] = {}
    for name in wanted:
        e = entries[name]
        if e.sliced:
            raise ArtifactError(f"{index}: tensor '{name}' is stored in slices (a partitioned variable); this reader "
                                "supports whole tensors only.")
        if e.dtype not in DTYPES:
            raise ArtifactError(f"{index}: tensor '{name}' has TF dtype enum {e.dtype}; this reader supports "
                                f"{sorted(DTYPES)}.")
        if e.shard_id not in files:
            data_path = Path(str(index)[:-len(".index")] + f".data-{e.shard_id:05d}-of-00001")
            if not data_path.exists():
                raise ArtifactError(f"Checkpoint data file {data_path} not found next to {index}. Only single-shard "
                                    "checkpoints are supported; reinstall the checkpoint (run `make run`).")
            files[e.shard_id] = data_path.read_bytes()
        blob = files[e.shard_id]
        dt = DTYPES[e.dtype]
        count = int(np.prod(e.shape)) if e.shape else 1
        if e.size != count * dt.itemsize or e.offset + e.size > len(blob):
            raise ArtifactError(f"{index}: tensor '{name}' claims {e.size} bytes at {e.offset} for shape {e.shape} "
                                f"of {dt}; the data file has {len(blob)} bytes. The checkpoint is corrupt.")
        raw = blob[e.offset:e.offset + e.size]
        if check_crc and e.crc32c is not None and _masked_crc32c(raw) != e.crc32c:
            raise ArtifactError(f"{index}: tensor '{name}' fails its CRC32C check. The checkpoint is corrupt; "
                                "reinstall it (run `make run`).")
        out[name] = np.frombuffer(raw, dtype=dt).reshape(e.shape).copy()
    return out


# ------------------------------------------------------------------------------------- crc32c
_CRC_TABLE: list[int] = []


def _crc32c(data: bytes) -> int:
    if not _CRC_TABLE:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _CRC_TABLE.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc32c(data: bytes) -> int:
    crc = _crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
