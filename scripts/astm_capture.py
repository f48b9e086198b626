"""ASTM E1381/E1394 conversation between two independent implementations:
the PyPI `astm` package's server (`astm.server.Server`) and client
(`astm.client.Client`), on loopback. Run by `scripts/astm-capture`, which
records it; the records carry planted canary patient data (names, ids,
birth date, result values) that Ward must never keep.

Usage: astm_capture.py server PORT | client PORT
"""

import sys

# astm 0.5.0 imports `collections.Iterable` (gone since Python 3.10).
import collections
import collections.abc

for _name in ("Iterable", "Mapping", "MutableMapping", "Sequence", "Callable"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from astm.client import Client  # noqa: E402
from astm.server import BaseRecordsDispatcher, Server  # noqa: E402

# The LIS listens on 127.0.0.2; the instrument connects from 127.0.0.1 (the
# kernel's source for the loopback net), so the two are apart in the capture.
HOST = "127.0.0.2"

HEADER = ["H", [[], ["", "&"]], None, None,
          ["Cobalyzer 9000", "4.2.1", "SN-88123"],
          None, None, None, None, "LIS-HOST", None, "P", "LIS2-A2",
          "20240101120000"]
PATIENT = ["P", "1", "PRAC-CANARY-1", "PID-CANARY-7731", None,
           ["ZEBULON", "QUIXANDER"], None, "19070413", "M"]
ORDER = ["O", "1", "SPEC-CANARY-42", None, [None, None, None, "GLU"], "R"]
RESULT1 = ["R", "1", [None, None, None, "GLU"], "987.654", "mg/dL", None,
           "H", None, "F"]
RESULT2 = ["R", "2", [None, None, None, "K"], "CANARYVALUE-31", "mmol/L",
           None, "N", None, "F"]
COMMENT = ["C", "1", "I", "CANARYCOMMENT HEMOLYZED", "G"]
TERMINATOR = ["L", "1", "N"]


def emitter():
    ok = yield HEADER
    assert ok, "header rejected"
    for record in (PATIENT, ORDER, RESULT1, RESULT2, COMMENT, TERMINATOR):
        yield record


class Quiet(BaseRecordsDispatcher):
    """Accepts every record and prints nothing."""

    def __call__(self, message):
        pass


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "server":
        Server(HOST, port, dispatcher=Quiet).serve_forever()
    elif mode == "client":
        # One record per frame (the default), then the same message again cut
        # into 64-byte frames (intermediate frames end with ETB).
        for chunk in (None, 64):
            Client(emitter, HOST, port, chunk_size=chunk).run(timeout=1)
    else:
        sys.exit("usage: astm_capture.py server PORT | client PORT")


if __name__ == "__main__":
    main()
