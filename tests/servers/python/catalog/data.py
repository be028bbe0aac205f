"""Deterministic data behind the catalog's tools.

Every answer is made up from the tool's name and arguments with seeded generators, so the
same call always gets the same JSON. Objects are seeded by their id, so an object seen in a
list comes back the same from the matching get tool.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
from typing import Any

FIRST = ["Amara", "Bruno", "Chen", "Dana", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kavya", "Liam",
         "Maya", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tess", "Uma", "Viktor", "Wen", "Yara", "Zoe"]
LAST = ["Adeyemi", "Bauer", "Castillo", "Dubois", "Eriksen", "Fischer", "Gupta", "Haddad", "Ivanova", "Jensen",
        "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrova", "Rossi", "Schmidt", "Tanaka", "Varga"]
COMPANIES = ["Northwind Traders", "Blue Harbor Logistics", "Acme Analytics", "Lumen Health", "Redwood Retail",
             "Kestrel Energy", "Orbit Media", "Granite Insurance", "Sable Foods", "Vertex Robotics",
             "Harborview Hotels", "Pinecrest Bank", "Quanta Labs", "Meridian Travel", "Foxglove Pharma"]
TOPIC_A = ["Q3", "EMEA", "Onboarding", "Pricing", "Partner", "Renewal", "Launch", "Security", "Budget", "Hiring",
           "Roadmap", "Customer", "Vendor", "Quarterly", "Migration", "Holiday", "Board", "Support", "Brand"]
TOPIC_B = ["Plan", "Review", "Tracker", "Checklist", "Report", "Notes", "Overview", "Summary", "Forecast",
           "Proposal", "Playbook", "Retrospective", "Dashboard", "Update", "Guidelines", "Kickoff"]
SENTENCES = [
    "Customer asked for an updated quote before the end of the month.",
    "Waiting on legal review of the revised terms.",
    "Follow up with finance about the outstanding balance.",
    "Shipment was delayed at the carrier's hub; new ETA confirmed.",
    "Draft shared with the team for comments by Friday.",
    "Escalated to tier 2 after the workaround did not help.",
    "Budget approved; procurement will issue the purchase order.",
    "Needs a second reviewer before it can be merged.",
    "Moved to next sprint because of the dependency on the billing API.",
    "Agreed to revisit the scope after the pilot results are in.",
]
WORDS = ["alpha", "beacon", "cobalt", "delta", "ember", "falcon", "garnet", "harbor", "iris", "juniper", "kepler",
         "lotus", "maple", "nimbus", "onyx", "prism", "quartz", "raven", "sierra", "tango", "umber", "vega"]
REGIONS = ["north-america", "latin-america", "emea", "apac"]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CAD"]
PEOPLE_FIELDS = ("owner", "assignee", "author", "requester", "manager", "reviewer", "sender", "organizer",
                 "created_by", "updated_by", "approver", "full_name", "contact_name", "customer_name", "display_name")
TEXT_FIELDS = ("description", "body", "notes", "note", "content", "message", "text", "comment", "reason")
BASE = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.timezone.utc)


def rng_for(*parts: Any) -> random.Random:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def timestamp(rng: random.Random, days: int = 540) -> str:
    return (BASE + dt.timedelta(seconds=rng.randrange(days * 86400))).strftime("%Y-%m-%dT%H:%M:%SZ")


def person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return f"{first} {last}", f"{first}.{last}@example.com".lower()


def make_id(noun: str, rng: random.Random) -> str:
    prefix = "".join(part[:3] for part in noun.split("_"))[:6]
    return f"{prefix}_{rng.randrange(16**10):010x}"


def fake_string(name: str, rng: random.Random) -> str:
    n = name.lower()
    if n.endswith("_id") or n == "id":
        return make_id(n.removesuffix("_id") or "obj", rng)
    if n.endswith("_ids"):
        return make_id(n.removesuffix("_ids"), rng)
    if "email" in n:
        return person(rng)[1]
    if n in PEOPLE_FIELDS or n.endswith("_by") or n in ("first_name", "last_name"):
        full = person(rng)[0]
        return full.split()[0] if n == "first_name" else full.split()[-1] if n == "last_name" else full
    if n in TEXT_FIELDS or n.endswith("_notes"):
        return " ".join(rng.sample(SENTENCES, rng.randint(1, 3)))
    if n in ("company", "account_name", "organization", "vendor", "supplier", "carrier_name"):
        return rng.choice(COMPANIES)
    if n in ("currency",):
        return rng.choice(CURRENCIES)
    if "country" in n:
        return rng.choice(["US", "DE", "FR", "GB", "NL", "JP", "BR", "IN"])
    if n in ("region",):
        return rng.choice(REGIONS)
    if "phone" in n:
        return f"+1-555-01{rng.randrange(100):02d}"
    if "url" in n or "link" in n:
        return f"https://app.example.com/{rng.choice(WORDS)}/{rng.randrange(10**6)}"
    if "location" in n:
        return rng.choice(["Berlin HQ", "London office", "Room 4.12", "Remote", "Austin office", "Video call"])
    if "timezone" in n or "time_zone" in n:
        return rng.choice(["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Europe/London", "UTC"])
    if n in ("sku",) or n.endswith("_sku"):
        return f"SKU-{rng.randrange(10**5):05d}"
    if "sha" in n or n == "commit":
        return f"{rng.getrandbits(160):040x}"
    if "branch" in n or n == "ref":
        return rng.choice(["main", "develop"]) if rng.random() < 0.4 else f"feature/{rng.choice(WORDS)}-{rng.randrange(999)}"
    if "path" in n:
        return f"/{rng.choice(['src', 'docs', 'reports', 'shared'])}/{rng.choice(WORDS)}/{rng.choice(WORDS)}.md"
    if "version" in n:
        return f"{rng.randint(1, 4)}.{rng.randint(0, 12)}.{rng.randint(0, 20)}"
    if "color" in n:
        return f"#{rng.randrange(16**6):06x}"
    if n == "number":
        return f"INV-{rng.choice([2025, 2026])}-{rng.randrange(10**5):05d}"
    if n in ("tracking_number",):
        return f"1Z{rng.randrange(10**16):016d}"
    if n in ("tag", "tags", "label", "labels", "keyword", "keywords", "slug", "key"):
        return rng.choice(WORDS)
    return f"{rng.choice(TOPIC_A)} {rng.choice(TOPIC_B)}"


def fake(name: str, schema: dict, rng: random.Random, depth: int = 0) -> Any:
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind, fmt = schema.get("type"), schema.get("format")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "string":
        if fmt == "email":
            return person(rng)[1]
        if fmt == "date-time":
            return timestamp(rng)
        if fmt == "date":
            return timestamp(rng)[:10]
        if fmt == "uri":
            return f"https://app.example.com/{name.replace('_', '-')}/{rng.randrange(10**7)}"
        return fake_string(name, rng)
    if kind == "integer":
        lo = schema.get("minimum", 0)
        if name.endswith("_bytes") or name == "size":
            low = max(lo, 2_000)
            return rng.randint(low, max(low, min(schema.get("maximum", 16 * 10**9), 16 * 10**9)))
        return rng.randint(lo, min(schema.get("maximum", lo + 500), lo + 500))
    if kind == "number":
        lo = schema.get("minimum", 0)
        return round(rng.uniform(lo, min(schema.get("maximum", lo + 5000), lo + 5000)), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        items = schema.get("items", {"type": "string"})
        return [fake(name.rstrip("s"), items, rng, depth + 1) for _ in range(rng.randint(0 if depth else 1, 3))]
    if kind == "object":
        return {k: fake(k, v, rng, depth + 1) for k, v in schema.get("properties", {}).items()}
    return None


# ------------------------------------------------------------------ generic answers


def make_item(res: Any, ident: Any) -> dict:
    """The object `ident` of a resource: the same on every call."""
    rng = rng_for(res.noun, ident)
    item = {res.id_name: ident}
    for key, schema in res.fields.items():
        item[key] = fake(key, schema, rng)
    return item


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return max(0, int(raw.removeprefix("o:")))
    except (ValueError, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None


def _new_id(res: Any, rng: random.Random) -> Any:
    return rng.randint(1000, 99999) if res.id_kind == "integer" else make_id(res.noun, rng)


def _apply(item: dict, res: Any, args: dict) -> dict:
    """Arguments that name a field of the object (filters, new values) show in it."""
    for key, value in args.items():
        if key in res.fields or (res.parent and key == res.parent[0]):
            item[key] = value
    return item


def answer_page(tool: Any, args: dict, extra: dict | None = None) -> dict:
    res = tool.resource
    size = int(args.get("page_size") or tool.schema["properties"].get("page_size", {}).get("default", 25))
    filters = {k: v for k, v in args.items() if k not in ("page_size", "cursor")}
    offset = _offset(args.get("cursor"))
    total = rng_for(tool.name, filters).randint(3, 480)
    ids = rng_for(tool.name, filters, "ids")
    all_ids = [_new_id(res, ids) for _ in range(total)]
    items = [_apply(make_item(res, i), res, filters) for i in all_ids[offset : offset + size]]
    key = res.plural
    if tool.kind == "search":
        query, title_key = str(args.get("query", "")), next((k for k in ("name", "title", "subject") if k in res.fields), None)
        for rank, item in enumerate(items):
            item.pop("query", None)
            item["score"] = round(0.98 - 0.03 * (offset + rank), 3)
            if title_key:
                item[title_key] = f"{query.strip().title()} {item[title_key]}"
    out = {key: items, "total_count": total}
    if offset + size < total:
        out["next_cursor"] = _cursor(offset + size)
    return out | (extra or {})


def answer(tool: Any, args: dict) -> Any:
    """The JSON answer of a tool that has no handler of its own."""
    res, kind = tool.resource, tool.kind
    if kind in ("list", "search"):
        return answer_page(tool, args)
    if kind == "get":
        return _apply(make_item(res, args[res.id_name]), res, {})
    if kind == "create":
        rng = rng_for(tool.name, args)
        item = _apply(make_item(res, _new_id(res, rng)), res, args)
        for stamp in ("created_at", "updated_at"):
            if stamp in item:
                item[stamp] = "2026-07-01T12:00:00Z"
        return item
    if kind == "update":
        item = _apply(make_item(res, args[res.id_name]), res, args)
        if "updated_at" in item:
            item["updated_at"] = "2026-07-01T12:00:00Z"
        return item
    if kind == "delete":
        return {res.id_name: args[res.id_name], "deleted": True}
    return answer_action(tool, args)


def answer_action(tool: Any, args: dict) -> Any:
    out = tool.out
    rng = rng_for(tool.name, args)
    if isinstance(out, list):  # a page of a resource's objects
        fake_tool = type("T", (), {"name": tool.name, "resource": out[0], "kind": "list", "schema": tool.schema})
        return answer_page(fake_tool, args)
    if out is not None and hasattr(out, "fields"):  # one object of a resource
        ident = args.get(out.id_name) or _new_id(out, rng)
        return _apply(make_item(out, ident), out, args)
    result: dict[str, Any] = {k: v for k, v in args.items() if k.endswith("_id") or k.endswith("_ids")}
    for key, schema in (out or {}).items():
        result[key] = fake(key, schema, rng)
    if not out:
        result |= {"status": "ok", "request_id": f"req_{rng.randrange(16**12):012x}"}
    return result
