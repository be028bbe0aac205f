"""Building blocks of the catalog: JSON-schema helpers, resources, and the generated tools.

Every service module describes its resources (fields, filters, a sentence about them) and
hand-written tools; the common verbs (list, get, create, update, delete, search) are turned
into tools here, their wording picked from several phrasings with a random generator seeded
by the tool's name, so the tool list is the same on every run.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

from . import phrases as P
from .blurbs import BLURBS

# ------------------------------------------------------------------ property helpers


def _prop(kind: str, desc: str, **kw: Any) -> dict:
    prop: dict[str, Any] = {"type": kind, "description": desc}
    prop.update({k: v for k, v in kw.items() if v is not None})
    return prop


def S(desc: str, **kw: Any) -> dict:
    """A string property."""
    return _prop("string", desc, **kw)


def I(desc: str, **kw: Any) -> dict:  # noqa: E743 (short on purpose, like the others)
    """An integer property."""
    return _prop("integer", desc, **kw)


def N(desc: str, **kw: Any) -> dict:
    """A number property."""
    return _prop("number", desc, **kw)


def B(desc: str, default: bool | None = None) -> dict:
    """A boolean property."""
    return _prop("boolean", desc, default=default)


def E(desc: str, values: str | list[str], default: str | None = None) -> dict:
    """A string enum; `values` may be one space-separated string."""
    vals = values.split() if isinstance(values, str) else list(values)
    return _prop("string", desc, enum=vals, default=default)


def DT(desc: str) -> dict:
    return _prop("string", desc, format="date-time")


def DATE(desc: str) -> dict:
    return _prop("string", desc, format="date")


def EMAIL(desc: str) -> dict:
    return _prop("string", desc, format="email")


def URI(desc: str) -> dict:
    return _prop("string", desc, format="uri")


def A(desc: str, items: dict | None = None, **kw: Any) -> dict:
    """An array; string items unless `items` says otherwise."""
    return _prop("array", desc, items=items or {"type": "string"}, **kw)


def O(desc: str, props: dict, required: tuple | list = (), **kw: Any) -> dict:  # noqa: E743
    """A nested object."""
    obj = _prop("object", desc, properties=props, **kw)
    if required:
        obj["required"] = list(required)
    return obj


def MONEY(desc: str = "Monetary amount and its currency.") -> dict:
    return O(desc, {"amount": N("Amount in the currency's major unit, e.g. 129.90.", minimum=0),
                    "currency": S("ISO 4217 currency code.", pattern="^[A-Z]{3}$", default="USD")},
             ("amount",))


def ADDRESS(desc: str = "Postal address.") -> dict:
    return O(desc, {"line1": S("Street and number."), "line2": S("Apartment, suite or floor."),
                    "city": S("City or town."), "postal_code": S("Postal or ZIP code."),
                    "region": S("State, province or county."),
                    "country": S("ISO 3166-1 alpha-2 country code, e.g. DE.", minLength=2, maxLength=2)},
             ("line1", "city", "country"))


# ------------------------------------------------------------------ resources and tools


@dataclass
class Resource:
    noun: str
    fields: dict
    blurb: str = ""
    plural: str = ""
    label: str = ""
    create: tuple = ()
    readonly: tuple = ("created_at", "updated_at")
    filters: dict = field(default_factory=dict)
    parent: tuple | None = None  # (param name, schema): the object this one lives in
    id_kind: str = "string"

    def __post_init__(self) -> None:
        self.plural = self.plural or self.noun + "s"
        self.label = self.label or self.noun.replace("_", " ")

    @property
    def id_name(self) -> str:
        return f"{self.noun}_id"

    @property
    def plural_label(self) -> str:
        return self.plural.replace("_", " ")

    def writable(self) -> dict:
        return {k: v for k, v in self.fields.items() if k not in self.readonly}


@dataclass
class ToolDef:
    name: str
    description: str
    schema: dict
    kind: str = "action"  # list, get, create, update, delete, search or action
    resource: Resource | None = None
    out: Any = None  # for actions: a Resource, [Resource], or a dict of fields to make up
    handler: Callable[[dict], Any] | None = None

    def definition(self) -> dict:
        return {"name": self.name, "description": self.description, "inputSchema": self.schema}


def schema_of(props: dict | None, required: tuple | list = ()) -> dict:
    out: dict[str, Any] = {"type": "object", "properties": dict(props or {})}
    if required:
        out["required"] = list(required)
    return out


def _an(word: str) -> str:
    vowel = word[0] in "aeiou" and not word.startswith(("us", "uni", "eu"))
    return ("an " if vowel else "a ") + word


def _human(names: list[str]) -> str:
    upper = {"id": "ID", "ids": "IDs", "sku": "SKU", "sha": "SHA", "url": "URL"}
    words = [" ".join(upper.get(w, w) for w in n.removeprefix("is_").split("_")) for n in names]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _fields_phrase(res: Resource, rng: random.Random, n: int = 3, writable: bool = False) -> str:
    fields = res.writable() if writable else res.fields
    names = [k for k, v in fields.items() if not k.endswith("_at") and v.get("type") != "boolean"] or list(fields)
    return _human(names[: rng.choice([2, 3, 3])])


class Service:
    """Collects the tools of one service.

    `notes` are sentences true of every tool of the service (quotas, units, conventions);
    they, and the generic read or write notes, are appended to some descriptions.
    """

    def __init__(self, key: str, title: str, scope: str = "", notes: tuple = ()) -> None:
        self.key, self.title, self.tools = key, title, []
        self.scope = scope or f" in the {title} workspace"
        self.notes = list(notes)

    def rng(self, name: str) -> random.Random:
        return random.Random(zlib.crc32(name.encode()))

    def fmt(self, text: str, **kw: Any) -> str:
        return text.format(svc=self.key, Svc=self.title, **kw)

    def _notes(self, rng: random.Random, write: bool, label: str, p: float) -> list[str]:
        pool = (P.NOTES_WRITE if write else P.NOTES_READ) + self.notes
        out: list[str] = []
        while rng.random() < (p if not out else 0.3) and len(out) < 2:
            note = rng.choice(pool)
            note = note if note in self.notes else self.fmt(note, label=label)
            quota = ("limit" in note.lower() or "quota" in note.lower())
            if note in out or (quota and any("limit" in o.lower() or "quota" in o.lower() for o in out)):
                break
            out.append(note)
        return out

    def _add(self, suffix: str, sentences: list[str], props: dict, required: list, kind: str,
             res: Resource | None = None, **kw: Any) -> ToolDef:
        tool = ToolDef(f"{self.key}_{suffix}", " ".join(s for s in sentences if s),
                       schema_of(props, required), kind, res, **kw)
        self.tools.append(tool)
        return tool

    def tool(self, suffix: str, desc: str, props: dict | None = None, required: tuple | list = (),
             out: Any = None, handler: Callable | None = None) -> ToolDef:
        """A hand-written tool; some get a note of the service appended."""
        rng = self.rng(suffix)
        write = not suffix.startswith(P.READ_VERBS)
        p = 0.85 if len(desc) < 120 else 0.65 if len(desc) < 200 else 0.2
        sentences = [desc] + self._notes(rng, write, "object", p)
        return self._add(suffix, sentences, dict(props or {}), list(required), "action", out=out, handler=handler)

    def crud(self, res: Resource, verbs: str) -> None:
        res.blurb = res.blurb or BLURBS.get(f"{self.key}.{res.noun}", "")
        for verb in verbs.split():
            getattr(self, "_" + verb)(res)

    # -------------------------------------------------------------- generated verbs

    def _text(self, rng: random.Random, res: Resource, lead: list[str], extra: list[str], p_extra: float,
              write: bool, p_notes: float) -> list[str]:
        parent = res.parent[0].removesuffix("_id").replace("_", " ") if res.parent else ""
        ctx = {
            "plural": res.plural_label, "label": res.label, "a_label": _an(res.label), "id": res.id_name,
            "fields": _fields_phrase(res, rng, writable=write), "filters": _human(list(res.filters)[:3]),
            "scope": f" in the given {parent}" if parent else rng.choice([self.scope, "", " for the current account"]),
            "scope_in": f" in the given {parent}" if parent else "",
            "required": _human(list(res.create)), "Required": _human(list(res.create))[:1].upper() + _human(list(res.create))[1:],
            "first": next(iter(res.fields)).replace("_", " "),
        }
        if not res.filters:
            lead = [s for s in lead if "{filters}" not in s]
        if not res.create:
            lead = [s for s in lead if "{Required}" not in s]
        if next(iter(res.fields)) not in P.UNIQUE_FIELDS:
            extra = [s for s in extra if "{first}" not in s]
        sentences = [self.fmt(rng.choice(lead), **ctx)]
        if "default" in sentences[0]:
            extra = [s for s in extra if "default" not in s]
        if res.blurb and rng.random() < 0.6:
            sentences.append(res.blurb)
        if rng.random() < p_extra:
            sentences.append(self.fmt(rng.choice(extra), **ctx))
        params = {"LIST": P.LIST_PARAMS if res.filters else [], "CREATE": P.CREATE_PARAMS if res.create else [],
                  "UPDATE": P.UPDATE_PARAMS}.get(next((k for k in ("LIST", "CREATE", "UPDATE") if getattr(P, k) is lead), ""), [])
        if params and rng.random() < 0.55 and not any(s.startswith(("Retrieve", "Get a page", "Create ")) for s in sentences[:1]):
            sentences.insert(1, self.fmt(rng.choice(params), **ctx))
        notes = self._notes(rng, write, res.label, p_notes)
        if len(sentences) == 1 and not notes and rng.random() < 0.8:
            notes = self._notes(rng, write, res.label, 1.0)
        return sentences + notes

    def _base(self, res: Resource) -> dict:
        return {res.parent[0]: res.parent[1]} if res.parent else {}

    def _base_required(self, res: Resource) -> list:
        return [res.parent[0]] if res.parent and "default" not in res.parent[1] else []

    def _id(self, res: Resource) -> dict:
        kind = "integer" if res.id_kind == "integer" else "string"
        return {res.id_name: _prop(kind, f"ID of the {res.label}.")}

    def _list(self, res: Resource) -> None:
        name = f"list_{res.plural}"
        rng = self.rng(name)
        maximum = rng.choice([100, 200, 500, 1000])
        sentences = self._text(rng, res, P.LIST, P.LIST_EXTRA, 0.5, False, 0.0)
        if rng.random() < 0.85:
            sentences.append(rng.choice(P.PAGING).format(max=maximum))
            sentences += self._notes(rng, False, res.label, 0.45)
        props = self._base(res) | dict(res.filters)
        if rng.random() < 0.5:
            props["order_by"] = E("Sort order of the results.", "updated_desc updated_asc created_desc name_asc",
                                  default="updated_desc")
        props["page_size"] = I(f"Maximum number of {res.plural_label} to return (1-{maximum}).", minimum=1,
                               maximum=maximum, default=rng.choice([20, 25, 50, 100]))
        props["cursor"] = S("Pagination cursor from a previous response's `next_cursor`; omit for the first page.")
        self._add(name, sentences, props, self._base_required(res), "list", res)

    def _get(self, res: Resource) -> None:
        name = f"get_{res.noun}"
        rng = self.rng(name)
        sentences = self._text(rng, res, P.GET, P.GET_EXTRA, 0.7, False, 0.5)
        props = self._base(res) | self._id(res)
        self._add(name, sentences, props, self._base_required(res) + [res.id_name], "get", res)

    def _create(self, res: Resource) -> None:
        name = f"create_{res.noun}"
        rng = self.rng(name)
        sentences = self._text(rng, res, P.CREATE, P.CREATE_EXTRA, 0.7, True, 0.6)
        props = self._base(res) | res.writable()
        self._add(name, sentences, props, self._base_required(res) + list(res.create), "create", res)

    def _update(self, res: Resource) -> None:
        name = f"update_{res.noun}"
        rng = self.rng(name)
        sentences = self._text(rng, res, P.UPDATE, P.UPDATE_EXTRA, 0.7, True, 0.55)
        ids = self._base(res) | self._id(res)
        self._add(name, sentences, ids | res.writable(), self._base_required(res) + [res.id_name], "update", res)

    def _delete(self, res: Resource) -> None:
        name = f"delete_{res.noun}"
        rng = self.rng(name)
        sentences = self._text(rng, res, P.DELETE, P.DELETE_EXTRA, 0.7, True, 0.45)
        ids = self._base(res) | self._id(res)
        self._add(name, sentences, ids, self._base_required(res) + [res.id_name], "delete", res)

    def _search(self, res: Resource) -> None:
        name = f"search_{res.plural}"
        rng = self.rng(name)
        sentences = self._text(rng, res, P.SEARCH, P.SEARCH_EXTRA, 0.7, False, 0.55)
        props = {"query": S(f"Search text matched against the {res.plural_label}.", minLength=1)}
        props |= dict(list(res.filters.items())[:2])
        props["page_size"] = I("Maximum number of matches to return.", minimum=1, maximum=100, default=20)
        props["cursor"] = S("Cursor from a previous response to fetch more matches.")
        self._add(name, sentences, props, ["query"], "search", res)
