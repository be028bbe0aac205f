#!/usr/bin/env python3
"""Airlock's PII engine against Microsoft Presidio's pattern recognizers.

Both engines get the same labelled corpus (corpus.py): Airlock the JSON
documents, through one `airlock pii redact --format jsonl` process;
Presidio the flat text rendering of each document, through
`AnalyzerEngine.analyze(text, language="en")` with the NoOp NLP engine
(pattern recognizers only, no NER) and its default score threshold (0).

Scoring, per sample (each holds one labelled value):
  PII found     Airlock: one token of the right kind ([KIND_N]) stands
                where the value was (the value is gone, the text around it
                is kept). Presidio: a result of the mapped entity type
                covers the value's span. Kinds Presidio has no recognizer
                for are "n/a".
  decoy survives Airlock: the value is still in the output verbatim.
                Presidio: no result of any entity type overlaps it.

Throughput: input bytes per second of wall time. Airlock's figure for the
labelled corpus is the whole CLI process (start-up included); a second
figure runs `--format json` over one large document of customer records.
Everything runs pinned to one core when the platform allows it.

Figures are reported, not asserted: the exit status is non-zero only when
something fails to run.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus as corpus_mod  # noqa: E402

PRESIDIO_ENTITY = {
    "EMAIL": "EMAIL_ADDRESS",
    "PHONE": "PHONE_NUMBER",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP": "IP_ADDRESS",
}
ROW_KINDS = corpus_mod.KINDS + [corpus_mod.OTHER]
# Timing runs stop repeating once they have taken this long in total.
REPEAT_BUDGET_S = 60.0
TOKEN_RE = re.compile(r"\[([A-Z][A-Z0-9_]*)_([0-9]+)\]")


class Failure(Exception):
    pass


# ---------------------------------------------------------------------------
# JSON helpers


def leaves(value, path=()):
    """(path, leaf) for every string and number in a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))
    elif isinstance(value, str):
        yield path, value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, json.dumps(value)


def at(value, path):
    for step in path:
        value = value[step]
    return value


def leaf_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# ---------------------------------------------------------------------------
# Airlock


def pinned(cmd: list[str], core: int | None) -> list[str]:
    if core is not None and shutil.which("taskset"):
        return ["taskset", "-c", str(core)] + cmd
    return cmd


def run_airlock(binary: str, fmt: str, src: Path, dst: Path, core: int | None, report: bool = False):
    cmd = [binary, "pii", "redact", "--format", fmt] + (["--report"] if report else [])
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        start = time.perf_counter()
        proc = subprocess.run(pinned(cmd, core), stdin=fin, stdout=fout, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[:2000]}")
    return elapsed, proc.stderr.decode(errors="replace")


def score_airlock(sample: dict, out_doc) -> dict:
    """found/survived for the sample's label, plus what hit it."""
    label = sample["labels"][0]
    value, kind = label["value"], label["kind"]
    doc = sample["doc"]
    path = next((p for p, leaf in leaves(doc) if value in leaf), None)
    if path is None:
        raise Failure(f"label value {value!r} not in its document")
    try:
        out_leaf = leaf_text(at(out_doc, path))
    except (KeyError, IndexError, TypeError):
        raise Failure(f"Airlock output changed the document's structure: {json.dumps(out_doc)[:300]}")
    in_leaf = leaf_text(at(doc, path))
    tokens = list(TOKEN_RE.finditer(out_leaf))
    elsewhere = sum(1 for p, leaf in leaves(out_doc) if p != path and TOKEN_RE.search(leaf))
    result = {"hit_kinds": sorted({m.group(1) for m in tokens}), "extra": elsewhere > 0, "partial": False,
              "masked_as": None}
    if label["pii"]:
        start = in_leaf.find(value)
        before, after = in_leaf[:start], in_leaf[start + len(value):]
        covering = [
            m.group(1) for m in tokens
            if before.startswith(out_leaf[: m.start()]) and after.endswith(out_leaf[m.end():])
        ]
        result["found"] = kind in covering
        result["masked_as"] = kind if kind in covering else (covering[0] if covering else None)
        result["partial"] = not result["found"] and value not in out_leaf and any(m.group(1) == kind for m in tokens)
        result["extra"] = result["extra"] or len(tokens) > 1
    else:
        result["found"] = value not in out_leaf  # "found" a decoy = flagged it
    return result


# ---------------------------------------------------------------------------
# Presidio


