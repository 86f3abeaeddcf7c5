#!/usr/bin/env python3
"""Verdicts of pySigma on rules written for a test, for
TestPySigmaTimeModifiers and TestPySigmaExpand: each rule document of one
YAML file is converted and run as verdicts.py converts and runs SigmaHQ's
rules, over the events the Go test writes with -reference-events. A
pipeline file, when given, runs first, as pipelines.py runs one.

    cd tests/conformance/reference && /tmp/sigvenv/bin/python rules.py /tmp/events.jsonl \\
        ../testdata/timeparts.yml > ../testdata/pysigma_timeparts.tsv
    /tmp/sigvenv/bin/python rules.py /tmp/events.jsonl ../testdata/expand.yml \\
        ../testdata/pipelines/placeholders.yml > ../testdata/pysigma_expand.tsv

Output as verdicts.py's, one line per rule in file order, by the file name
and the rule's position in it (timeparts.yml#1).
"""

import os
import sys

import yaml

import pipelines
import verdicts


def main():
    events_path, path = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        pipelines.with_user_pipeline(sys.argv[3])
    conn, order = verdicts.connect(events_path)
    with open(path) as f:
        docs = list(yaml.safe_load_all(f))
    for i, doc in enumerate(docs):
        status, out = verdicts.verdict(conn, yaml.safe_dump(doc))
        if status == "ok":
            out = ",".join(sorted(out, key=order.get))
        print(f"{os.path.basename(path)}#{i + 1}\t{doc['id']}\t{status}\t{out}")


if __name__ == "__main__":
    main()
