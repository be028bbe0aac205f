// A report an agent might write: compute over data inside the sandbox,
// keep the detail in the workspace, print only the summary.
import { writeFileSync, readdirSync } from "fs";

interface Order {
  id: number;
  region: "eu" | "us" | "apac";
  amount: number;
}

const orders: Order[] = Array.from({ length: 10_000 }, (_, id) => ({
  id,
  region: (["eu", "us", "apac"] as const)[id % 3],
  amount: (id * 7919) % 5000,
}));

const byRegion = new Map<string, { count: number; total: number }>();
for (const order of orders) {
  const entry = byRegion.get(order.region) ?? { count: 0, total: 0 };
  entry.count += 1;
  entry.total += order.amount;
  byRegion.set(order.region, entry);
}

const large = orders.filter((o) => o.amount > 4500);
writeFileSync("./workspace/large-orders.json", JSON.stringify(large));

for (const [region, { count, total }] of byRegion) {
  console.log(`${region}: ${count} orders, average ${(total / count).toFixed(2)}`);
}
console.log(`${large.length} large orders saved to`, readdirSync("./workspace"));
