"""Handlers of the catalog tools that benchmark scenarios rely on (see catalog_server.py).

- `crm_list_deals`: up to 10,000 deal rows in one call (8 fields each, seeded).
- `docs_get_document`: a ~50 KB meeting transcript for any document id.
- `docs_create_document` and `crm_add_note`: take a long text and answer with its byte length.
- `tickets_get_ticket`: one ticket by numeric id, cheap and stable, for calls in a loop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache

from .data import COMPANIES, FIRST, LAST, REGIONS, SENTENCES, person, rng_for, timestamp

TOTAL_DEALS = 10_000
DEAL_STAGES = ["prospecting", "qualified", "proposal", "negotiation", "closed_won", "closed_lost"]
PRODUCTS = ["Analytics Suite", "Data Platform", "Support Plus", "Edge Gateway", "Identity Cloud", "Field App"]
DEAL_KINDS = ["renewal", "expansion", "new business", "upsell", "pilot"]


@lru_cache(maxsize=1)
def all_deals() -> list[dict]:
    rng = rng_for("crm", "deals", 2025)
    owners = [f"{f} {l}" for f, l in zip(FIRST, LAST * 2)][:18]
    deals = []
    for i in range(1, TOTAL_DEALS + 1):
        deals.append({
            "id": f"deal_{i:05d}",
            "name": f"{rng.choice(COMPANIES)} - {rng.choice(PRODUCTS)} {rng.choice(DEAL_KINDS)}",
            "owner": rng.choice(owners),
            "stage": rng.choice(DEAL_STAGES),
            "amount": round(rng.lognormvariate(9.6, 0.9), 2),
            "currency": rng.choice(["USD", "USD", "USD", "EUR", "GBP"]),
            "region": rng.choice(REGIONS),
            "updated_at": timestamp(rng),
        })
    return deals


def list_deals(args: dict) -> dict:
    rows = all_deals()
    if args.get("stage"):
        rows = [r for r in rows if r["stage"] == args["stage"]]
    if args.get("region"):
        rows = [r for r in rows if r["region"] == args["region"]]
    if args.get("owner"):
        rows = [r for r in rows if args["owner"].lower() in r["owner"].lower()]
    if args.get("min_amount") is not None:
        rows = [r for r in rows if r["amount"] >= args["min_amount"]]
    if args.get("updated_after"):
        rows = [r for r in rows if r["updated_at"] > args["updated_after"]]
    order = args.get("order_by", "id")
    if order != "id":
        field, reverse = order.removesuffix("_desc").removesuffix("_asc"), order.endswith("_desc")
        rows = sorted(rows, key=lambda r: r[field], reverse=reverse)
    offset, limit = int(args.get("offset", 0)), int(args.get("limit", 100))
    page = rows[offset : offset + limit]
    out = {"deals": page, "total": len(rows), "offset": offset, "returned": len(page)}
    if offset + limit < len(rows):
        out["next_offset"] = offset + limit
    return out


def get_ticket(args: dict) -> dict:
    ticket_id = int(args["ticket_id"])
    if not 1 <= ticket_id <= 99_999:
        raise ValueError(f"ticket {ticket_id} not found (ids run from 1 to 99999)")
    rng = rng_for("ticket", ticket_id)
    name, email = person(rng)
    created = timestamp(rng, 500)
    subjects = ["Cannot log in after password reset", "Invoice shows the wrong VAT rate", "Export to CSV times out",
                "Mobile app crashes on upload", "Request to add a new admin", "Webhook deliveries failing with 502",
                "Refund not received", "SSO configuration question", "Dashboard loads slowly", "Duplicate charge"]
    status = rng.choice(["new", "open", "pending", "on_hold", "solved", "closed"])
    ticket = {
        "ticket_id": ticket_id,
        "subject": rng.choice(subjects),
        "status": status,
        "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
        "channel": rng.choice(["email", "web", "chat", "phone", "api"]),
        "requester": {"name": name, "email": email, "organization": rng.choice(COMPANIES)},
        "assignee": person(rng)[0] if status != "new" else None,
        "group": rng.choice(["Billing", "Tier 1", "Tier 2", "Integrations", "Accounts"]),
        "tags": sorted(rng.sample(["billing", "login", "mobile", "api", "vip", "bug", "how-to", "refund"], 2)),
        "created_at": created,
        "updated_at": timestamp(rng, 540) if rng.random() < 0.5 else created,
        "description": " ".join(rng.sample(SENTENCES, 2)),
        "comment_count": rng.randint(0, 14),
        "sla": {"policy": "Standard", "first_response_breached": rng.random() < 0.12},
    }
    return ticket


# ------------------------------------------------------------------ the transcript

SPEAKER_ROLES = ["Product", "Engineering", "Finance", "Sales", "Customer Success", "Design", "Legal"]
TOPICS = ["the March launch", "the pricing change", "the vendor contract", "the onboarding flow", "the Q3 forecast",
          "the data migration", "the support backlog", "the partner program", "the mobile release",
          "the security review", "the EMEA expansion", "hiring for the platform team"]
OPENERS = ["So", "Okay,", "Right,", "Honestly,", "Just to add to that,", "Quick point:", "Well,", "Yeah,",
           "From my side,", "To be fair,", "One thing though:", "Building on what {other} said,"]
LINES = [
    "{opener} the numbers on {topic} look better than last week, we are at about {pct} percent of target.",
    "{opener} I'm worried about {topic}; if we slip another week we miss the window with {company}.",
    "{opener} can we get a decision on {topic} today? The team has been blocked since {day}.",
    "{opener} I talked to {company} yesterday and they want a written plan for {topic} before they sign.",
    "{opener} let's not reopen {topic}, we agreed the scope in the last review and it's in the notes.",
    "{opener} the risk with {topic} is mostly the dependency on the billing API, which is owned by another team.",
    "{opener} I can take the action item on {topic} and send a summary by {day}.",
    "{opener} the budget for {topic} is {amount} thousand, and we've spent roughly half of it.",
    "{opener} we should loop in legal on {topic}, there's a clause about data residency that I don't understand.",
    "{opener} customers keep asking about {topic} in support tickets, I counted {n} this month alone.",
    "{opener} if we split {topic} into two phases we can ship the first one by {day} without extra people.",
    "{opener} I don't have the latest figures on {topic}, let me check with {other} after the call.",
    "{opener} the feedback from the pilot on {topic} was mostly positive, apart from the export issue.",
    "{opener} can someone remind me who owns {topic}? I've seen three different names in the tracker.",
    "{opener} for {topic} I'd rather slip the date than cut the testing, we got burned on that in the spring.",
    "{opener} good point. So the proposal is that {other} drafts the plan for {topic} and we review it on {day}.",
    "{opener} sorry, I was on mute. I agree with {other} on {topic}.",
    "{opener} just a reminder that the board deck needs a slide on {topic} by {day}.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "next Monday", "the end of the month", "the 14th"]


@lru_cache(maxsize=64)
def transcript(document_id: str, size: int = 50_000) -> tuple[str, str, list[str]]:
    """(title, text of about `size` bytes, participants) of the meeting behind `document_id`."""
    rng = rng_for("transcript", document_id)
    names = rng.sample([f"{f} {l}" for f in FIRST for l in LAST[:4]], 6)
    roles = rng.sample(SPEAKER_ROLES, 6)
    title = f"{rng.choice(['Weekly', 'Quarterly', 'Program', 'Launch', 'Leadership'])} sync - {rng.choice(TOPICS)}"
    start = dt.datetime(2026, 3, 2, 10, 0) + dt.timedelta(days=rng.randrange(90))
    while start.weekday() >= 5:
        start += dt.timedelta(days=1)
    header = [f"Meeting transcript: {title}", f"Date: {start:%A %d %B %Y}, {start:%H:%M} UTC",
              "Participants: " + "; ".join(f"{n} ({r})" for n, r in zip(names, roles)),
              "Recording id: " + hashlib.sha1(document_id.encode()).hexdigest()[:12], ""]
    lines, seconds, length = header, 0, sum(len(h) + 1 for h in header)
    topic = rng.choice(TOPICS)
    while length < size:
        if rng.random() < 0.12:
            topic = rng.choice(TOPICS)
        speaker, other = rng.sample(names, 2)
        text = rng.choice(LINES).format(
            opener=rng.choice(OPENERS).format(other=other.split()[0]), topic=topic, pct=rng.randint(40, 120),
            company=rng.choice(COMPANIES), day=rng.choice(DAYS), amount=rng.randint(20, 900),
            n=rng.randint(5, 80), other=other.split()[0])
        if rng.random() < 0.3:
            text += " " + rng.choice(SENTENCES)
        seconds += rng.randint(6, 40)
        line = f"[{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}] {speaker}: {text}"
        lines.append(line)
        length += len(line) + 1
    return title, "\n".join(lines), names


def get_document(args: dict) -> dict:
    doc_id = str(args["document_id"])
    title, text, names = transcript(doc_id)
    rng = rng_for("document", doc_id)
    out = {
        "document_id": doc_id,
        "title": title,
        "mime_type": "text/plain" if args.get("format", "plain_text") == "plain_text" else "text/markdown",
        "owner": names[0],
        "revision_id": f"rev_{rng.randrange(16**8):08x}",
        "created_at": timestamp(rng),
        "word_count": len(text.split()),
        "content": text,
    }
    if args.get("include_comments"):
        out["comments"] = [{"author": names[i], "text": SENTENCES[i]} for i in range(3)]
    return out


def store_text(field: str, id_name: str, prefix: str):
    """A handler that stores a long text and reports how much it got."""

    def handle(args: dict) -> dict:
        text = args.get(field) or ""
        rng = rng_for("store", prefix, args)
        ident = f"{prefix}_{rng.randrange(16**10):010x}"
        return {
            id_name: ident,
            "bytes_received": len(text.encode("utf-8")),
            "characters": len(text),
            "lines": text.count("\n") + 1 if text else 0,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "created_at": "2026-07-01T12:00:00Z",
        }

    return handle
