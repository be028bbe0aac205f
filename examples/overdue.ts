// Which invoices are overdue, and who owes the most? The 10,000 records stay
// in the sandbox; only this summary reaches the model, e-mails as tokens.
import { listRecords } from "./servers/records";

const { records } = await listRecords({ limit: 10000 });
const overdue = records.filter((r) => r.status === "overdue").sort((a, b) => b.amount - a.amount);
const total = overdue.reduce((sum, r) => sum + r.amount, 0);
console.log(`${overdue.length} of ${records.length} invoices overdue, ${total.toFixed(2)} EUR in all`);
for (const r of overdue.slice(0, 3)) console.log(r.id, r.email, r.amount);
