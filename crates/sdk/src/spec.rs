//! What a requester asks for, with relative deadlines, checked before any gas is spent.

use alloy::primitives::{B256, Bytes, U256, utils::parse_units};
use verity_primitives::envelope::ExecLimits;
use verity_settlement::{MIN_REPLICATION, Mode, TaskRequest};

use crate::{Result, SdkError};

/// A task to submit. Deadlines are relative: seconds after submission, on chain time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec {
    /// The WebAssembly module.
    pub program: Bytes,
    /// What the program reads as its input (the envelope around it is added on upload).
    pub input: Bytes,
    /// Execution limits every replica runs under (they travel in the input envelope).
    pub limits: ExecLimits,
    /// How the result is verified.
    pub mode: Mode,
    /// Operators to assign (replicated: k; otherwise 1).
    pub replication: u8,
    /// Matching reveals needed (replicated: a strict majority of `replication`).
    pub quorum: u8,
    /// Reward escrowed now, fees included, token wei.
    pub bounty: U256,
    /// Collateral locked from each operator (also the challenge bond), token wei. `None`: the
    /// least the market accepts, [`verity_settlement::collateral_floor`] of the bounty and
    /// audit rate for an optimistic task, 5 tokens otherwise.
    pub collateral: Option<U256>,
    /// Optimistic: the chance, in basis points, that the result is audited by a committee
    /// drawn after it is posted ([`DEFAULT_AUDIT_BPS`]); 0 otherwise.
    pub audit_bps: u16,
    /// Seconds the coordinator has to assign.
    pub assign_within: u64,
    /// Seconds after the assignment deadline to commit (replicated) or submit.
    pub execute_within: u64,
    /// Seconds after the commit deadline to reveal (replicated only).
    pub reveal_within: u64,
    /// Seconds a result can be challenged (optimistic only).
    pub challenge_window: u32,
    /// The registered result verifier (zk only).
    pub verifier_id: B256,
}

/// The audit rate an optimistic task asks for unless told otherwise: 20 %, so the collateral
/// floor is about 4.1 times the bounty (docs/protocol.md, "Audits").
pub const DEFAULT_AUDIT_BPS: u16 = 2_000;

/// 10^18: token wei per whole token.
fn whole(tokens: u64) -> U256 {
    U256::from(tokens) * U256::from(10u64).pow(U256::from(18u64))
}

/// Parses a token amount such as `"12.5"` into wei (18 decimals).
pub fn parse_tokens(text: &str) -> Result<U256> {
    // alloy's parser drops digits past the 18th place; an amount the token cannot represent
    // is refused instead of silently rounded.
    if let Some((_, frac)) = text.trim().split_once('.')
        && frac.len() > 18
    {
        return Err(SdkError::InvalidSpec {
            field: "amount",
            reason: format!("{text:?} has more than 18 decimal places"),
        });
    }
    let parsed = parse_units(text.trim(), 18).map_err(|e| SdkError::InvalidSpec {
        field: "amount",
        reason: format!("{text:?} is not a token amount: {e}"),
    })?;
    if parsed.is_negative() {
        return Err(SdkError::InvalidSpec {
            field: "amount",
            reason: format!("{text:?} is negative"),
        });
    }
    Ok(parsed.get_absolute())
}

impl TaskSpec {
    fn base(mode: Mode, program: impl Into<Bytes>, input: impl Into<Bytes>) -> Self {
        Self {
            program: program.into(),
            input: input.into(),
            limits: ExecLimits {
                fuel: 1_000_000_000,
                max_memory_bytes: 64 << 20,
                max_table_elements: 10_000,
                max_output_bytes: 1 << 20,
            },
            mode,
            replication: 1,
            quorum: 1,
            bounty: whole(10),
            collateral: None,
            audit_bps: 0,
            assign_within: 60,
            execute_within: 120,
            reveal_within: 0,
            challenge_window: 0,
            verifier_id: B256::ZERO,
        }
    }

    /// One operator, a challenge window (default 60 s).
    pub fn optimistic(program: impl Into<Bytes>, input: impl Into<Bytes>) -> Self {
        Self {
            challenge_window: 60,
            audit_bps: DEFAULT_AUDIT_BPS,
            ..Self::base(Mode::Optimistic, program, input)
        }
    }

    /// `k` operators with commit-reveal; the quorum is the smallest strict majority.
    pub fn replicated(program: impl Into<Bytes>, input: impl Into<Bytes>, k: u8) -> Self {
        Self {
            replication: k,
            quorum: k / 2 + 1,
            reveal_within: 120,
            ..Self::base(Mode::Replicated, program, input)
        }
    }

    /// One operator and a proof checked by the verifier registered as `verifier_id`.
    pub fn zk(program: impl Into<Bytes>, input: impl Into<Bytes>, verifier_id: B256) -> Self {
        Self {
            verifier_id,
            ..Self::base(Mode::ZkProof, program, input)
        }
    }

