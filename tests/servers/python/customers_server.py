"""The "customers" MCP server of the PII end-to-end tests (stdio transport).

Written with the official MCP Python SDK 2.x, run with the interpreter of
tests/servers/.venv (installed by scripts/setup-servers.sh):

    CUSTOMERS_INBOX=/tmp/inbox tests/servers/.venv/bin/python tests/servers/python/customers_server.py

It serves customer records full of personal data (names, emails, phones, payment
cards, Russian INNs) and a 100 KB document, and it keeps, on the server side, what
it is sent: every `send_message` call is appended to `<inbox>/messages.jsonl`, every
`get_customer` call to `<inbox>/lookups.jsonl`, and
every `store_document` call writes `<inbox>/stored-<name>` byte for byte, next to
`<inbox>/original-<name>` written when the document was read. The tests read those
files to see what really crossed the boundary. Nothing is printed to stdout (it
carries the protocol).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer(
    "customers",
    version="1.0.0",
    instructions="Customer records with personal data, a messaging tool and document storage.",
    log_level="WARNING",
)


def _inbox() -> Path:
    inbox = Path(os.environ.get("CUSTOMERS_INBOX", "inbox"))
    inbox.mkdir(parents=True, exist_ok=True)
    return inbox


# --------------------------------------------------------------------------- data


def _luhn_complete(prefix: str) -> str:
    """`prefix` plus the Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(prefix)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return prefix + str((10 - total % 10) % 10)


def _inn10(first9: str) -> str:
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(int(d) * w for d, w in zip(first9, weights)) % 11 % 10
    return first9 + str(check)


class Customer(BaseModel):
    """One customer."""

    id: int = Field(description="Customer id.")
    full_name: str = Field(description="The customer's full name.")
    email: str = Field(description="Email address.")
    phone: str = Field(description="Phone number.")
    card: str = Field(description="Payment card number on file.")
    inn: str = Field(description="Russian taxpayer number (INN) of the customer's company.")
    city: str = Field(description="City.")
    note: str = Field(description="Free-text note from the account manager.")


class CustomerList(BaseModel):
    """All customers."""

    customers: list[Customer] = Field(description="Every customer, by id.")


NAMES = [
    "Ivan Petrov", "Anna Smirnova", "John Carter", "Maria Garcia", "Olga Ivanova",
    "Peter Schmidt", "Emily Brown", "Sergey Volkov", "Laura Rossi", "David Miller",
]  # fmt: skip
CITIES = ["Moscow", "Berlin", "London", "Boston", "Madrid"]
PHONES = [
    "+7 912 345-67-89", "+49 30 1234567", "+44 20 7946 0958", "(415) 555-2671", "8 (916) 123-45-67",
]  # fmt: skip


def _customers() -> list[dict]:
    rng = random.Random(7)
    out = []
    for i, name in enumerate(NAMES, start=1):
        first = name.split()[0].lower()
        card = _luhn_complete("4" + "".join(str(rng.randrange(10)) for _ in range(14)))
        out.append(
            {
                "id": i,
                "full_name": name,
                "email": f"{first}.{i}@example.com",
                "phone": PHONES[i % len(PHONES)],
                "card": " ".join(card[j : j + 4] for j in range(0, 16, 4)),
                "inn": _inn10("77" + "".join(str(rng.randrange(10)) for _ in range(7))),
                "city": CITIES[i % len(CITIES)],
                "note": f"Prefers email ({first}.{i}@example.com); order 2024-{i:04d} shipped.",
            }
        )
    return out


CUSTOMERS = _customers()


def _document() -> str:
    """About 100 KB of text with personal data in it, and with everything that
    makes byte-exact transport hard: quotes, backslashes, CRLF and tabs,
    non-ASCII text, emoji, and text that looks like a token."""
    rng = random.Random(42)
    lines = ["Quarterly account review — «конфиденциально» \U0001f512\r\n"]
    size = len(lines[0].encode())
    n = 0
    while size < 100 * 1024:
        c = CUSTOMERS[n % len(CUSTOMERS)]
        n += 1
        line = (
            f'{n:05d}\t{c["full_name"]} <{c["email"]}> called from {c["phone"]}; card {c["card"]}, '
            f'INN {c["inn"]}. Said: "refund \\ later"; ref [EMAIL_{rng.randrange(1, 9)}] '
            f"ticket #{rng.randrange(10**7, 10**8)} on 2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} "
            f"for €{rng.randrange(1, 999)}.{rng.randrange(100):02d} ✓\r\n"
        )
        lines.append(line)
        size += len(line.encode())
    return "".join(lines)


DOCUMENT = _document()


# -------------------------------------------------------------------------- tools


@server.tool()
def list_customers() -> CustomerList:
    """List every customer with contact and payment details."""
    return CustomerList.model_validate({"customers": CUSTOMERS})


@server.tool()
def get_customer(id: Annotated[int, Field(description="The customer's id.")]) -> Customer:
    """Get one customer by id."""
    with (_inbox() / "lookups.jsonl").open("a", encoding="utf-8") as lookups:
        lookups.write(json.dumps({"id": id}) + "\n")
    for customer in CUSTOMERS:
        if customer["id"] == id:
            return Customer.model_validate(customer)
    raise ToolError(f"no customer with id {id}")


class Delivery(BaseModel):
    """What `send_message` did."""

    delivered: bool = Field(description="Whether the message was accepted.")
    to: str = Field(description="The recipient, as received.")
    chars: int = Field(description="Length of the text received.")


@server.tool()
def send_message(
    to: Annotated[str, Field(description="Recipient email address.")],
    text: Annotated[str, Field(description="Message text.")],
) -> Delivery:
    """Send a message; the server keeps what it received in its inbox."""
    with (_inbox() / "messages.jsonl").open("a", encoding="utf-8") as inbox:
        inbox.write(json.dumps({"to": to, "text": text}, ensure_ascii=False) + "\n")
    return Delivery(delivered=True, to=to, chars=len(text))


@server.tool(structured_output=False)
def spell(text: Annotated[str, Field(description="Any text.")]) -> str:
    """Return the text's characters separated by spaces (plain text), a shape no detector sees."""
    return " ".join(text)


class Document(BaseModel):
    """A stored document."""

    name: str = Field(description="Document name.")
    content: str = Field(description="The whole text.")


@server.tool()
def get_document(name: Annotated[str, Field(description="Document name (any).")] = "review") -> Document:
    """Read the account review document (about 100 KB)."""
    (_inbox() / f"original-{name}").write_bytes(DOCUMENT.encode())
    return Document(name=name, content=DOCUMENT)


class Stored(BaseModel):
    """What `store_document` kept."""

    name: str = Field(description="Document name.")
    bytes: int = Field(description="UTF-8 length of the content received.")


@server.tool()
def store_document(
    name: Annotated[str, Field(description="Document name.")],
    content: Annotated[str, Field(description="The whole text.")],
) -> Stored:
    """Store a document byte for byte in the server's inbox."""
    data = content.encode()
    (_inbox() / f"stored-{name}").write_bytes(data)
    return Stored(name=name, bytes=len(data))


# --------------------------------------------------------------------------- main

if __name__ == "__main__":
    server.run("stdio")