def presidio_engine():
    try:
        import tldextract
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
    except ImportError as e:
        raise Failure(f"presidio-analyzer is not importable ({e}); run scripts/bench-pii.sh") from e
    # The e-mail recognizer asks tldextract for the public-suffix list, which
    # it would fetch over the network first; use the snapshot it ships.
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}])
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    recognizers = sorted(type(r).__name__ for r in analyzer.registry.get_recognizers(language="en", all_fields=True))
    return analyzer, recognizers


def presidio_version() -> str:
    try:
        from importlib.metadata import version

        return version("presidio-analyzer")
    except Exception:
        return "?"


def score_presidio(sample: dict, results) -> dict:
    label = sample["labels"][0]
    value, kind, text = label["value"], label["kind"], sample["text"]
    start = text.find(value)
    end = start + len(value)
    overlapping = [r for r in results if r.start < end and r.end > start]
    result = {
        "hit_kinds": sorted({r.entity_type for r in overlapping}),
        "extra": any(not (r.start < end and r.end > start) for r in results),
        "partial": False,
        "masked_as": None,
    }
    if label["pii"]:
        entity = PRESIDIO_ENTITY.get(kind)
        covering = [r.entity_type for r in results if r.start <= start and r.end >= end]
        result["masked_as"] = entity if entity in covering else (covering[0] if covering else None)
        if entity is None:
            result["found"] = None
        else:
            result["found"] = any(r.entity_type == entity and r.start <= start and r.end >= end for r in results)
            result["partial"] = not result["found"] and any(r.entity_type == entity for r in overlapping)
    else:
        result["found"] = bool(overlapping)
    return result


# ---------------------------------------------------------------------------
# Aggregation and printing


def pct(num, den):
    return None if not den else 100.0 * num / den


def fmt_pct(x):
    return "n/a" if x is None else f"{x:.1f}%"


def aggregate(samples, airlock, presidio):
    rows = {}
    classes = {}
    for s, a, p in zip(samples, airlock, presidio):
        label = s["labels"][0]
        kind, pii, cls = label["kind"], label["pii"], label["class"]
        row = rows.setdefault(kind, collections.Counter())
        c = classes.setdefault((kind, pii, cls), {
            "kind": kind, "pii": pii, "class": cls, "n": 0, "airlock": 0, "presidio": 0,
            "presidio_na": False, "airlock_examples": [], "presidio_examples": [],
            "airlock_hits": collections.Counter(), "presidio_hits": collections.Counter(),
        })
        c["n"] += 1
        if pii:
            row["pii"] += 1
            row["airlock_found"] += bool(a["found"])
            row["airlock_masked"] += a["masked_as"] is not None
            row["presidio_masked"] += p["masked_as"] is not None
            if a["masked_as"] not in (None, kind):
                row["airlock_as:" + a["masked_as"]] += 1
            if p["masked_as"] is not None and p["masked_as"] != PRESIDIO_ENTITY.get(kind):
                row["presidio_as:" + p["masked_as"]] += 1
            row["airlock_partial"] += a["partial"]
            ok_a = a["found"]
            if p["found"] is None:
                row["presidio_na"] += 1
                c["presidio_na"] = True
                ok_p = None
            else:
                row["presidio_found"] += p["found"]
                row["presidio_partial"] += p["partial"]
                ok_p = p["found"]
        else:
            row["decoys"] += 1
            ok_a = not a["found"]
            ok_p = not p["found"]
            row["airlock_survived"] += ok_a
            row["presidio_survived"] += ok_p
        c["airlock"] += bool(ok_a)
        c["presidio"] += bool(ok_p)
        if not ok_a:
            if len(c["airlock_examples"]) < 3 and label["value"] not in c["airlock_examples"]:
                c["airlock_examples"].append(label["value"])
            for k in a["hit_kinds"]:
                c["airlock_hits"][k] += 1
        if ok_p is False:
            if len(c["presidio_examples"]) < 3 and label["value"] not in c["presidio_examples"]:
                c["presidio_examples"].append(label["value"])
            for k in p["hit_kinds"]:
                c["presidio_hits"][k] += 1
        row["airlock_extra"] += a["extra"]
        row["presidio_extra"] += p["extra"]
    return rows, classes


