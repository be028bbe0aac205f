//! Runtime metrics in the Prometheus text format (`GET /metrics` of
//! `airlock serve --http`), on the official `prometheus-client` crate.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LanguageOutcome {
    language: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Language {
    language: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerOutcome {
    server: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Server {
    server: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: String,
}

/// Seconds from 0.5 ms up to about 33 s, doubling.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 17))
}

/// Every metric a runtime keeps.
pub struct Metrics {
    registry: Registry,
    executions: Family<LanguageOutcome, Counter>,
    execution_seconds: Family<Language, Histogram, fn() -> Histogram>,
    tool_calls: Family<ServerOutcome, Counter>,
    tool_call_seconds: Family<Server, Histogram, fn() -> Histogram>,
    pii_tokens: Family<Kind, Counter>,
    sessions: Gauge,
    in_flight: Gauge,
    approvals_pending: Gauge,
    approval_decisions: Family<Outcome, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("airlock");
        let executions = Family::<LanguageOutcome, Counter>::default();
        registry.register(
            "executions",
            "Executions by language (javascript, typescript, python, component) and outcome (ok, exception, \
             trap, limit:<name>)",
            executions.clone(),
        );
        let execution_seconds: Family<Language, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(duration_histogram);
        registry.register(
            "execution_duration_seconds",
            "Wall time of executions by language",
            execution_seconds.clone(),
        );
        let tool_calls = Family::<ServerOutcome, Counter>::default();
        registry.register("tool_calls", "Tool calls by server and outcome", tool_calls.clone());
        let tool_call_seconds: Family<Server, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(duration_histogram);
        registry.register("tool_call_duration_seconds", "Wall time of tool calls by server", tool_call_seconds.clone());
        let pii_tokens = Family::<Kind, Counter>::default();
        registry.register("pii_tokens_minted", "PII tokens minted, by kind", pii_tokens.clone());
        let sessions = Gauge::default();
        registry.register("active_sessions", "Sessions open now", sessions.clone());
        let in_flight = Gauge::default();
        registry.register("executions_in_flight", "Executions running now", in_flight.clone());
        let approvals_pending = Gauge::default();
        registry.register(
            "approvals_pending",
            "Tool calls waiting for a human's approval now",
            approvals_pending.clone(),
        );
        let approval_decisions = Family::<Outcome, Counter>::default();
        registry.register(
            "approval_decisions",
            "Approval decisions by outcome (approved, allowed_for_session, declined, unasked)",
            approval_decisions.clone(),
        );
        Metrics {
            registry,
            executions,
            execution_seconds,
            tool_calls,
            tool_call_seconds,
            pii_tokens,
            sessions,
            in_flight,
            approvals_pending,
            approval_decisions,
        }
    }
}

impl Metrics {
    pub(crate) fn execution(&self, language: &str, outcome: &str, took: Duration) {
        let labels = LanguageOutcome { language: language.to_owned(), outcome: outcome.to_owned() };
        self.executions.get_or_create(&labels).inc();
        self.execution_seconds.get_or_create(&Language { language: language.to_owned() }).observe(took.as_secs_f64());
    }

    pub(crate) fn tool_call(&self, server: &str, outcome: &str, took: Duration) {
        let labels = ServerOutcome { server: server.to_owned(), outcome: outcome.to_owned() };
        self.tool_calls.get_or_create(&labels).inc();
        self.tool_call_seconds.get_or_create(&Server { server: server.to_owned() }).observe(took.as_secs_f64());
    }

    pub(crate) fn tokens_minted(&self, kind: &str, count: u64) {
        self.pii_tokens.get_or_create(&Kind { kind: kind.to_owned() }).inc_by(count);
    }

    pub(crate) fn execution_started(&self) {
        self.in_flight.inc();
    }

    pub(crate) fn execution_finished(&self) {
        self.in_flight.dec();
    }

    pub(crate) fn approval_asked(&self) {
        self.approvals_pending.inc();
    }

    pub(crate) fn approval_decided(&self, outcome: &str, was_asked: bool) {
        if was_asked {
            self.approvals_pending.dec();
        }
        self.approval_decisions.get_or_create(&Outcome { outcome: outcome.to_owned() }).inc();
    }

    pub(crate) fn session_opened(&self) {
        self.sessions.inc();
    }

    pub(crate) fn session_closed(&self) {
        self.sessions.dec();
    }

    /// The metrics in the Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_show_up() {
        let metrics = Metrics::default();
        metrics.execution("python", "ok", Duration::from_millis(3));
        metrics.tool_call("crm", "failed", Duration::from_millis(1));
        metrics.tokens_minted("EMAIL", 2);
        metrics.session_opened();
        let text = metrics.encode();
        assert!(text.contains("airlock_executions_total{language=\"python\",outcome=\"ok\"} 1"), "{text}");
        assert!(text.contains("airlock_tool_calls_total{server=\"crm\",outcome=\"failed\"} 1"), "{text}");
        assert!(text.contains("airlock_pii_tokens_minted_total{kind=\"EMAIL\"} 2"), "{text}");
        assert!(text.contains("airlock_active_sessions 1"), "{text}");
        assert!(text.contains("airlock_execution_duration_seconds_count{language=\"python\"} 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
