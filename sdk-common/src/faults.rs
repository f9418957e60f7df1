//! Fault plans for the simulators: which call fails, how, reproducibly.
//!
//! Both bundled simulators (the ION/CloudSuite one in `infor-ion-client` and the Cin7 Core one
//! in `cin7-core-client`, feature `simulator`) ask a shared [`FaultPlan`] before answering each
//! call. A plan combines a *script* (the next calls to an endpoint fail in a given way, in
//! order) with *rules* (each call to an endpoint fails with some probability, drawn from a
//! seeded generator, so a soak run is reproducible). The plan counts what it injected, by kind,
//! so a test can report "faults injected by kind" next to its outcome.
//!
//! ```
//! use std::time::Duration;
//! use sdk_common::faults::{Fault, FaultPlan};
//!
//! let plan = FaultPlan::seeded(7)
//!     .script("POST /supplier", Fault::ResetAfterApply)
//!     .rule(None, 0.10, Fault::Status { status: 503, retry_after: Some(Duration::from_secs(1)) });
//! assert_eq!(plan.next("POST /supplier"), Some(Fault::ResetAfterApply));
//! let injected = (0..1000).filter(|_| plan.next("GET /supplier").is_some()).count();
//! assert!((50..150).contains(&injected), "about 10% of 1000: {injected}");
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One way a simulated call can go wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (5xx, or 429/503 throttling), optionally with `Retry-After`,
    /// without applying the call.
    Status {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` to send, if any.
        retry_after: Option<Duration>,
    },
    /// Wait this long before answering normally (longer than the client's timeout to simulate
    /// a hung backend; the call is applied).
    Delay(Duration),
    /// Drop the connection before applying the call: the client cannot know it did nothing.
    ResetBeforeApply,
    /// Apply the call, then drop the connection: the write landed but the client saw no answer
    /// (the "did my POST land?" case).
    ResetAfterApply,
    /// Apply the call, then wait this long before answering: a process killed meanwhile never
    /// learns that its write landed (crash tests use it to kill at an exact point). The Cin7
    /// simulator holds the answer; the ION simulator answers at once.
    HangAfterApply(Duration),
    /// Answer 200 with an HTML page instead of the API's body (a proxy's login or error page).
    HtmlOk,
    /// Answer 200 with a truncated, malformed body.
    MalformedBody,
    /// Revoke every token the simulator has issued, then answer normally (ION only; the next
    /// call gets 401).
    RevokeTokens,
    /// Answer with the product's own error in a 200 (IDO `Success: false`, a Cin7 error
    /// object) without applying the call.
    ApplicationError,
}

impl Fault {
    /// A short name for counting: `status_503`, `reset_after_apply`, ...
    pub fn kind(&self) -> String {
        match self {
            Fault::Status { status, .. } => format!("status_{status}"),
            Fault::Delay(_) => "delay".to_owned(),
            Fault::ResetBeforeApply => "reset_before_apply".to_owned(),
            Fault::ResetAfterApply => "reset_after_apply".to_owned(),
            Fault::HangAfterApply(_) => "hang_after_apply".to_owned(),
            Fault::HtmlOk => "html_ok".to_owned(),
            Fault::MalformedBody => "malformed_body".to_owned(),
            Fault::RevokeTokens => "revoke_tokens".to_owned(),
            Fault::ApplicationError => "application_error".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    endpoint: Option<String>,
    probability: f64,
    fault: Fault,
}

#[derive(Debug)]
struct State {
    rng: StdRng,
    script: VecDeque<(String, Fault)>,
    injected: BTreeMap<String, u64>,
    calls: u64,
    paused: bool,
}

/// Which calls fail and how; see the [module docs](self). Shared by reference between a
/// simulator and the test driving it.
#[derive(Debug)]
pub struct FaultPlan {
    rules: Vec<Rule>,
    state: Mutex<State>,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan::none()
    }
}

impl FaultPlan {
    /// A plan that never injects anything (until scripted).
    pub fn none() -> Self {
        FaultPlan::seeded(0)
    }

    /// An empty plan whose random draws come from `seed`.
    pub fn seeded(seed: u64) -> Self {
        FaultPlan {
            rules: Vec::new(),
            state: Mutex::new(State {
                rng: StdRng::seed_from_u64(seed),
                script: VecDeque::new(),
                injected: BTreeMap::new(),
                calls: 0,
                paused: false,
            }),
        }
    }

    /// Each call to `endpoint` (every endpoint when `None`) fails with `fault` with this
    /// probability (0 to 1). Rules are drawn in the order added; the first that fires wins.
    pub fn rule(mut self, endpoint: Option<&str>, probability: f64, fault: Fault) -> Self {
        self.rules.push(Rule {
            endpoint: endpoint.map(str::to_owned),
            probability: probability.clamp(0.0, 1.0),
            fault,
        });
        self
    }

    /// The next call to `endpoint` fails with `fault` (scripted faults queue up per endpoint and
    /// win over rules). `endpoint` is matched exactly, e.g. `"POST /supplier"`; `"*"` matches
    /// any endpoint.
    pub fn script(self, endpoint: &str, fault: Fault) -> Self {
        self.push_script(endpoint, fault);
        self
    }

    /// Queue a scripted fault on a plan already in use.
    pub fn push_script(&self, endpoint: &str, fault: Fault) {
        self.lock().script.push_back((endpoint.to_owned(), fault));
    }

    /// Stop (`true`) or resume (`false`) injecting: while paused, calls are counted and no
    /// rule or script fires (scripted faults stay queued). A test uses it to run a clean pass
    /// after a faulty one against the same simulator.
    pub fn set_paused(&self, paused: bool) {
        self.lock().paused = paused;
    }

    /// The fault for this call to `endpoint`, if any; counts it.
    pub fn next(&self, endpoint: &str) -> Option<Fault> {
        let mut state = self.lock();
        state.calls += 1;
        if state.paused {
            return None;
        }
        let scripted = state
            .script
            .iter()
            .position(|(e, _)| e == endpoint || e == "*");
        let fault = match scripted {
            Some(index) => state.script.remove(index).map(|(_, fault)| fault),
            None => {
                let mut chosen = None;
                for rule in &self.rules {
                    if rule.endpoint.as_deref().is_some_and(|e| e != endpoint) {
                        continue;
                    }
                    if state.rng.random_bool(rule.probability) {
                        chosen = Some(rule.fault.clone());
                        break;
                    }
                }
                chosen
            }
        };
        if let Some(fault) = &fault {
            *state.injected.entry(fault.kind()).or_insert(0) += 1;
        }
        fault
    }

    /// How many faults were injected, by [`Fault::kind`].
    pub fn injected(&self) -> BTreeMap<String, u64> {
        self.lock().injected.clone()
    }

    /// How many calls asked the plan.
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_faults() {
        let draw = |seed| {
            let plan = FaultPlan::seeded(seed).rule(None, 0.3, Fault::HtmlOk);
            (0..200)
                .map(|_| plan.next("GET /x").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    #[test]
    fn scripts_come_first_in_order_and_per_endpoint() {
        let plan = FaultPlan::none()
            .script("POST /a", Fault::ResetBeforeApply)
            .script("POST /a", Fault::ResetAfterApply)
            .script("*", Fault::MalformedBody);
        assert_eq!(plan.next("GET /b"), Some(Fault::MalformedBody));
        assert_eq!(plan.next("POST /a"), Some(Fault::ResetBeforeApply));
        assert_eq!(plan.next("POST /a"), Some(Fault::ResetAfterApply));
        assert_eq!(plan.next("POST /a"), None);
        assert_eq!(plan.injected().values().sum::<u64>(), 3);
        assert_eq!(plan.calls(), 4);
    }

    #[test]
    fn rules_can_target_one_endpoint() {
        let plan = FaultPlan::seeded(1).rule(
            Some("GET /only"),
            1.0,
            Fault::Status {
                status: 502,
                retry_after: None,
            },
        );
        assert_eq!(plan.next("GET /other"), None);
        assert!(plan.next("GET /only").is_some());
        assert_eq!(plan.injected().get("status_502"), Some(&1));
    }

    #[test]
    fn a_paused_plan_injects_nothing_until_resumed() {
        let plan = FaultPlan::seeded(1)
            .rule(None, 1.0, Fault::HtmlOk)
            .script("GET /a", Fault::MalformedBody);
        plan.set_paused(true);
        assert_eq!(plan.next("GET /a"), None);
        assert_eq!(plan.next("GET /b"), None);
        plan.set_paused(false);
        assert_eq!(plan.next("GET /a"), Some(Fault::MalformedBody));
        assert_eq!(plan.next("GET /b"), Some(Fault::HtmlOk));
        assert_eq!(plan.calls(), 4);
    }
}