    /// Sets the bounty (token wei).
    pub fn bounty(mut self, wei: U256) -> Self {
        self.bounty = wei;
        self
    }

    /// Sets the collateral per operator (token wei).
    pub fn collateral(mut self, wei: U256) -> Self {
        self.collateral = Some(wei);
        self
    }

    /// Sets the audit rate in basis points (optimistic).
    pub fn audit_bps(mut self, bps: u16) -> Self {
        self.audit_bps = bps;
        self
    }

    /// The collateral the request carries: the one set, or the least the market accepts.
    pub fn collateral_wei(&self) -> Result<U256> {
        match (self.collateral, self.mode) {
            (Some(c), _) => Ok(c),
            (None, Mode::Optimistic) => Ok(self.floor()?.unwrap_or_else(|| whole(5))),
            (None, _) => Ok(whole(5)),
        }
    }

    /// The market's collateral floor for this bounty and audit rate; `None` for a rate of 0
    /// (unaudited, which only a test deployment accepts).
    fn floor(&self) -> Result<Option<U256>> {
        if self.audit_bps == 0 {
            return Ok(None);
        }
        verity_settlement::collateral_floor(self.bounty, self.audit_bps)
            .map(Some)
            .ok_or_else(|| SdkError::InvalidSpec {
                field: "audit_bps",
                reason: format!(
                    "{} is not a rate in basis points (0 to 10000)",
                    self.audit_bps
                ),
            })
    }

    /// Sets the execution limits.
    pub fn limits(mut self, limits: ExecLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the deadlines: assign within, execute within, reveal within (seconds).
    pub fn windows(mut self, assign: u64, execute: u64, reveal: u64) -> Self {
        self.assign_within = assign;
        self.execute_within = execute;
        self.reveal_within = reveal;
        self
    }

    /// Sets the challenge window (optimistic).
    pub fn challenge_window(mut self, secs: u32) -> Self {
        self.challenge_window = secs;
        self
    }

    /// Checks the spec as the market would, so a bad one costs no gas.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: String| Err(SdkError::InvalidSpec { field, reason });
        if self.program.is_empty() {
            return bad("program", "empty module".into());
        }
        if self.bounty.is_zero() {
            return bad("bounty", "must be positive".into());
        }
        if self.assign_within == 0 || self.execute_within == 0 {
            return bad(
                "windows",
                "assign and execute windows must be positive".into(),
            );
        }
        if self.limits.fuel == 0 || self.limits.max_output_bytes == 0 {
            return bad(
                "limits",
                "fuel and max_output_bytes must be positive".into(),
            );
        }
        match self.mode {
            Mode::Replicated => {
                if self.replication < MIN_REPLICATION {
                    return bad(
                        "replication",
                        format!(
                            "{} (replicated needs at least {MIN_REPLICATION}: with two seats one \
                             colluding seat could void an honest result)",
                            self.replication
                        ),
                    );
                }
                if self.quorum > self.replication
                    || u16::from(self.quorum) * 2 <= u16::from(self.replication)
                {
                    return bad(
                        "quorum",
                        format!(
                            "{} of {} is not a strict majority",
                            self.quorum, self.replication
                        ),
                    );
                }
                if self.reveal_within == 0 {
                    return bad(
                        "reveal_within",
                        "replicated tasks need a reveal window".into(),
                    );
                }
            }
            Mode::Optimistic | Mode::ZkProof => {
                if (self.replication, self.quorum) != (1, 1) {
                    return bad(
                        "replication",
                        format!("{} has exactly one operator", self.mode),
                    );
                }
                if self.mode == Mode::Optimistic && self.challenge_window == 0 {
                    return bad(
                        "challenge_window",
                        "optimistic tasks need a challenge window".into(),
                    );
                }
                if self.mode == Mode::ZkProof && self.verifier_id.is_zero() {
                    return bad("verifier_id", "zk tasks name a registered verifier".into());
                }
            }
        }
        if self.mode == Mode::Optimistic {
            if let (Some(floor), Some(c)) = (self.floor()?, self.collateral)
                && c < floor
            {
                return bad(
                    "collateral",
                    format!(
                        "{c} wei is below the market's floor of {floor} wei for a bounty of {} wei \
                         audited at {} bps: skipping the work would pay",
                        self.bounty, self.audit_bps
                    ),
                );
            }
        } else if self.audit_bps != 0 {
            return bad(
                "audit_bps",
                format!(
                    "only optimistic tasks are audited by draw, not {}",
                    self.mode
                ),
            );
        }
        Ok(())
    }

