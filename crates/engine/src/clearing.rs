//! Interbank clearing à la Eisenberg & Noe (2001), with secured margin loans ahead of it.
//!
//! Clearing nodes are the holders (`0..H`) and the lenders (`H..H+L`). Node `i` owes
//! `p̄_i` in interbank claims and `o_i` in other liabilities, ranked equally; it pays
//! `x_i = p̄_i · min(1, w_i / (p̄_i + o_i))` out of what it has left, `w_i`:
//!
//! - a holder: `w = max(0, base + received − secured loan)`, where `base` is its marked
//!   assets (for a population of accounts: the accounts' equity above their loans). The
//!   margin lender is paid first, from everything the holder owns; what it cannot recover
//!   is its loss, `max(0, loan − base − received)`.
//! - a lender: `w = capital + o + p̄ + received − claims' face − borrower losses`: its
//!   balance sheet at book value less what it lost.
//!
//! Payments only fall when received payments fall, so the map is monotone; iterating from
//! full payment (`x = p̄`) decreases to the *greatest* clearing vector.

use crate::compile::{ClaimC, LenderC};

/// Most clearing sweeps. The iteration is monotone and usually ends in a few sweeps; the
/// cap only bounds pathological, slowly contracting rings.
const MAX_SWEEPS: usize = 10_000;

/// One holder, as clearing sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HolderNode {
    /// Marked assets before interbank receipts (positions, cash, other assets; for
    /// populations the accounts' surplus over their loans).
    pub base: f64,
    /// Margin loan, paid before interbank creditors (0 for populations, whose account-level
    /// shortfalls are in `fixed_shortfall`).
    pub secured: f64,
    /// Lender loss that does not depend on clearing (populations' accounts).
    pub fixed_shortfall: f64,
    /// Its margin lender.
    pub lender: Option<usize>,
    /// Other liabilities, ranked with interbank claims.
    pub other_liabilities: f64,
}

/// The clearing result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cleared {
    /// Payments made per node.
    pub paid: Vec<f64>,
    /// Payments received per node.
    pub recv: Vec<f64>,
    /// Loss each holder passes to its margin lender.
    pub shortfall: Vec<f64>,
    /// Per lender: losses on borrowers.
    pub borrower_losses: Vec<f64>,
    /// Per node: face value of claims held minus what was received.
    pub interbank_losses: Vec<f64>,
}

/// Clear the system. `owed[i]` is node `i`'s interbank obligations at face.
pub(crate) fn clear(
    holders: &[HolderNode],
    lenders: &[LenderC],
    claims: &[ClaimC],
    owed: &[f64],
) -> Cleared {
    let nh = holders.len();
    let n = nh + lenders.len();
    let mut face_in = vec![0.0; n];
    for c in claims {
        face_in[c.creditor] += c.amount;
    }
    let mut paid: Vec<f64> = owed.to_vec();
    let mut recv = vec![0.0; n];
    let mut shortfall = vec![0.0; nh];
    let mut borrower_losses = vec![0.0; lenders.len()];
    let scale = owed.iter().fold(1.0f64, |m, x| m.max(*x));
    for _ in 0..MAX_SWEEPS {
        recv.fill(0.0);
        for c in claims {
            let d = owed[c.debtor];
            if d > 0.0 {
                recv[c.creditor] += c.amount * (paid[c.debtor] / d);
            }
        }
        borrower_losses.fill(0.0);
        let mut change = 0.0f64;
        for (i, h) in holders.iter().enumerate() {
            let gross = h.base + recv[i];
            shortfall[i] = (h.secured - gross).max(0.0) + h.fixed_shortfall;
            if let Some(l) = h.lender.and_then(|l| borrower_losses.get_mut(l)) {
                *l += shortfall[i];
            }
            let w = (gross - h.secured).max(0.0);
            let x = pay(owed[i], h.other_liabilities, w);
            change = change.max((x - paid[i]).abs());
            paid[i] = x;
        }
        for (l, lc) in lenders.iter().enumerate() {
            let i = nh + l;
            let w = lc.capital + lc.other_liabilities + lc.owed + recv[i]
                - face_in[i]
                - borrower_losses[l];
            let x = pay(owed[i], lc.other_liabilities, w.max(0.0));
            change = change.max((x - paid[i]).abs());
            paid[i] = x;
        }
        if claims.is_empty() || change <= 1e-13 * scale {
            break;
        }
    }
    // Receipts consistent with the final payments.
    recv.fill(0.0);
    for c in claims {
        let d = owed[c.debtor];
        if d > 0.0 {
            recv[c.creditor] += c.amount * (paid[c.debtor] / d);
        }
    }
    let interbank_losses = (0..n).map(|i| (face_in[i] - recv[i]).max(0.0)).collect();
    Cleared {
        paid,
        recv,
        shortfall,
        borrower_losses,
        interbank_losses,
    }
}

