//! JavaScript and TypeScript as agents write them: modules, top-level
//! await, exceptions that point at the agent's lines.

use crate::support::{assert_ok, builder, run_in};
use airlock::{ExecutionError, Language, Limits, Runtime};

async fn run(runtime: &Runtime, code: &str, language: Language) -> airlock::ExecutionResult {
    let session = runtime.session().unwrap();
    run_in(&session, code, language, &Limits::default()).await
}

fn exception(result: &airlock::ExecutionResult) -> (&str, &str, Option<&str>) {
    match &result.error {
        Some(ExecutionError::Exception { name, message, stack }) => (name, message, stack.as_deref()),
        other => panic!("expected an exception, got {other:?}"),
    }
}

#[tokio::test]
async fn top_level_await_and_async_functions_run() {
    let runtime = builder().build().await.unwrap();
    let code = r#"
        const delay = (v) => new Promise((resolve) => Promise.resolve().then(() => resolve(v)));
        async function total(xs) { let s = 0; for (const x of xs) s += await delay(x); return s; }
        const [a, b] = await Promise.all([total([1, 2]), total([3, 4])]);
        console.log(a, b);
        export default { sum: a + b };"#;
    let result = run(&runtime, code, Language::JavaScript).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "3 7\n");
    assert_eq!(result.value, serde_json::json!({"sum": 10}));
}

#[tokio::test]
async fn typescript_runs() {
    let runtime = builder().build().await.unwrap();
    let code = r#"
interface Customer { name: string; amount: number; status: "pending" | "paid" }
enum Tier { Low, High }
const customers: Customer[] = [
  { name: "a", amount: 500, status: "pending" },
  { name: "b", amount: 5000, status: "pending" },
];
function tier(c: Customer): Tier { return c.amount > 1000 ? Tier.High : Tier.Low; }
const big = customers.filter((c): boolean => tier(c) === Tier.High);
console.log(big.map((c) => c.name as string).join(","), await Promise.resolve<number>(big.length));
"#;
    let result = run(&runtime, code, Language::TypeScript).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "b 1\n");
}

#[tokio::test]
async fn an_exception_reports_its_message_and_the_agents_line() {
    let runtime = builder().build().await.unwrap();
    let code = "const rows = [1, 2];\n\nfunction check(r) {\n  if (r.length < 3) throw new RangeError(`only ${r.length} rows`);\n}\ncheck(rows);\n";
    let result = run(&runtime, code, Language::JavaScript).await;
    let (name, message, stack) = exception(&result);
    assert_eq!(name, "RangeError");
    assert_eq!(message, "only 2 rows");
    let stack = stack.expect("a stack");
    assert!(stack.contains("main.js:4"), "{stack}");
    assert!(stack.contains("main.js:6"), "{stack}");
}

#[tokio::test]
async fn typescript_errors_point_at_the_typescript_lines() {
    let runtime = builder().build().await.unwrap();
    let code = "interface A {\n  x: number;\n}\nconst a: A = { x: 1 };\nthrow new Error(`bad ${a.x}`);\n";
    let result = run(&runtime, code, Language::TypeScript).await;
    let (_, message, stack) = exception(&result);
    assert_eq!(message, "bad 1");
    assert!(stack.unwrap().contains("main.ts:5"), "{stack:?}");
}

#[tokio::test]
async fn syntax_errors_name_the_line() {
    let runtime = builder().build().await.unwrap();
    let js = run(&runtime, "const a = 1;\nconst = 2;\n", Language::JavaScript).await;
    let (name, message, stack) = exception(&js);
    assert_eq!(name, "SyntaxError");
    assert!(format!("{message} {stack:?}").contains("main.js:2"), "{message} {stack:?}");

    let ts = run(&runtime, "const a: number = 1;\nconst b: = 2;\n", Language::TypeScript).await;
    let (name, message, _) = exception(&ts);
    assert_eq!(name, "SyntaxError");
    assert!(message.contains("main.ts:2:"), "{message}");
}

#[tokio::test]
async fn a_rejected_promise_and_a_thrown_value_are_reported() {
    let runtime = builder().build().await.unwrap();
    let rejected = run(&runtime, "await Promise.reject(new TypeError('nope'))", Language::JavaScript).await;
    assert_eq!(exception(&rejected).1, "nope");
    let thrown = run(&runtime, "throw { code: 7 }", Language::JavaScript).await;
    assert_eq!(exception(&thrown).1, "{ code: 7 }");
}

#[tokio::test]
async fn awaiting_forever_is_an_error_not_a_hang() {
    let runtime = builder().build().await.unwrap();
    let result = run(&runtime, "await new Promise(() => {})", Language::JavaScript).await;
    assert!(exception(&result).1.contains("never"), "{:?}", result.error);
}

#[tokio::test]
async fn console_prints_like_node() {
    let runtime = builder().build().await.unwrap();
    let code = r#"
        console.log("text", 1, true, null, undefined, [1, "two"], { a: { b: [] } });
        console.info(new Map([["k", 1]]), new Set([2]));
        console.warn("careful");
        console.error(new Error("bad").message);
        const cyclic = { name: "loop" }; cyclic.self = cyclic; console.log(cyclic);"#;
    let result = run(&runtime, code, Language::JavaScript).await;
    assert_ok(&result);
    assert_eq!(
        result.stdout,
        "text 1 true null undefined [ 1, \"two\" ] { a: { b: [] } }\nMap(1) { \"k\" => 1 } Set(1) { 2 }\n{ name: \"loop\", self: [Circular] }\n"
    );
    assert_eq!(result.stderr, "careful\nbad\n");
}
