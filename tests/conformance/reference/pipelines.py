#!/usr/bin/env python3
"""Verdicts of pySigma with a user pipeline, for TestPySigmaPipeline.

The rules of one SigmaHQ folder are converted as verdicts.py converts them,
with the pipeline of a YAML file (pySigma's own ProcessingPipeline.from_yaml)
run before the Sysmon, Windows audit and log-source pipelines, as a user
pipeline of priority 10 runs before webshellbeat's built-in ones, and run
over the events the Go test writes with -reference-events.

    cd tests/conformance/reference && /tmp/sigvenv/bin/python pipelines.py /tmp/events.jsonl \\
        ../../../../shared/data/SigmaHQ-sigma rules/windows/process_creation \\
        ../testdata/pipelines/tuning.yml > ../testdata/pysigma_pipeline.tsv

Output as verdicts.py's, one line per rule file of the folder, sorted.
"""

import os
import re
import sys

from sigma.collection import SigmaCollection
from sigma.processing.pipeline import ProcessingPipeline

import verdicts


def with_user_pipeline(pipeline_path):
    """Makes verdicts.py run the pipeline of the file before its own."""
    with open(pipeline_path) as f:
        text = f.read()
    plain = verdicts.pipelines_for

    def with_user(logsource):
        # The logsource after the user pipeline (change_logsource) chooses
        # the pipelines after it, as in webshellbeat.
        probe = SigmaCollection.from_dicts(
            [{"title": "probe", "logsource": logsource.to_dict(), "detection": {"s": {"a": 1}, "condition": "s"}}]
        ).rules[0]
        ProcessingPipeline.from_yaml(text).apply(probe)
        # A new pipeline per conversion: pySigma's items keep state.
        pipelines, skip = plain(probe.logsource)
        if pipelines:
            pipelines = [ProcessingPipeline.from_yaml(text) + p for p in pipelines]
        return pipelines, skip

    verdicts.pipelines_for = with_user


def main():
    events_path, root, folder, pipeline_path = sys.argv[1:5]
    with_user_pipeline(pipeline_path)
    conn, order = verdicts.connect(events_path)
    names = sorted(n for n in os.listdir(os.path.join(root, folder)) if n.endswith(".yml"))
    for name in names:
        with open(os.path.join(root, folder, name)) as f:
            rule = f.read()
        rid = re.search(r"^id:\s*(\S+)", rule, re.M).group(1)
        status, out = verdicts.verdict(conn, rule)
        if status == "ok":
            out = ",".join(sorted(out, key=order.get))
        print(f"{folder}/{name}\t{rid}\t{status}\t{out}")


if __name__ == "__main__":
    main()
