"""What the e2e scripts' checkers (python heredocs, run with PYTHONPATH
set to this directory) share: one "PASS: ..." or "FAIL: ..." line per
check, which tally in e2e_lib.sh counts, and the hunt's ndjson outputs."""

import json


def check(ok, what):
    """Prints one check's line."""
    print(("PASS: " if ok else "FAIL: ") + what)


def load_ndjson(tmp, name):
    """The findings nfhunt -o ndjson wrote into TMP/NAME.ndjson."""
    with open("%s/%s.ndjson" % (tmp, name)) as f:
        return [json.loads(line) for line in f if line.strip()]
