#!/usr/bin/env python3
"""Verdicts of pySigma's filters, for TestPySigmaFilters.

Each SigmaHQ rule named on the command line is loaded with the filter rules
of testdata/filters.yml in one collection, which applies the filters that
cover it (pySigma ANDs a filter's condition to the rule's), then converted
and run as verdicts.py does, over the events the Go test writes with
-reference-events.

    go test ./tests/conformance -run TestPySigmaReference -reference-events /tmp/events.jsonl
    cd tests/conformance/reference && /tmp/sigvenv/bin/python filters.py /tmp/events.jsonl \\
        ../../../../shared/data/SigmaHQ-sigma ../testdata/filters.yml RULE... > ../testdata/pysigma_filters.tsv

Output as verdicts.py's, one line per rule in the order given.
"""

import os
import re
import sys

import verdicts


def main():
    events_path, root, filters_path, rules = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    conn, order = verdicts.connect(events_path)
    with open(filters_path) as f:
        filters = f.read()
    for name in rules:
        with open(os.path.join(root, name)) as f:
            text = f.read()
        rid = re.search(r"^id:\s*(\S+)", text, re.M).group(1)
        status, out = verdicts.verdict(conn, text + "\n---\n" + filters)
        if status == "ok":
            out = ",".join(sorted(out, key=order.get))
        print(f"{name}\t{rid}\t{status}\t{out}")


if __name__ == "__main__":
    main()