    /// The market request for this spec submitted at chain time `now`, for the uploaded
    /// program and input envelope.
    pub fn request(
        &self,
        now: u64,
        program_digest: B256,
        input_digest: B256,
    ) -> Result<TaskRequest> {
        self.validate()?;
        let (assign_deadline, commit_deadline) = deadlines(
            now,
            ("assign_within", self.assign_within),
            ("execute_within", self.execute_within),
        )?;
        let overflow = |field| SdkError::InvalidSpec {
            field,
            reason: "deadline overflows".into(),
        };
        let replicated = self.mode == Mode::Replicated;
        let reveal_deadline = if replicated {
            commit_deadline
                .checked_add(self.reveal_within)
                .ok_or_else(|| overflow("reveal_within"))?
        } else {
            0
        };
        Ok(TaskRequest {
            mode: self.mode,
            replication: self.replication,
            quorum: self.quorum,
            program_digest,
            input_digest,
            bounty: self.bounty,
            collateral: self.collateral_wei()?,
            assign_deadline,
            commit_deadline,
            reveal_deadline,
            challenge_window: if self.mode == Mode::Optimistic {
                self.challenge_window
            } else {
                0
            },
            verifier_id: if self.mode == Mode::ZkProof {
                self.verifier_id
            } else {
                B256::ZERO
            },
            audit_bps: self.audit_bps,
        })
    }
}

/// The assignment and commit (or submit) deadlines of a task submitted at chain time `now`:
/// `now + assign`, then `+ execute`, each named by its spec field for the overflow error.
pub(crate) fn deadlines(
    now: u64,
    assign: (&'static str, u64),
    execute: (&'static str, u64),
) -> Result<(u64, u64)> {
    let overflow = |field| SdkError::InvalidSpec {
        field,
        reason: "deadline overflows".into(),
    };
    let assign_deadline = now
        .checked_add(assign.1)
        .ok_or_else(|| overflow(assign.0))?;
    let commit_deadline = assign_deadline
        .checked_add(execute.1)
        .ok_or_else(|| overflow(execute.0))?;
    Ok((assign_deadline, commit_deadline))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: SdkError) -> &'static str {
        match e {
            SdkError::InvalidSpec { field, .. } => field,
            other => panic!("not a spec error: {other}"),
        }
    }

    #[test]
    fn deadlines_are_relative_to_submission_and_in_order() {
        let spec = TaskSpec::replicated(vec![0u8; 8], vec![1u8], 3).windows(10, 20, 30);
        let r = spec
            .request(1_000, B256::repeat_byte(1), B256::repeat_byte(2))
            .unwrap();
        assert_eq!(
            (r.assign_deadline, r.commit_deadline, r.reveal_deadline),
            (1_010, 1_030, 1_060)
        );
        assert_eq!((r.replication, r.quorum), (3, 2));
        assert_eq!(r.challenge_window, 0);
        let o = TaskSpec::optimistic(vec![0u8; 8], vec![])
            .request(5, B256::ZERO, B256::ZERO)
            .unwrap();
        assert_eq!((o.reveal_deadline, o.challenge_window), (0, 60));
    }

    #[test]
    fn bad_specs_name_their_field() {
        let p = || vec![0u8; 8];
        assert_eq!(
            field_of(TaskSpec::replicated(p(), vec![], 1).validate().unwrap_err()),
            "replication"
        );
        let mut even = TaskSpec::replicated(p(), vec![], 4);
        even.quorum = 2;
        assert_eq!(field_of(even.validate().unwrap_err()), "quorum");
        assert_eq!(
            field_of(
                TaskSpec::optimistic(p(), vec![])
                    .bounty(U256::ZERO)
                    .validate()
                    .unwrap_err()
            ),
            "bounty"
        );
        assert_eq!(
            field_of(
                TaskSpec::optimistic(p(), vec![])
                    .challenge_window(0)
                    .validate()
                    .unwrap_err()
            ),
            "challenge_window"
        );
        assert_eq!(
            field_of(
                TaskSpec::zk(p(), vec![], B256::ZERO)
                    .validate()
                    .unwrap_err()
            ),
            "verifier_id"
        );
        assert_eq!(
            field_of(
                TaskSpec::optimistic(Vec::<u8>::new(), vec![])
                    .validate()
                    .unwrap_err()
            ),
            "program"
        );
        let far = TaskSpec::optimistic(p(), vec![]).windows(u64::MAX, 1, 0);
        assert_eq!(
            field_of(far.request(10, B256::ZERO, B256::ZERO).unwrap_err()),
            "assign_within"
        );
    }

    #[test]
    fn token_amounts_parse_with_18_decimals() {
        assert_eq!(parse_tokens("1").unwrap(), whole(1));
        assert_eq!(parse_tokens("0.5").unwrap(), whole(1) / U256::from(2));
        assert!(parse_tokens("-1").is_err());
        assert!(parse_tokens("ten").is_err());
        assert!(parse_tokens("0.0000000000000000001").is_err());
    }
}
