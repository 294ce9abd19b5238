//! The builder's error: every [`Problem`] found, each naming its [`Subject`] and field.

use std::fmt;

/// What a [`Problem`] is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// An asset, by id.
    Asset(String),
    /// A holder, by id.
    Holder(String),
    /// A lender, by id.
    Lender(String),
    /// A holding edge.
    Holding {
        /// Holder id.
        holder: String,
        /// Asset id.
        asset: String,
    },
    /// A margin link.
    Loan {
        /// Lender id.
        lender: String,
        /// Borrower id.
        borrower: String,
    },
    /// An interbank claim.
    Claim {
        /// Debtor id.
        debtor: String,
        /// Creditor id.
        creditor: String,
    },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Asset(id) => write!(f, "asset `{id}`"),
            Subject::Holder(id) => write!(f, "holder `{id}`"),
            Subject::Lender(id) => write!(f, "lender `{id}`"),
            Subject::Holding { holder, asset } => write!(f, "holding of `{asset}` by `{holder}`"),
            Subject::Loan { lender, borrower } => {
                write!(f, "margin loan from `{lender}` to `{borrower}`")
            }
            Subject::Claim { debtor, creditor } => {
                write!(f, "claim of `{creditor}` on `{debtor}`")
            }
        }
    }
}

/// One invariant the network breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The node or edge at fault.
    pub subject: Subject,
    /// The field, as named in the scenario format (`margin.maintenance`, `ltv_buckets[2].ltv`,
    /// `basket`, …). Empty when the problem is about the node as a whole.
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.subject)?;
        if !self.field.is_empty() {
            write!(f, ", field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// The network could not be built; every problem found is listed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the network is invalid ({} problem{}):\n{}", .problems.len(), if .problems.len() == 1 { "" } else { "s" }, render(.problems))]
pub struct BuildError {
    /// All problems, in the order nodes and edges were added.
    pub problems: Vec<Problem>,
}

fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A problem without a hint.
pub(crate) fn problem(subject: Subject, field: &str, message: String) -> Problem {
    Problem {
        subject,
        field: field.to_owned(),
        message,
        hint: None,
    }
}

/// A problem with a hint.
pub(crate) fn hinted(subject: Subject, field: &str, message: String, hint: &str) -> Problem {
    Problem {
        subject,
        field: field.to_owned(),
        message,
        hint: Some(hint.to_owned()),
    }
}
