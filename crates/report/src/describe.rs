//! `delever describe`: where the leveraged exposure sits, by kind and by asset.

use std::fmt::Write as _;

use delever_engine::DealerHedge;
use delever_graph::{KindTag, Summary};
use serde_json::{Value, json};

use crate::text::{Table, csv_field, num, usd};

/// A network summary ready to render.
#[derive(Debug, Clone)]
pub struct SummaryReport<'a> {
    name: &'a str,
    summary: &'a Summary,
    dealers: &'a [DealerHedge],
}

impl<'a> SummaryReport<'a> {
    /// Wrap a summary of the scenario `name`.
    pub fn new(name: &'a str, summary: &'a Summary) -> Self {
        SummaryReport {
            name,
            summary,
            dealers: &[],
        }
    }

    /// With the options dealers' hedges and gamma (`delever_engine::dealer_hedges`; the
    /// summary should count the hedges: `Network::summary_with`).
    #[must_use]
    pub fn with_dealers(mut self, dealers: &'a [DealerHedge]) -> Self {
        self.dealers = dealers;
        self
    }

    fn dealer_ids(&self, d: &DealerHedge) -> (&str, &str) {
        let s = self.summary;
        (
            s.holders.get(d.holder.get()).map_or("", |h| h.id.as_str()),
            s.assets.get(d.asset.get()).map_or("", |a| a.id.as_str()),
        )
    }

    /// Totals, then a table by kind and a table by asset (largest leveraged exposure first).
    pub fn to_table(&self) -> String {
        let s = self.summary;
        let mut out = format!(
            "scenario  {}\nleveraged exposure {}   margin loans {}   lender capital {}\n\n",
            self.name,
            usd(s.leveraged_exposure_usd),
            usd(s.loans_usd),
            usd(s.lender_capital_usd)
        );
        let mut kinds = Table::new([
            "holder kind",
            "holders",
            "accounts",
            "gross exposure",
            "equity",
            "leverage",
            "loans",
            "leveraged exposure",
            "share",
        ])
        .titled("By holder kind");
        for k in &s.kinds {
            kinds.row([
                k.kind.name().to_owned(),
                k.holders.to_string(),
                k.accounts.to_string(),
                usd(k.gross_exposure_usd),
                usd(k.equity_usd),
                leverage(k.gross_exposure_usd, k.equity_usd),
                usd(k.loan_usd),
                usd(k.leveraged_exposure_usd),
                share(k.leveraged_exposure_usd, s.leveraged_exposure_usd),
            ]);
        }
        out.push_str(&kinds.render());
        out.push('\n');

        let present: Vec<(usize, KindTag)> = KindTag::ALL
            .iter()
            .enumerate()
            .filter(|(_, k)| s.kinds.iter().any(|x| x.kind == **k))
            .map(|(i, k)| (i, *k))
            .collect();
        let mut header = vec!["asset".to_owned(), "price".to_owned()];
        header.extend(present.iter().map(|(_, k)| k.name().to_owned()));
        header.extend(["leveraged".to_owned(), "% of ADV".to_owned()]);
        let mut assets = Table::new(header).titled("By asset (exposure, USD)");
        let mut order: Vec<_> = s.assets.iter().collect();
        order.sort_by(|a, b| {
            b.leveraged_exposure_usd
                .total_cmp(&a.leveraged_exposure_usd)
        });
        for a in order {
            let mut row = vec![a.id.clone(), format!("{:.2}", a.price)];
            row.extend(present.iter().map(|(i, _)| usd(a.exposure_by_kind[*i])));
            row.push(usd(a.leveraged_exposure_usd));
            row.push(if a.adv_usd > 0.0 {
                format!("{:.0}%", 100.0 * a.leveraged_exposure_usd / a.adv_usd)
            } else {
                "-".into()
            });
            assets.row(row);
        }
        out.push_str(&assets.render());
        if !self.dealers.is_empty() {
            let mut t = Table::new([
                "dealer",
                "asset",
                "hedge (shares)",
                "hedge",
                "gamma per 1% move",
                "in a fall",
            ])
            .titled("Options dealers (delta hedge and dollar gamma at the reference prices)");
            for d in self.dealers {
                let (dealer, asset) = self.dealer_ids(d);
                t.row([
                    dealer.to_owned(),
                    asset.to_owned(),
                    format!("{:.0}", d.hedge_shares),
                    usd(d.hedge_usd),
                    usd(d.gamma_usd_per_pct),
                    if d.gamma_usd_per_pct < 0.0 {
                        "sells".to_owned()
                    } else if d.gamma_usd_per_pct > 0.0 {
                        "buys".to_owned()
                    } else {
                        "-".to_owned()
                    },
                ]);
            }
            out.push('\n');
            out.push_str(&t.render());
        }
        out
    }

