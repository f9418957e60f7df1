//! Fault plans for the simulators and in-memory targets: which call fails, how, reproducibly.
//!
//! Both bundled simulators (the ION/CloudSuite one in `infor-ion-client` and the Cin7 Core one
//! in `cin7-core-client`, feature `simulator`) ask a shared [`FaultPlan`] before answering each
//! call. A plan combines *positioned* faults (the n-th call to an endpoint fails in a given
//! way, see [`FaultPlan::at`]), a *script* (the next calls to an endpoint fail in a given way,
//! in order) and *rules* (each call to an endpoint fails with some probability, drawn from a
//! seeded generator, so a soak run is reproducible). The plan counts what it injected, by kind,
//! so a test can report "faults injected by kind" next to its outcome.
//!
//! An endpoint is any string the caller chooses: the simulators use `"METHOD /path"` (e.g.
//! `"POST /supplier"`); `sync-core`'s in-memory targets ask for `"write"` on every write call.
//! For one call the plan looks, in order, at the positioned faults, the script, then the
//! rules; the first that applies is the call's only fault.
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
    /// Positioned faults: endpoint → call number (0-based) → fault.
    at: BTreeMap<String, BTreeMap<u64, Fault>>,
    script: VecDeque<(String, Fault)>,
    injected: BTreeMap<String, u64>,
    calls: u64,
    /// Calls per endpoint (paused ones included).
    calls_to: BTreeMap<String, u64>,
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
                at: BTreeMap::new(),
                script: VecDeque::new(),
                injected: BTreeMap::new(),
                calls: 0,
                calls_to: BTreeMap::new(),
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

    /// Call number `n` (0-based) to `endpoint` fails with `fault`: `at("write", 0, ..)` is the
    /// first call, `at("write", 3, ..)` the fourth. Calls are numbered per endpoint from the
    /// plan's creation, paused calls included (a fault whose call came while paused never
    /// fires). `endpoint` is matched exactly; `"*"` numbers every call to the plan, whatever
    /// its endpoint. A positioned fault wins over scripts and rules for its call; a later
    /// fault for the same call replaces the earlier one.
    ///
    /// ```
    /// use sdk_common::faults::{Fault, FaultPlan};
    ///
    /// let plan = FaultPlan::none()
    ///     .at("write", 0, Fault::ResetAfterApply)
    ///     .at("write", 3, Fault::ResetBeforeApply);
    /// let faults: Vec<_> = (0..5).map(|_| plan.next("write")).collect();
    /// assert_eq!(
    ///     faults,
    ///     [Some(Fault::ResetAfterApply), None, None, Some(Fault::ResetBeforeApply), None]
    /// );
    /// assert_eq!(plan.injected().values().sum::<u64>(), 2);
    /// ```
    pub fn at(self, endpoint: &str, n: u64, fault: Fault) -> Self {
        self.push_at(endpoint, n, fault);
        self
    }

    /// Position a fault on a plan already in use (see [`FaultPlan::at`]); `n` counts from the
    /// plan's creation, so a call number already passed never fires.
    pub fn push_at(&self, endpoint: &str, n: u64, fault: Fault) {
        self.lock()
            .at
            .entry(endpoint.to_owned())
            .or_default()
            .insert(n, fault);
    }

    /// Stop (`true`) or resume (`false`) injecting: while paused, calls are counted (and
    /// numbered for [`FaultPlan::at`]) and no fault fires (scripted faults stay queued; a
    /// positioned fault whose call comes while paused is skipped). A test uses it to run a
    /// clean pass after a faulty one against the same simulator.
    pub fn set_paused(&self, paused: bool) {
        self.lock().paused = paused;
    }

    /// The fault for this call to `endpoint`, if any; counts it.
    pub fn next(&self, endpoint: &str) -> Option<Fault> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let overall = state.calls;
        state.calls += 1;
        let nth = match state.calls_to.get_mut(endpoint) {
            Some(count) => {
                *count += 1;
                *count - 1
            }
            None => {
                state.calls_to.insert(endpoint.to_owned(), 1);
                0
            }
        };
        if state.paused {
            return None;
        }
        let fault = Self::positioned(&mut state.at, endpoint, nth)
            .or_else(|| Self::positioned(&mut state.at, "*", overall))
            .or_else(|| {
                let index = state
                    .script
                    .iter()
                    .position(|(e, _)| e == endpoint || e == "*")?;
                state.script.remove(index).map(|(_, fault)| fault)
            })
            .or_else(|| {
                self.rules
                    .iter()
                    .filter(|rule| rule.endpoint.as_deref().is_none_or(|e| e == endpoint))
                    .find(|rule| state.rng.random_bool(rule.probability))
                    .map(|rule| rule.fault.clone())
            });
        if let Some(fault) = &fault {
            *state.injected.entry(fault.kind()).or_insert(0) += 1;
        }
        fault
    }

    /// Takes the fault positioned on call `n` of `endpoint`, if any.
    fn positioned(
        at: &mut BTreeMap<String, BTreeMap<u64, Fault>>,
        endpoint: &str,
        n: u64,
    ) -> Option<Fault> {
        at.get_mut(endpoint)?.remove(&n)
    }

    /// How many faults were injected, by [`Fault::kind`].
    pub fn injected(&self) -> BTreeMap<String, u64> {
        self.lock().injected.clone()
    }

    /// How many calls asked the plan.
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// How many calls to `endpoint` asked the plan (paused ones included): the number the
    /// next call to `endpoint` has for [`FaultPlan::at`].
    pub fn calls_to(&self, endpoint: &str) -> u64 {
        self.lock().calls_to.get(endpoint).copied().unwrap_or(0)
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

    #[test]
    fn positioned_faults_hit_the_nth_call_of_their_endpoint() {
        let plan = FaultPlan::none()
            .at("write", 1, Fault::ResetBeforeApply)
            .at("write", 3, Fault::ApplicationError)
            .at("read", 0, Fault::HtmlOk);
        assert_eq!(plan.next("write"), None);
        // Calls to other endpoints do not move the numbering of "write".
        assert_eq!(plan.next("read"), Some(Fault::HtmlOk));
        assert_eq!(plan.next("read"), None);
        assert_eq!(plan.next("write"), Some(Fault::ResetBeforeApply));
        assert_eq!(plan.next("write"), None);
        assert_eq!(plan.next("write"), Some(Fault::ApplicationError));
        assert_eq!(plan.next("write"), None);
        assert_eq!(plan.calls_to("write"), 5);
        assert_eq!(plan.calls_to("read"), 2);
        assert_eq!(plan.calls_to("never"), 0);
        assert_eq!(plan.calls(), 7);
        let injected = plan.injected();
        assert_eq!(injected.get("reset_before_apply"), Some(&1));
        assert_eq!(injected.get("application_error"), Some(&1));
        assert_eq!(injected.get("html_ok"), Some(&1));
        assert_eq!(injected.values().sum::<u64>(), 3);
    }

    #[test]
    fn a_positioned_fault_wins_over_scripts_and_rules_which_wait() {
        let plan = FaultPlan::seeded(5)
            .rule(Some("write"), 1.0, Fault::MalformedBody)
            .script("write", Fault::ResetAfterApply)
            .at("write", 0, Fault::ResetBeforeApply);
        assert_eq!(plan.next("write"), Some(Fault::ResetBeforeApply));
        // The script was not used up by the positioned fault's call.
        assert_eq!(plan.next("write"), Some(Fault::ResetAfterApply));
        assert_eq!(plan.next("write"), Some(Fault::MalformedBody));
    }

    #[test]
    fn a_later_fault_for_the_same_call_replaces_the_earlier() {
        let plan = FaultPlan::none()
            .at("write", 0, Fault::ResetBeforeApply)
            .at("write", 0, Fault::ResetAfterApply);
        assert_eq!(plan.next("write"), Some(Fault::ResetAfterApply));
        assert_eq!(plan.next("write"), None);
        assert_eq!(plan.injected().values().sum::<u64>(), 1);
    }

    #[test]
    fn star_numbers_every_call_to_the_plan() {
        let plan = FaultPlan::none().at("*", 2, Fault::HtmlOk);
        assert_eq!(plan.next("GET /a"), None);
        assert_eq!(plan.next("GET /b"), None);
        assert_eq!(plan.next("GET /c"), Some(Fault::HtmlOk));
        assert_eq!(plan.next("GET /a"), None);
    }

    #[test]
    fn paused_calls_are_numbered_and_their_positioned_faults_never_fire() {
        let plan = FaultPlan::none()
            .at("write", 0, Fault::ResetBeforeApply)
            .at("write", 2, Fault::ResetAfterApply);
        plan.set_paused(true);
        assert_eq!(plan.next("write"), None);
        plan.set_paused(false);
        assert_eq!(plan.next("write"), None);
        assert_eq!(plan.next("write"), Some(Fault::ResetAfterApply));
        assert_eq!(plan.next("write"), None);
        assert_eq!(plan.injected().values().sum::<u64>(), 1);
    }

    #[test]
    fn faults_can_be_positioned_on_a_plan_in_use() {
        let plan = FaultPlan::none();
        assert_eq!(plan.next("write"), None);
        // Call 0 is gone: positioning a fault there does nothing.
        plan.push_at("write", 0, Fault::HtmlOk);
        plan.push_at("write", plan.calls_to("write"), Fault::ResetAfterApply);
        assert_eq!(plan.next("write"), Some(Fault::ResetAfterApply));
        assert_eq!(plan.next("write"), None);
        assert_eq!(plan.injected().get("html_ok"), None);
    }
}
