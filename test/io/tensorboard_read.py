"""An independent reader of TensorBoard event files, for test/io/tensorboard.test.ts.

Usage: /usr/bin/python3 tensorboard_read.py PB_DIR EVENT_FILE
PB_DIR holds the Python modules protoc made from proto/tensorboard/*.proto. Reads the TFRecord
framing with its own CRC-32C (bitwise, not resnorm's table-driven one), checks both CRCs of every
record, parses each Event with Google's protobuf runtime, and prints what it found as JSON.
"""

import json
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def histo_of(h):
    return {
        "min": h.min, "max": h.max, "num": h.num, "sum": h.sum, "sum_squares": h.sum_squares,
        "bucket_limit": list(h.bucket_limit), "bucket": list(h.bucket),
    }


def event_of(ev):
    out = {"wall_time": ev.wall_time, "step": ev.step, "what": ev.WhichOneof("what")}
    if out["what"] == "file_version":
        out["file_version"] = ev.file_version
    elif out["what"] == "summary":
        values = []
        for v in ev.summary.value:
            kind = v.WhichOneof("value")
            item = {"tag": v.tag, "kind": kind}
            if kind == "simple_value":
                item["simple_value"] = v.simple_value
            elif kind == "histo":
                item["histo"] = histo_of(v.histo)
            values.append(item)
        out["values"] = values
    return out


def main():
    sys.path.insert(0, sys.argv[1])
    from tensorboard import event_pb2  # noqa: E402 (generated into PB_DIR at test time)

    data = open(sys.argv[2], "rb").read()
    records = []
    off = 0
    while off + 12 <= len(data):
        header = data[off:off + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[off + 8:off + 12])
        rec = {"offset": off, "length": length, "lengthCrcOk": masked(header) == length_crc}
        records.append(rec)
        if not rec["lengthCrcOk"] or off + 12 + length + 4 > len(data):
            break  # the length cannot be trusted, or the record is cut short: nothing after it can be framed
        body = data[off + 12:off + 12 + length]
        (data_crc,) = struct.unpack("<I", data[off + 12 + length:off + 16 + length])
        rec["dataCrcOk"] = masked(body) == data_crc
        try:
            ev = event_pb2.Event()
            ev.ParseFromString(body)
            rec["event"] = event_of(ev)
            # Every byte accounted for: no unknown field, nothing encoded another way than protobuf would.
            rec["reserializedEqual"] = ev.SerializeToString(deterministic=True) == body
        except Exception as e:  # a damaged record: say so, keep reading
            rec["error"] = str(e)
        off += 16 + length
    result = {"crcCheck": crc32c(b"123456789"), "size": len(data), "consumed": off, "records": records}
    print(json.dumps(result, allow_nan=False))


main()