    /// The summary as a JSON value with stable keys.
    pub fn to_json(&self) -> String {
        let s = self.summary;
        let v: Value = json!({
            "scenario": self.name,
            "leveraged_exposure_usd": s.leveraged_exposure_usd,
            "loans_usd": s.loans_usd,
            "lender_capital_usd": s.lender_capital_usd,
            "kinds": s.kinds.iter().map(|k| json!({
                "kind": k.kind.name(),
                "holders": k.holders,
                "accounts": k.accounts,
                "gross_exposure_usd": k.gross_exposure_usd,
                "equity_usd": k.equity_usd,
                "loan_usd": k.loan_usd,
                "leveraged_exposure_usd": k.leveraged_exposure_usd,
            })).collect::<Vec<_>>(),
            "assets": s.assets.iter().map(|a| json!({
                "id": a.id,
                "price": a.price,
                "adv_usd": a.adv_usd,
                "leveraged_exposure_usd": a.leveraged_exposure_usd,
                "exposure_by_kind": KindTag::ALL.iter().enumerate()
                    .filter(|(i, _)| a.exposure_by_kind[*i] != 0.0)
                    .map(|(i, k)| (k.name().to_owned(), json!(a.exposure_by_kind[i])))
                    .collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
            "holders": s.holders.iter().map(|h| json!({
                "id": h.id,
                "kind": h.kind.name(),
                "accounts": h.accounts,
                "gross_exposure_usd": h.gross_exposure_usd,
                "equity_usd": h.equity_usd,
                "leverage": if h.leverage.is_finite() { json!(h.leverage) } else { Value::Null },
                "loan_usd": h.loan_usd,
            })).collect::<Vec<_>>(),
            "dealers": self.dealers.iter().map(|d| {
                let (dealer, asset) = self.dealer_ids(d);
                json!({
                    "id": dealer,
                    "asset": asset,
                    "hedge_shares": d.hedge_shares,
                    "hedge_usd": d.hedge_usd,
                    "gamma_usd_per_pct": d.gamma_usd_per_pct,
                })
            }).collect::<Vec<_>>(),
        });
        crate::batch::versioned_json(&v)
    }

    /// Tidy CSV: `scope,id,metric,value`.
    pub fn to_csv(&self) -> String {
        let s = self.summary;
        let mut out = String::from("scope,id,metric,value\n");
        let mut put = |scope: &str, id: &str, metric: &str, v: String| {
            let _ = writeln!(out, "{scope},{},{metric},{v}", csv_field(id));
        };
        put(
            "network",
            self.name,
            "leveraged_exposure_usd",
            num(s.leveraged_exposure_usd),
        );
        put("network", self.name, "loans_usd", num(s.loans_usd));
        put(
            "network",
            self.name,
            "lender_capital_usd",
            num(s.lender_capital_usd),
        );
        for k in &s.kinds {
            let id = k.kind.name();
            put("kind", id, "holders", k.holders.to_string());
            put("kind", id, "accounts", k.accounts.to_string());
            put("kind", id, "gross_exposure_usd", num(k.gross_exposure_usd));
            put("kind", id, "equity_usd", num(k.equity_usd));
            put("kind", id, "loan_usd", num(k.loan_usd));
            put(
                "kind",
                id,
                "leveraged_exposure_usd",
                num(k.leveraged_exposure_usd),
            );
        }
        for a in &s.assets {
            put("asset", &a.id, "price", num(a.price));
            put(
                "asset",
                &a.id,
                "leveraged_exposure_usd",
                num(a.leveraged_exposure_usd),
            );
            for (i, k) in KindTag::ALL.iter().enumerate() {
                if a.exposure_by_kind[i] != 0.0 {
                    put(
                        "asset",
                        &a.id,
                        &format!("exposure_usd.{}", k.name()),
                        num(a.exposure_by_kind[i]),
                    );
                }
            }
        }
        for d in self.dealers {
            let (dealer, asset) = self.dealer_ids(d);
            let id = format!("{dealer}/{asset}");
            put("dealer", &id, "hedge_shares", num(d.hedge_shares));
            put("dealer", &id, "hedge_usd", num(d.hedge_usd));
            put("dealer", &id, "gamma_usd_per_pct", num(d.gamma_usd_per_pct));
        }
        out
    }
}

fn leverage(gross: f64, equity: f64) -> String {
    if equity > 0.0 {
        format!("{:.2}x", gross / equity)
    } else {
        "-".into()
    }
}

fn share(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        let s = format!("{:.1}%", 100.0 * part / whole);
        // A sum of nothing is -0.0, and a rounding residue can be -1e-17: neither is a
        // negative share.
        if s == "-0.0%" { "0.0%".into() } else { s }
    } else {
        "-".into()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shares_never_print_negative_zero() {
        assert_eq!(super::share(-0.0, 5.0), "0.0%");
        assert_eq!(super::share(-1e-17, 5.0), "0.0%");
        assert_eq!(super::share(1.0, 4.0), "25.0%");
        assert_eq!(super::share(-1.0, 4.0), "-25.0%");
        assert_eq!(super::share(1.0, 0.0), "-");
    }
}