def kind_table(rows):
    out = []
    for kind in ROW_KINDS:
        r = rows.get(kind, collections.Counter())
        out.append({
            "kind": kind,
            "samples": r["pii"],
            "airlock_recall": pct(r["airlock_found"], r["pii"]),
            "presidio_recall": None if r["presidio_na"] else pct(r["presidio_found"], r["pii"]),
            "decoys": r["decoys"],
            "airlock_decoy_survival": pct(r["airlock_survived"], r["decoys"]),
            "presidio_decoy_survival": pct(r["presidio_survived"], r["decoys"]),
            "airlock_partial": r["airlock_partial"],
            "presidio_partial": r["presidio_partial"],
            "airlock_masked_any": pct(r["airlock_masked"], r["pii"]),
            "presidio_masked_any": pct(r["presidio_masked"], r["pii"]),
            "airlock_masked_as": {k[11:]: v for k, v in r.items() if k.startswith("airlock_as:")},
            "presidio_masked_as": {k[12:]: v for k, v in r.items() if k.startswith("presidio_as:")},
        })
    total = collections.Counter()
    shared = collections.Counter()
    for kind, r in rows.items():
        total.update(r)
        if kind in PRESIDIO_ENTITY:
            shared.update(r)
    out.append({
        "kind": "ALL (6 shared kinds)", "samples": shared["pii"],
        "airlock_recall": pct(shared["airlock_found"], shared["pii"]),
        "presidio_recall": pct(shared["presidio_found"], shared["pii"]),
        "decoys": shared["decoys"],
        "airlock_decoy_survival": pct(shared["airlock_survived"], shared["decoys"]),
        "presidio_decoy_survival": pct(shared["presidio_survived"], shared["decoys"]),
    })
    out.append({
        "kind": "ALL", "samples": total["pii"],
        "airlock_recall": pct(total["airlock_found"], total["pii"]),
        "presidio_recall": None,
        "decoys": total["decoys"],
        "airlock_decoy_survival": pct(total["airlock_survived"], total["decoys"]),
        "presidio_decoy_survival": pct(total["presidio_survived"], total["decoys"]),
    })
    return out


def print_table(headers, rows, aligns):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(str(c).ljust(w) if a == "<" else str(c).rjust(w) for c, w, a in zip(cells, widths, aligns))

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def ratio(x):
    return f"{x:.2f}x" if x < 10 else f"{x:.0f}x"


def mb(n):
    return n / 1e6