fn pay(owed: f64, other: f64, w: f64) -> f64 {
    if owed <= 0.0 {
        0.0
    } else {
        owed * (w / (owed + other)).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lender(capital: f64, owed: f64) -> LenderC {
        LenderC {
            capital,
            trigger: None,
            tighten_by: 0.0,
            other_liabilities: 0.0,
            owed,
        }
    }

    // A 3-node ring of lenders A → B → C → A, each owing 10. A lost 8 on its borrowers and
    // has capital 5; B and C have capital 1.
    //
    // Payments: `x_A = min(10, max(0, 5 + 10 + x_C − 10 − 8)) = max(0, x_C − 3)`,
    // `x_B = min(10, 1 + x_A)`, `x_C = min(10, 1 + x_B)`. From full payment:
    // (10,10,10) → (7,10,10)… decreases until `x_A = 0, x_B = 1, x_C = 2`, which is a fixed
    // point: `x_A = max(0, 2 − 3) = 0`. So the greatest clearing vector is (0, 1, 2).
    #[test]
    fn eisenberg_noe_ring() {
        let lenders = [lender(5.0, 10.0), lender(1.0, 10.0), lender(1.0, 10.0)];
        let holders = [HolderNode {
            base: 0.0,
            secured: 0.0,
            fixed_shortfall: 8.0,
            lender: Some(0),
            other_liabilities: 0.0,
        }];
        let claims = [
            ClaimC {
                debtor: 1,
                creditor: 2,
                amount: 10.0,
            },
            ClaimC {
                debtor: 2,
                creditor: 3,
                amount: 10.0,
            },
            ClaimC {
                debtor: 3,
                creditor: 1,
                amount: 10.0,
            },
        ];
        let owed = [0.0, 10.0, 10.0, 10.0];
        let c = clear(&holders, &lenders, &claims, &owed);
        let want = [0.0, 0.0, 1.0, 2.0];
        for (x, w) in c.paid.iter().zip(want) {
            assert!((x - w).abs() < 1e-9, "{:?}", c.paid);
        }
        assert_eq!(c.borrower_losses[0], 8.0);
        // A received 2 of 10 from C; B received 0; C received 1.
        assert!((c.interbank_losses[1] - 8.0).abs() < 1e-9);
        assert!((c.interbank_losses[2] - 10.0).abs() < 1e-9);
        assert!((c.interbank_losses[3] - 9.0).abs() < 1e-9);
    }

    // A chain A → B → C where A can pay 60% of its debt: B receives 6 of 10 and, with 1 of
    // its own capital and 10 owed to C, pays min(10, 1 + 6) = 7.
    #[test]
    fn eisenberg_noe_chain() {
        let lenders = [lender(1.0, 10.0), lender(1.0, 10.0), lender(1.0, 0.0)];
        let holders = [HolderNode {
            base: 0.0,
            secured: 0.0,
            fixed_shortfall: 5.0,
            lender: Some(0),
            other_liabilities: 0.0,
        }];
        // A: w = 1 + 0 + 10 + 0 − 0 − 5 = 6 → pays 6.
        let claims = [
            ClaimC {
                debtor: 1,
                creditor: 2,
                amount: 10.0,
            },
            ClaimC {
                debtor: 2,
                creditor: 3,
                amount: 10.0,
            },
        ];
        let owed = [0.0, 10.0, 10.0, 0.0];
        let c = clear(&holders, &lenders, &claims, &owed);
        assert!((c.paid[1] - 6.0).abs() < 1e-12);
        assert!((c.paid[2] - 7.0).abs() < 1e-12);
        assert!((c.recv[3] - 7.0).abs() < 1e-12);
    }
}
