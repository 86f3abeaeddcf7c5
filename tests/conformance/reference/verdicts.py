#!/usr/bin/env python3
"""Verdicts of a reference Sigma implementation, for TestPySigmaReference.

pySigma converts each rule to SQL with its SQLite backend (the backend that
Zircolite runs) and its Sysmon and Windows pipelines, and SQLite runs the query over the
events as Zircolite does: one table, a TEXT COLLATE NOCASE column per field,
a REGEXP function with Python's re, and a column of all of an event's values
for keyword searches. The rule's verdict is the events that its queries
matched:

  - converted with the Sysmon pipeline (a category becomes Sysmon's channel and event
    id) and the Windows log-source pipeline (a service becomes its channel;
    the PowerShell categories their event ids);
  - for process_creation and registry rules, also converted with the Windows audit
    pipeline (Security 4688 and 4657, Image as NewProcessName...), since
    webshellbeat runs those rules on both kinds of events;
  - a Linux rule of a Sysmon category, with linux_sysmon_pipeline below
    (Sysmon for Linux's channel and the category's event id);
  - a Linux auditd rule, with auditd_pipeline below: over the audit
    records, each record one row, with its own field names (type, a0,
    name, ...), as Zircolite reads audit.log;
  - a webserver rule, with web_pipelines below: over the access log
    lines, each a row of W3C-named fields.

The events are the flat, Sigma-named documents that the Go test writes with
-reference-events; an audit event is several rows (one per record) with
one key, and matches when one of its rows does.

    python3 -m venv /tmp/sigvenv
    /tmp/sigvenv/bin/pip install -r tests/conformance/reference/requirements.txt
    # these two ask for pysigma<2, but import and run with 2.0.1:
    /tmp/sigvenv/bin/pip install --no-deps pysigma-pipeline-sysmon==2.0.0 pysigma-pipeline-windows==2.0.1
    go test ./tests/conformance -run TestPySigmaReference -reference-events /tmp/events.jsonl
    /tmp/sigvenv/bin/python tests/conformance/reference/verdicts.py /tmp/events.jsonl \
        ../shared/data/SigmaHQ-sigma > tests/conformance/testdata/pysigma_sqlite.tsv

With WEBSHELLBEAT_PYSIGMA naming that python, TestPySigmaReferenceCurrent
runs this script and requires the held file to be what it writes (CI does).

Output, one line per rule file of FOLDERS, sorted by path: the path under
the SigmaHQ folder, the rule id, then "ok" and the keys of the matched
events (comma-separated, in event order); or "skip" and why the rule is not
compared (no event here can match it: another product or service, a
category no Sysmon event has); or "error" and why pySigma refused it.
"""

import json
import os
import re
import sqlite3
import sys

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import AddConditionTransformation, FieldMappingTransformation
from sigma.pipelines.sysmon.sysmon import sysmon_generic_logsource_eventid_mapping, sysmon_pipeline
from sigma.pipelines.windows.windows import (
    generic_logsource_to_windows_audit_event_mapping,
    windows_audit_pipeline,
    windows_generic_category_channel_mapping,
    windows_logsource_pipeline,
)

# The rules compared (as TestPySigmaReference's referenceFolders).
FOLDERS = ["rules/windows", "rules/linux", "rules/web", "rules-emerging-threats", "rules-threat-hunting/windows", "rules-threat-hunting/linux"]


# The column of all the event's values that keyword searches read (the
# backend's fulltext_field).
FULLTEXT = "_fulltext"

# The column that marks an audit record's row ("audit") and an access log
# line's ("web"); the Go test writes it.
LOG = "_log"


def regexp(pattern, value):
    if value is None:
        return False
    return re.search(pattern, value) is not None


def load(conn, events):
    # SQLite's names ignore case: Sysmon's SourceProcessGUID (event 10) and
    # SourceProcessGuid (event 8) are one column, as for Zircolite.
    columns = {}
    for ev in events:
        for k in ev:
            if k != "_key":
                columns.setdefault(k.lower(), k)
    cols = ", ".join(f"`{c}` TEXT COLLATE NOCASE" for c in sorted(columns.values()))
    conn.execute(f"CREATE TABLE logs (_key TEXT, {FULLTEXT} TEXT COLLATE NOCASE, {cols})")
    for ev in events:
        keys = list(ev)
        names = ", ".join(f"`{columns.get(k.lower(), k)}`" for k in keys)
        marks = ", ".join("?" for _ in keys)
        values = [str(ev[k]) for k in keys]
        # Keyword searches read every value of the event: one per line.
        # The web rows' other readings (_target, _ua_decoded) are values
        # of the event too.
        text = "\n".join(str(v) for k, v in ev.items() if k not in ("_key", LOG))
        conn.execute(f"INSERT INTO logs ({names}, {FULLTEXT}) VALUES ({marks}, ?)", values + [text])


