# The code an agent writes for "Who owes us the most on overdue invoices?
# Send them a reminder." Airlock runs it in a CPython sandbox: the 10,000
# records stay in here; only what it prints goes back to the model, with
# personal data as tokens. The reminder reaches the server with the real
# address: Airlock swaps the token back at the tool call.
from airlock import search_tools
from servers import customers, records

# Discover the tools a task needs instead of reading every schema.
for query in ("list invoices", "send a message"):
    best = search_tools(query, "description", 1)[0]
    print(f"search {query!r}: {best['name']} - {best['description']}")

rows = records.list_records(limit=10000)["records"]
overdue = [r for r in rows if r["status"] == "overdue"]
top = max(overdue, key=lambda r: r["amount"])
print(f"{len(overdue)} of {len(rows)} invoices overdue, {sum(r['amount'] for r in overdue):,.2f} EUR in all")
print(f"largest: invoice {top['id']}, {top['amount']:,.2f} EUR, {top['name']} <{top['email']}>")

sent = customers.send_message(to=top["email"], text=f"Invoice {top['id']} ({top['amount']:.2f} EUR) is overdue.")
print(f"reminder sent to {sent['to']}")
