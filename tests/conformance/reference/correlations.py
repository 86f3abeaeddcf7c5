#!/usr/bin/env python3
"""Correlation alerts of a reference Sigma implementation, for
TestPySigmaCorrelations.

pySigma's SQLite backend compiles each correlation rule of a file of
testdata/correlations/ (with its base rules, the Sysmon and Windows
log-source pipelines as in verdicts.py, after the file's own user pipeline
when pipelines/ holds one of its name) into one SQL query, and SQLite runs
it over the Windows events of the shared samples, which the Go test writes
with -correlation-events (each row with its time as `timestamp`).

The backend's alerts are one per qualifying window: for each event of a
group, the window of the timespan that ends at it, whenever the condition
holds there. So a burst past a threshold gives an alert per event. An
extended condition's alternative with "not" looks forward instead: the
window of the timespan that starts at each event of its rules, and the
alert's time (occurrence_time) is that window's end. The test
compares per group: that webshellbeat alerts the same groups, first at the
same time, with the events of that window, and every later alert at a time
where the reference has one too.

    go test ./tests/conformance -run TestPySigmaCorrelations -correlation-events /tmp/cevents.jsonl
    /tmp/sigvenv/bin/python tests/conformance/reference/correlations.py /tmp/cevents.jsonl \\
        tests/conformance/testdata/correlations > tests/conformance/testdata/pysigma_correlations.tsv

Output, one line per group of each correlation rule that alerts, by file,
rule (in file order) and first alert: the file name, the rule id, the group
(JSON, as the backend gives it: text values lowered), the ends of its
windows that alert (milliseconds since the epoch, in time order), and the
keys of the events of the first of them.
"""

import json
import os
import sys

import yaml
from sigma.backends.sqlite import sqliteBackend
from sigma.backends.sqlite.correlation import digest
from sigma.collection import SigmaCollection
from sigma.pipelines.sysmon.sysmon import sysmon_pipeline
from sigma.pipelines.windows.windows import windows_logsource_pipeline
from sigma.processing.pipeline import ProcessingPipeline

import verdicts


def prefix(rule):
    """The name prefix of the backend's stages for a correlation rule (its
    CorrelationCompiler's digest of the rule, 12 hex digits)."""
    return "WITH sigma_" + digest(rule, 12) + "_"


def user_pipeline(path):
    """The user pipeline of a rule file, pipelines/<its name> beside it,
    which runs before the others as a user pipeline runs before
    webshellbeat's built-in ones; an empty pipeline when there is none."""
    name = os.path.join(os.path.dirname(path), "pipelines", os.path.basename(path))
    if not os.path.exists(name):
        return ProcessingPipeline()
    with open(name) as f:
        return ProcessingPipeline.from_yaml(f.read())


def alerts(conn, path):
    """The alerts of each correlation rule of the file, converted with the
    documents before it only: pySigma writes no query for a correlation
    that a later one names, even with generate: true."""
    with open(path) as f:
        docs = list(yaml.safe_load_all(f))
    for i, doc in enumerate(docs):
        if "correlation" not in doc:
            continue
        coll = SigmaCollection.from_dicts(docs[: i + 1])
        rule = coll.rules[-1]
        backend = sqliteBackend(
            processing_pipeline=user_pipeline(path) + sysmon_pipeline() + windows_logsource_pipeline(),
            fulltext_field=verdicts.FULLTEXT,
            timestamp_field="timestamp",
            event_id_field="_key",
        )
        sql = [q for q in backend.convert(coll) if q.startswith(prefix(rule))]
        if len(sql) != 1:
            sys.exit(f"{path}: {rule.title}: {len(sql)} queries")
        groups = {}
        for _, keys, end, _, _, _, _, _, events, _ in conn.execute(sql[0]):
            g = groups.setdefault(keys, {"ends": [], "first": None})
            g["ends"].append(round(end * 1000))
            if g["first"] is None:
                g["first"] = sorted(e.split(":", 1)[1] for e in json.loads(events))
        for keys, g in groups.items():
            yield str(rule.id), keys, g


def main():
    events_path, folder = sys.argv[1], sys.argv[2]
    conn, _ = verdicts.connect(events_path)
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".yml"):
            continue
        for rid, keys, g in alerts(conn, os.path.join(folder, name)):
            ends = ",".join(str(e) for e in sorted(g["ends"]))
            print(f"{name}\t{rid}\t{keys}\t{ends}\t{','.join(g['first'])}")


if __name__ == "__main__":
    main()
