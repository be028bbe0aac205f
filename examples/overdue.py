# Which invoices are overdue, and who owes the most? The 10,000 records stay
# in the sandbox; only this summary reaches the model, e-mails as tokens.
from servers import records

rows = records.list_records(limit=10000)["records"]
overdue = sorted((r for r in rows if r["status"] == "overdue"), key=lambda r: -r["amount"])
print(f"{len(overdue)} of {len(rows)} invoices overdue, {sum(r['amount'] for r in overdue):,.2f} EUR in all")
for r in overdue[:3]:
    print(r["id"], r["email"], r["amount"])