def pipelines_for(logsource):
    """The pipelines a rule is converted with, or a reason to skip it."""
    cat = logsource.category
    if cat == "webserver":
        return web_pipelines(), None
    if logsource.product == "linux" and logsource.service == "auditd":
        return [auditd_pipeline()], None
    if logsource.product == "linux":
        if logsource.service not in (None, "sysmon") or cat not in sysmon_generic_logsource_eventid_mapping:
            return None, "not a Sysmon for Linux or audit event (the only Linux events here)"
        return [linux_sysmon_pipeline()], None
    if logsource.product is None:
        what = f"category {cat}" if cat else f"service {logsource.service}"
        return None, f"{what} of no product: not compared (no proxy, DNS, firewall or antivirus logs here; error logs are not read as rows)"
    if logsource.product != "windows":
        return None, f"product {logsource.product} is not Windows or Linux"
    if cat and cat not in sysmon_generic_logsource_eventid_mapping and cat not in windows_generic_category_channel_mapping:
        return None, f"category {cat} is no Windows event"
    pipelines = [sysmon_pipeline() + windows_logsource_pipeline()]
    if cat in generic_logsource_to_windows_audit_event_mapping:
        pipelines.append(windows_audit_pipeline() + windows_logsource_pipeline())
    return pipelines, None


def linux_sysmon_pipeline():
    """Sysmon for Linux, as the Sigma taxonomy names it: a linux category is
    the Sysmon event id of that category, in Sysmon for Linux's channel."""
    items = []
    for cat, eid in sysmon_generic_logsource_eventid_mapping.items():
        items.append(ProcessingItem(
            identifier=f"linux_sysmon_{cat}",
            transformation=AddConditionTransformation({"Channel": "Linux-Sysmon/Operational", "EventID": eid}),
            rule_conditions=[LogsourceCondition(category=cat, product="linux")],
        ))
    return ProcessingPipeline(name="Sysmon for Linux", priority=10, items=items)


def auditd_pipeline():
    """auditd rules read the audit records' own fields: only a condition
    that the row is an audit record (each record is a row)."""
    return ProcessingPipeline(name="auditd records", priority=10, items=[ProcessingItem(
        identifier="auditd_records",
        transformation=AddConditionTransformation({LOG: "audit"}),
        rule_conditions=[LogsourceCondition(product="linux", service="auditd")],
    )])


def web_pipelines():
    """webserver rules run over the access log rows (the W3C names of the
    Sigma taxonomy, nothing decoded), and two fields are read two ways,
    mapped as pySigma maps a field to a list (a match holds when it holds on
    one of them): cs-uri-query as the query alone (IIS's field) and as the
    whole request target, path and query (_target: most SigmaHQ web rules
    take it so); the user agent as IIS writes it (spaces as '+') and with
    its '+' read as spaces (_ua_decoded: as it was sent)."""
    return [ProcessingPipeline(name="web rows", priority=10, items=[
        ProcessingItem(
            identifier="web_rows",
            transformation=AddConditionTransformation({LOG: "web"}),
            rule_conditions=[LogsourceCondition(category="webserver")],
        ),
        ProcessingItem(
            identifier="web_readings",
            transformation=FieldMappingTransformation({
                "cs-uri-query": ["cs-uri-query", "_target"],
                "cs-user-agent": ["cs-user-agent", "_ua_decoded"],
            }),
            rule_conditions=[LogsourceCondition(category="webserver")],
        ),
    ])]


def verdict(conn, text):
    pipelines, skip = pipelines_for(SigmaCollection.from_yaml(text).rules[0].logsource)
    if skip:
        return "skip", skip
    matched = set()
    for i, pipeline in enumerate(pipelines):
        try:
            backend = sqliteBackend(processing_pipeline=pipeline, fulltext_field=FULLTEXT)
            queries = backend.convert(SigmaCollection.from_yaml(text))
        except Exception as e:
            if i > 0:  # a field with no Security counterpart: no 4657 query
                continue
            return "error", type(e).__name__ + ": " + " ".join(str(e).split())
        status, out = run(conn, queries)
        if status != "ok":
            return status, out
        matched |= out
    return "ok", matched


def run(conn, queries):
    matched = set()
    for q in queries:
        sql = q.replace("SELECT *", "SELECT _key", 1)
        while True:
            try:
                matched.update(r[0] for r in conn.execute(sql))
                break
            except sqlite3.Error as e:
                # A field no event has is a column of NULLs, as Zircolite's
                # runtime adds it (ensure_fields).
                m = re.match(r"no such column: (.+)", str(e))
                if not m:
                    return "error", "sqlite: " + str(e)
                conn.execute(f"ALTER TABLE logs ADD COLUMN `{m.group(1)}` TEXT COLLATE NOCASE")
    return "ok", matched


def connect(events_path):
    """An in-memory SQLite database of the events of the JSON-lines file,
    and each event key's place in it."""
    with open(events_path) as f:
        events = [json.loads(line) for line in f]
    conn = sqlite3.connect(":memory:")
    conn.create_function("regexp", 2, regexp, deterministic=True)
    load(conn, events)
    return conn, {ev["_key"]: i for i, ev in enumerate(events)}


def main():
    events_path, root = sys.argv[1], sys.argv[2]
    conn, order = connect(events_path)
    files = []
    for folder in FOLDERS:
        for dirpath, _, names in os.walk(os.path.join(root, folder)):
            files += [os.path.join(dirpath, n) for n in names if n.endswith(".yml")]
    for path in sorted(files):
        name = os.path.relpath(path, root)
        with open(path) as f:
            text = f.read()
        m = re.search(r"^id:\s*(\S+)", text, re.M)
        rid = m.group(1) if m else ""
        status, out = verdict(conn, text)
        if status == "ok":
            out = ",".join(sorted(out, key=order.get))
        print(f"{name}\t{rid}\t{status}\t{out}")


if __name__ == "__main__":
    main()