# ---------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500, help="PII samples (and decoys) per kind; default 500")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--airlock", default=str(HERE / ".." / ".." / "target" / "release" / "airlock"),
                    help="airlock binary (default ../../target/release/airlock from this script)")
    ap.add_argument("--workdir", default=str(HERE / "out"), help="where generated files go (default bench/pii/out)")
    ap.add_argument("--big-mb", type=float, default=32.0, help="size of the large JSON document (0 to skip)")
    ap.add_argument("--repeat", type=int, default=3, help="Airlock timing runs, fewer if they take over a minute (median reported)")
    ap.add_argument("--core", type=int, default=0, help="CPU core to pin to (-1: do not pin)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead of tables")
    ap.add_argument("--details", action=argparse.BooleanOptionalAction, default=True,
                    help="per-format breakdown of misses and flagged decoys (default on)")
    args = ap.parse_args()

    try:
        return run(args)
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def run(args) -> int:
    core = None if args.core < 0 else args.core
    if core is not None and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {core})  # Presidio, and the CLI it starts
        except OSError:
            core = None
    binary = os.path.abspath(args.airlock)
    if not os.access(binary, os.X_OK):
        raise Failure(f"no airlock binary at {binary} (cargo build --release -p airlock-cli)")
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)

    def log(*parts):
        print(*parts, file=sys.stderr, flush=True)

    # -- corpus -------------------------------------------------------------
    samples = corpus_mod.Corpus(args.seed).samples(args.n)
    problems = corpus_mod.self_check(samples)
    if problems:
        raise Failure("corpus self-check failed: " + "; ".join(problems[:5]))
    corpus_path = work / "corpus.jsonl"
    docs_path = work / "airlock-in.jsonl"
    with open(corpus_path, "w", encoding="utf-8") as f:
        for s in samples:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    with open(docs_path, "w", encoding="utf-8") as f:
        for s in samples:
            f.write(json.dumps(s["doc"], ensure_ascii=False) + "\n")
    docs_bytes = docs_path.stat().st_size
    text_bytes = sum(len(s["text"].encode()) for s in samples)
    log(f"corpus: {len(samples)} samples, {docs_bytes} bytes of JSONL, {text_bytes} bytes of text")

    # -- Airlock over the labelled corpus -------------------------------------
    out_path = work / "airlock-out.jsonl"
    times = []
    for i in range(max(1, args.repeat)):
        elapsed, _ = run_airlock(binary, "jsonl", docs_path, out_path if i == 0 else work / "airlock-out.tmp", core)
        times.append(elapsed)
        if sum(times) > REPEAT_BUDGET_S:
            break
    (work / "airlock-out.tmp").unlink(missing_ok=True)
    airlock_time = statistics.median(times)
    out_lines = out_path.read_text(encoding="utf-8").splitlines()
    out_lines = [line for line in out_lines if line.strip()]
    if len(out_lines) != len(samples):
        raise Failure(f"airlock wrote {len(out_lines)} lines for {len(samples)} documents")
    airlock_scores = [score_airlock(s, json.loads(line)) for s, line in zip(samples, out_lines)]
    log(f"airlock: {len(samples)} documents in {airlock_time:.3f} s (median of {len(times)})")

    # The same documents as one JSON array: one document, one vault pass.
    array_path = work / "airlock-in-array.json"
    with open(array_path, "w", encoding="utf-8") as f:
        json.dump([s["doc"] for s in samples], f, ensure_ascii=False)
    array_times = []
    for _ in range(max(1, args.repeat)):
        elapsed, _ = run_airlock(binary, "json", array_path, work / "airlock-out.tmp", core)
        array_times.append(elapsed)
        if sum(array_times) > REPEAT_BUDGET_S:
            break
    (work / "airlock-out.tmp").unlink(missing_ok=True)
    array_bytes = array_path.stat().st_size
    array_time = statistics.median(array_times)
    log(f"airlock: the same documents as one JSON array in {array_time:.3f} s")

    # -- Presidio -----------------------------------------------------------
    analyzer, recognizers = presidio_engine()
    analyzer.analyze("warm-up a@b.io 4111 1111 1111 1111", language="en")
    presidio_results = []
    start = time.perf_counter()
    for s in samples:
        presidio_results.append(analyzer.analyze(s["text"], language="en"))
    presidio_time = time.perf_counter() - start
    presidio_scores = [score_presidio(s, r) for s, r in zip(samples, presidio_results)]
    log(f"presidio: {len(samples)} texts in {presidio_time:.3f} s")

    # -- Airlock over large JSON documents: dense and sparse in PII ------------
    def measure_big(path: Path) -> dict:
        out_path = work / "big-out.json"
        times, report = [], ""
        for _ in range(max(1, args.repeat)):
            elapsed, stderr = run_airlock(binary, "json", path, out_path, core, report=True)
            times.append(elapsed)
            report = stderr
            if sum(times) > REPEAT_BUDGET_S:
                break
        out_size = out_path.stat().st_size
        with open(out_path, encoding="utf-8") as f:
            doc = json.load(f)
        if not isinstance(doc, list):
            raise Failure("airlock --format json did not return the array it was given")
        out_path.unlink(missing_ok=True)
        result = {
            "bytes": path.stat().st_size,
            "records": len(doc),
            "seconds": statistics.median(times),
            "runs": times,
            "output_bytes": out_size,
            "report": report.strip(),
        }
        result["mb_per_s"] = mb(result["bytes"]) / result["seconds"]
        log(f"airlock {path.name}: {mb(result['bytes']):.1f} MB in {result['seconds']:.3f} s")
        return result

    big = sparse = None
    if args.big_mb > 0:
        big_path = work / f"big-{args.seed}-{args.big_mb:g}mb.json"
        if not big_path.exists():
            records = corpus_mod.Corpus(args.seed + 1).write_big_json(str(big_path), args.big_mb)
            log(f"wrote {records} customer records to {big_path}")
        big = measure_big(big_path)
        sparse_path = work / f"sparse-{args.seed}-{args.big_mb:g}mb.json"
        if not sparse_path.exists():
            records = corpus_mod.Corpus(args.seed + 2).write_sparse_json(str(sparse_path), args.big_mb)
            log(f"wrote {records} issue records to {sparse_path}")
        sparse = measure_big(sparse_path)

    # -- figures ------------------------------------------------------------
    rows, classes = aggregate(samples, airlock_scores, presidio_scores)
    table = kind_table(rows)
    throughput = {
        "airlock_jsonl": {
            "bytes": docs_bytes, "seconds": airlock_time, "runs": times, "samples": len(samples),
            "mb_per_s": mb(docs_bytes) / airlock_time, "samples_per_s": len(samples) / airlock_time,
        },
        "airlock_json_array": {
            "bytes": array_bytes, "seconds": array_time, "runs": array_times, "samples": len(samples),
            "mb_per_s": mb(array_bytes) / array_time, "samples_per_s": len(samples) / array_time,
        },
        "presidio_text": {
            "bytes": text_bytes, "seconds": presidio_time, "samples": len(samples),
            "mb_per_s": mb(text_bytes) / presidio_time, "samples_per_s": len(samples) / presidio_time,
        },
        "airlock_big_json": big,
        "airlock_sparse_json": sparse,
    }
    throughput["ratio_bytes"] = throughput["airlock_jsonl"]["mb_per_s"] / throughput["presidio_text"]["mb_per_s"]
    throughput["ratio_samples"] = (
        throughput["airlock_jsonl"]["samples_per_s"] / throughput["presidio_text"]["samples_per_s"]
    )
    throughput["ratio_bytes_array"] = (
        throughput["airlock_json_array"]["mb_per_s"] / throughput["presidio_text"]["mb_per_s"]
    )
    throughput["ratio_samples_array"] = (
        throughput["airlock_json_array"]["samples_per_s"] / throughput["presidio_text"]["samples_per_s"]
    )
    extra = {
        "airlock": sum(a["extra"] for a in airlock_scores),
        "presidio": sum(p["extra"] for p in presidio_scores),
    }
    class_rows = []
    for (kind, pii, cls), c in sorted(classes.items(), key=lambda kv: (ROW_KINDS.index(kv[0][0]), not kv[0][1], kv[0][2])):
        class_rows.append({
            "kind": kind, "pii": pii, "class": cls, "samples": c["n"],
            "airlock": pct(c["airlock"], c["n"]),
            "presidio": None if c["presidio_na"] else pct(c["presidio"], c["n"]),
            "airlock_hits": dict(c["airlock_hits"]), "presidio_hits": dict(c["presidio_hits"]),
            "airlock_examples": c["airlock_examples"], "presidio_examples": c["presidio_examples"],
        })
    meta = {
        "seed": args.seed, "n_per_kind": args.n, "samples": len(samples),
        "airlock": binary, "presidio_version": presidio_version(),
        "presidio_nlp_engine": "NoOpNlpEngine (no NER: PERSON/ADDRESS and other NER entities not detected)",
        "presidio_score_threshold": 0, "presidio_recognizers": recognizers,
        "pinned_core": core,
    }

    if args.json:
        print(json.dumps({"meta": meta, "kinds": table, "classes": class_rows, "throughput": throughput,
                          "extra_detections": extra}, indent=2, ensure_ascii=False))
        return 0

    print()
    print(f"PII detection: Airlock vs Presidio {meta['presidio_version']} on the same labelled corpus "
          f"(seed {args.seed}, {args.n} per kind, {len(samples)} samples)")
    print(f"Presidio: default recognizer registry for 'en' ({len(recognizers)} recognizers loaded, none needs "
          f"NLP artifacts), NoOp NLP engine = no NER, score threshold 0.")
    print("recall = PII values fully replaced by the right kind; decoy survival = look-alikes left intact "
          "(Presidio: no result of any type overlapping).")
    print("OTHER = decoys that imitate no kind in particular: dates, timestamps (ISO, SQL, Unix epoch), UUIDs, prices.")
    print()
    headers = ["kind", "samples", "Airlock recall", "Presidio recall", "decoys",
               "Airlock decoy survival", "Presidio decoy survival"]
    print_table(headers, [
        [r["kind"], r["samples"] or "-", fmt_pct(r["airlock_recall"]) if r["samples"] else "-",
         fmt_pct(r["presidio_recall"]) if r["samples"] else "-", r["decoys"] or "-",
         fmt_pct(r["airlock_decoy_survival"]) if r["decoys"] else "-",
         fmt_pct(r["presidio_decoy_survival"]) if r["decoys"] else "-"]
        for r in table
    ], ["<", ">", ">", ">", ">", ">", ">"])
    print()
    print("Masked at all (value fully covered by a detection of any kind; a value under the wrong kind still")
    print("leaves the sandbox protected, but the kind in its token is wrong):")

    def kinds_of(d):
        return ", ".join(f"{k} {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or ""

    print_table(["kind", "Airlock", "Presidio", "Airlock under another kind", "Presidio under another type"], [
        [r["kind"], fmt_pct(r["airlock_masked_any"]), fmt_pct(r["presidio_masked_any"]),
         kinds_of(r["airlock_masked_as"]), kinds_of(r["presidio_masked_as"])]
        for r in table[:len(corpus_mod.KINDS)]
    ], ["<", ">", ">", "<", "<"])
    print()
    a, p = throughput["airlock_jsonl"], throughput["presidio_text"]
    pin = f"pinned to core {core}" if core is not None else "not pinned"
    print(f"Throughput ({pin}):")
    print(f"  Airlock  jsonl, whole CLI process: {mb(a['bytes']):7.2f} MB in {a['seconds']:.3f} s = "
          f"{a['mb_per_s']:8.2f} MB/s, {a['samples_per_s']:9.0f} docs/s (median of {len(a['runs'])})")
    arr = throughput["airlock_json_array"]
    print(f"  Airlock  same docs as one JSON array: {mb(arr['bytes']):7.2f} MB in {arr['seconds']:.3f} s = "
          f"{arr['mb_per_s']:8.2f} MB/s, {arr['samples_per_s']:9.0f} docs/s (median of {len(arr['runs'])})")
    if big:
        print(f"  Airlock  one {mb(big['bytes']):.1f} MB JSON document ({big['records']} customer records): "
              f"{big['seconds']:.3f} s = {big['mb_per_s']:.2f} MB/s (median of {len(big['runs'])})")
    if sparse:
        print(f"  Airlock  one {mb(sparse['bytes']):.1f} MB API-like JSON document ({sparse['records']} issue records, "
              f"an e-mail in 1 of 20): {sparse['seconds']:.3f} s = {sparse['mb_per_s']:.2f} MB/s "
              f"(median of {len(sparse['runs'])})")
    print(f"  Presidio analyze() over the texts:  {mb(p['bytes']):7.2f} MB in {p['seconds']:.3f} s = "
          f"{p['mb_per_s']:8.2f} MB/s, {p['samples_per_s']:9.0f} texts/s")
    print(f"  Speed ratio Airlock/Presidio (jsonl CLI vs analyze()): {ratio(throughput['ratio_samples'])} per sample, "
          f"{ratio(throughput['ratio_bytes'])} per input byte")
    print(f"  Speed ratio Airlock/Presidio (one JSON array vs analyze()): "
          f"{ratio(throughput['ratio_samples_array'])} per sample, {ratio(throughput['ratio_bytes_array'])} per input byte")
    print()
    print(f"Samples with detections outside the labelled value: Airlock {extra['airlock']}, Presidio {extra['presidio']}")
    partial_a = sum(r.get("airlock_partial", 0) for r in table[:len(ROW_KINDS)])
    partial_p = sum(r.get("presidio_partial", 0) for r in table[:len(ROW_KINDS)])
    print(f"PII values only partly covered by a detection of the right kind (counted as missed): "
          f"Airlock {partial_a}, Presidio {partial_p}")
    if big and big["report"]:
        print("Airlock --report on the large document: " + " ".join(big["report"].split()))

    if args.details:
        print()
        print("By format / decoy class (rate = found for PII, survived for decoys):")
        detail = []
        for c in class_rows:
            def hits(h):
                return ",".join(f"{k}:{v}" for k, v in sorted(h.items(), key=lambda kv: -kv[1])[:3])
            detail.append([
                c["kind"], "pii" if c["pii"] else "decoy", c["class"], c["samples"], fmt_pct(c["airlock"]),
                fmt_pct(c["presidio"]), hits(c["airlock_hits"]) or "", hits(c["presidio_hits"]) or "",
            ])
        print_table(["kind", "", "class", "n", "Airlock", "Presidio", "Airlock flagged as", "Presidio flagged as"],
                    detail, ["<", "<", "<", ">", ">", ">", "<", "<"])
        misses = [c for c in class_rows if c["airlock"] is not None and c["airlock"] < 100.0]
        if misses:
            print()
            print("Airlock examples (missed PII / flagged decoys):")
            for c in misses:
                what = "missed" if c["pii"] else "flagged"
                print(f"  {c['kind']}/{c['class']} {what}: " + " | ".join(c["airlock_examples"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
