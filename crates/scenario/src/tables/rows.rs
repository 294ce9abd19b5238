//! Rows of a holder table as the format's spec types: a holders row becomes a
//! [`HolderSpec`], a holdings row a [`HoldingSpec`] of the holder it names. Cells are
//! read here (numbers, whole numbers of days, booleans, ids, names); their ranges and
//! everything else are checked by the conversion every holder goes through.

use std::borrow::Cow;
use std::collections::BTreeSet;

use delever_graph::IdMap;

use super::read::Cell;
use super::{Bad, RowOrigin, TABLE_KINDS, TableFile};
use crate::error::clip;
use crate::kinds::{RuleName, RuleSpec};
use crate::spec::{
    CashUseName, Days, HolderSpec, HoldingSpec, KindName, MarginSpec, Num, SaleOrderName,
    ScenarioSpec,
};
use crate::suggest;

/// A data row of a table.
pub(super) struct Row<'a> {
    pub file: &'a TableFile,
    pub cells: &'a [Cell],
    /// 1-based data row.
    pub n: usize,
}

impl Row<'_> {
    /// The row's id as written, if its `id` cell is text or a whole number.
    pub fn id(&self) -> Option<String> {
        match self.get("id")? {
            Cell::Text(t) => Some(t.to_string()),
            Cell::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }

    /// The cell of `column`, unless the table has no such column or the cell is empty.
    fn get(&self, column: &str) -> Option<&Cell> {
        let i = self.file.column(column)?;
        self.cells.get(i).filter(|c| **c != Cell::Empty)
    }
}

/// Reads the cells of one row, reporting what cannot be read.
struct Reader<'r, 'b, 'f> {
    row: &'r Row<'r>,
    bad: &'b mut Bad<'f>,
    /// The column of the row's holder id, once read: messages name the holder
    /// (` (holder `b1`)`), formatted only for a message.
    who: Option<&'static str>,
    ok: bool,
}

/// What a column holds, for a hint.
fn help(column: &str) -> Option<String> {
    let key = column.strip_prefix("rule_").unwrap_or(column);
    crate::field_help(key).map(|h| format!("`{column}`: {h}"))
}

/// A text cell (borrowed: most cells are ids and names only compared or copied once),
/// or a whole number as decimal text.
fn as_text(c: &Cell) -> Option<Cow<'_, str>> {
    #[allow(clippy::cast_possible_truncation)] // integral and below 2^53
    match c {
        Cell::Text(t) => Some(Cow::Borrowed(&**t)),
        Cell::Int(i) => Some(Cow::Owned(i.to_string())),
        Cell::Num(x) if x.fract() == 0.0 && x.abs() < 9e15 => {
            Some(Cow::Owned((*x as i64).to_string()))
        }
        _ => None,
    }
}

/// A cell as a message quotes it.
fn shown(c: &Cell) -> String {
    match c {
        Cell::Empty => "an empty field".into(),
        Cell::Text(t) => format!("`{}`", clip(t)),
        Cell::Int(i) => format!("the number {i}"),
        Cell::Num(x) => format!("the number {x}"),
        Cell::Bool(b) => format!("the boolean {b}"),
    }
}

impl<'r> Reader<'r, '_, '_> {
    fn fail(&mut self, column: &str, message: String, hint: Option<String>) {
        self.ok = false;
        let who = self
            .who
            .and_then(|c| self.row.get(c))
            .and_then(as_text)
            .map(|id| format!(" (holder `{}`)", clip(&id)))
            .unwrap_or_default();
        self.bad.push(self.row.n, &who, column, message, hint);
    }

    /// A finite number, as the account books read one.
    fn num(&mut self, column: &str) -> Option<Num> {
        let c = self.row.get(column)?;
        let v = match c {
            Cell::Text(t) => t.parse::<f64>().ok(),
            #[allow(clippy::cast_precision_loss)] // exact to 2^53, past every limit
            Cell::Int(i) => Some(*i as f64),
            Cell::Num(x) => Some(*x),
            Cell::Bool(_) | Cell::Empty => None,
        };
        match v {
            Some(x) if x.is_finite() => Some(Num(x)),
            Some(_) => {
                let m = format!("expected a finite number, found {}", shown(c));
                self.fail(column, m, help(column));
                None
            }
            None => {
                let m = format!("expected a number, found {}", shown(c));
                let hint = help(column).or_else(|| {
                    Some(
                        "write a plain number, e.g. `0.30` or `1.2e9` (no `%`, `$` or units)"
                            .into(),
                    )
                });
                self.fail(column, m, hint);
                None
            }
        }
    }

    /// A whole number of days (its range is the conversion's).
    fn days(&mut self, column: &str) -> Option<Days> {
        let c = self.row.get(column)?;
        #[allow(clippy::cast_possible_truncation)] // integral and far inside i128
        let whole =
            |x: f64| (x.is_finite() && x.fract() == 0.0 && x.abs() < 1e30).then_some(x as i128);
        let v = match c {
            Cell::Text(t) => t
                .parse::<i128>()
                .ok()
                .or_else(|| t.parse::<f64>().ok().and_then(whole)),
            Cell::Int(i) => Some(*i),
            Cell::Num(x) => whole(*x),
            Cell::Bool(_) | Cell::Empty => None,
        };
        if v.is_none() {
            let m = format!("expected a whole number of days ≥ 0, found {}", shown(c));
            self.fail(
                column,
                m,
                Some(format!(
                    "`{column}`: a whole number of trading days, e.g. 2"
                )),
            );
        }
        v.map(Days)
    }

    fn boolean(&mut self, column: &str) -> Option<bool> {
        let c = self.row.get(column)?;
        match c {
            Cell::Bool(b) => Some(*b),
            Cell::Text(t) if t.eq_ignore_ascii_case("true") => Some(true),
            Cell::Text(t) if t.eq_ignore_ascii_case("false") => Some(false),
            _ => {
                let m = format!("expected true or false, found {}", shown(c));
                self.fail(
                    column,
                    m,
                    Some(format!("`{column}`: `true` or `false`, or empty for false")),
                );
                None
            }
        }
    }

    /// An id or a name: text, or a whole number written as decimal text.
    fn text(&mut self, column: &str) -> Option<Cow<'r, str>> {
        let c = self.row.get(column)?;
        if let Some(t) = as_text(c) {
            return Some(t);
        }
        let m = format!("expected text, found {}", shown(c));
        self.fail(
            column,
            m,
            Some(format!("write `{column}` as text (a string column)")),
        );
        None
    }

    /// A required id or name.
    fn required(&mut self, column: &str, what: &str) -> Option<Cow<'r, str>> {
        if self.row.get(column).is_none() {
            let m = format!("expected {what}, found an empty field");
            self.fail(column, m, help(column));
            return None;
        }
        self.text(column)
    }

    /// One of `names`.
    fn choice<T: Copy>(&mut self, column: &str, names: &[(&str, T)]) -> Option<T> {
        let t = self.text(column)?;
        if let Some((_, v)) = names.iter().find(|(n, _)| *n == t.as_ref()) {
            return Some(*v);
        }
        let all = names.iter().map(|(n, _)| *n);
        let hint = suggest::did_you_mean(&t, all.clone()).map(|k| format!("did you mean `{k}`?"));
        let m = format!(
            "unknown value `{}` for `{column}`; expected one of {}",
            clip(&t),
            suggest::list(all, 40)
        );
        self.fail(column, m, hint);
        None
    }
}

const KINDS: &[(&str, KindName)] = &[
    ("margin_account", KindName::MarginAccount),
    ("margin_cohort", KindName::MarginCohort),
    ("account_book", KindName::AccountBook),
    ("leveraged_etf", KindName::LeveragedEtf),
    ("leveraged_fund", KindName::LeveragedFund),
    ("bank", KindName::Bank),
    ("fund", KindName::Fund),
    ("options_dealer", KindName::OptionsDealer),
    ("vol_target", KindName::VolTarget),
    ("trend_follower", KindName::TrendFollower),
];

const RULES: &[(&str, RuleName)] = &[
    ("leverage_target", RuleName::LeverageTarget),
    ("threshold", RuleName::Threshold),
    ("fail_liquidate", RuleName::FailLiquidate),
    ("capital_ratio", RuleName::CapitalRatio),
    ("passive", RuleName::Passive),
];

/// The holder of a holders row, and whether every cell was read (those that could not be
/// are reported, and left out of the holder).
pub(super) fn holder(row: &Row<'_>, bad: &mut Bad<'_>) -> (HolderSpec, bool) {
    let mut r = Reader {
        row,
        bad,
        who: None,
        ok: true,
    };
    let id = r.required("id", "a holder id");
    if id.is_some() {
        r.who = Some("id");
    }
    let kind = match r.row.get("kind") {
        None => {
            r.fail(
                "kind",
                "expected a holder kind, found an empty field".into(),
                Some(table_kinds()),
            );
            None
        }
        Some(_) => r.choice("kind", KINDS),
    };
    if let Some(k) = kind
        && !TABLE_KINDS.contains(&k)
    {
        r.fail(
            "kind",
            format!("a `{k}` cannot come from a holder table; tables hold banks, funds, leveraged funds and margin accounts"),
            Some(format!("write the `{k}` in the scenario's `holders:` list")),
        );
    }
    let margin = margin(&mut r);
    let rule = rule(&mut r);
    let sale_order = r.choice(
        "sale_order",
        &[
            ("pro_rata", SaleOrderName::ProRata),
            ("most_liquid_first", SaleOrderName::MostLiquidFirst),
        ],
    );
    let cash_use = r.choice(
        "cash_use",
        &[
            ("first", CashUseName::First),
            ("pro_rata", CashUseName::ProRata),
            ("never", CashUseName::Never),
        ],
    );
    let h = HolderSpec {
        id: id.map(Cow::into_owned).unwrap_or_default(),
        kind: kind.unwrap_or(KindName::Bank),
        cash: r.num("cash"),
        other_assets: r.num("other_assets"),
        other_liabilities: r.num("other_liabilities"),
        sale_order,
        cash_use,
        starts_insolvent: r.boolean("starts_insolvent"),
        tags: None,
        source: r.text("source").map(Cow::into_owned),
        default_below_ratio: r.num("default_below_ratio"),
        holdings: None,
        margin,
        owes: None,
        cure_rate: r.num("cure_rate"),
        rule,
        redemption_beta: r.num("redemption_beta"),
        cure_days: r.days("cure_days"),
        participation: r.num("participation"),
        redemption_lag_days: r.days("redemption_lag_days"),
        rare: None,
    };
    (h, r.ok)
}

fn table_kinds() -> String {
    let names: Vec<&str> = TABLE_KINDS.iter().map(|k| k.name()).collect();
    format!("`kind`: one of {}", names.join(", "))
}

/// The margin loan of a row: its four columns, `lender` and `maintenance` required when
/// any is given.
fn margin(r: &mut Reader<'_, '_, '_>) -> Option<MarginSpec> {
    let given: Vec<&str> = ["lender", "loan", "maintenance", "reset"]
        .into_iter()
        .filter(|c| r.row.get(c).is_some())
        .collect();
    let first = *given.first()?;
    let lender = r.text("lender").map(Cow::into_owned);
    let loan = r.num("loan");
    let maintenance = r.num("maintenance");
    let reset = r.num("reset");
    for (column, present, what) in [
        ("lender", r.row.get("lender").is_some(), "a lender's id"),
        (
            "maintenance",
            r.row.get("maintenance").is_some(),
            "a maintenance margin",
        ),
    ] {
        if !present {
            r.fail(
                column,
                format!("a margin loan needs {what}: `{first}` is given but `{column}` is empty"),
                Some("fill `lender` (a lender's id), `loan` (USD) and `maintenance` (a fraction in (0, 1], e.g. 0.30), or leave all four margin columns empty".into()),
            );
        }
    }
    Some(MarginSpec {
        lender: lender?,
        loan,
        maintenance: maintenance?,
        reset,
    })
}

/// The rule of a row: `rule` names its type, `rule_*` its parameters.
fn rule(r: &mut Reader<'_, '_, '_>) -> Option<RuleSpec> {
    let params = [
        "rule_target",
        "rule_max",
        "rule_min_ratio",
        "rule_symmetric",
    ];
    let Some(_) = r.row.get("rule") else {
        if let Some(p) = params.into_iter().find(|c| r.row.get(c).is_some()) {
            r.fail(
                p,
                format!("`{p}` is given but `rule` is empty"),
                Some(format!(
                    "write the rule's type in `rule` ({})",
                    RULES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )),
            );
        }
        return None;
    };
    let kind = r.choice("rule", RULES);
    let spec = RuleSpec {
        kind: kind.unwrap_or(RuleName::Passive),
        target: r.num("rule_target"),
        symmetric: r.boolean("rule_symmetric"),
        max: r.num("rule_max"),
        min_ratio: r.num("rule_min_ratio"),
    };
    kind.map(|_| spec)
}

/// What a holdings table's rows need to be read: the table's holders by id (the first row
/// of an id wins, as the conversion reports the others as duplicates), the scenario's
/// holders, the holders file's name and the ids of holders rows already reported.
struct HoldingsCx<'a> {
    file: &'a TableFile,
    by_id: IdMap<&'a str, usize>,
    spec: &'a ScenarioSpec,
    holders_file: &'a str,
    dropped: &'a BTreeSet<String>,
}

impl HoldingsCx<'_> {
    /// Data row `n` (1-based): the index of its holder among the table's holders and its
    /// position, or `None` for a row left out (reported, or its holder's row is).
    fn read(&self, cells: &[Cell], n: usize, bad: &mut Bad<'_>) -> Option<(usize, HoldingSpec)> {
        let (k, shares, usd) = self.check(cells, n, bad)?;
        Some((
            k,
            HoldingSpec {
                asset: asset_of(self.file, cells, n),
                shares,
                usd,
            },
        ))
    }

    /// [`HoldingsCx::read`] without making the holding: its holder and amounts (the
    /// asset id is checked, and left in its cell).
    fn check(
        &self,
        cells: &[Cell],
        n: usize,
        bad: &mut Bad<'_>,
    ) -> Option<(usize, Option<Num>, Option<Num>)> {
        let row = Row {
            file: self.file,
            cells,
            n,
        };
        let mut r = Reader {
            row: &row,
            bad,
            who: None,
            ok: true,
        };
        let holder = r.required("holder", "a holder id");
        if holder.is_some() {
            r.who = Some("holder");
        }
        let asset = r.required("asset", "an asset id");
        let shares = r.num("shares");
        let usd = r.num("usd");
        match (r.row.get("shares").is_some(), r.row.get("usd").is_some()) {
            (true, true) => r.fail(
                "usd",
                "give one of `shares` and `usd`, not both".into(),
                Some("a position is a number of shares or a value in USD at the asset's price; write it in one of the two columns".into()),
            ),
            (false, false) => {
                let column = if self.file.columns.iter().any(|c| c == "shares") { "shares" } else { "usd" };
                r.fail(
                    column,
                    "the row gives neither `shares` nor `usd`".into(),
                    Some("write the position in `shares` (a number of shares) or in `usd` (its value at the asset's price)".into()),
                );
            }
            _ => {}
        }
        if holder
            .as_ref()
            .is_some_and(|h| self.dropped.contains(h.as_ref()))
        {
            // Its holder's row is reported already.
            return None;
        }
        let k = holder.as_ref().and_then(|h| self.by_id.get(h).copied());
        if let (Some(h), None) = (&holder, k) {
            if self.spec.holders.iter().any(|y| y.id == *h) {
                r.fail(
                    "holder",
                    format!("holder `{}` is in the scenario's `holders:` list, not in `{}`", clip(h), self.holders_file),
                    Some("a holdings table holds the positions of its own table's holders; write this holder's in its `holdings:`".into()),
                );
            } else {
                // Sorted, as the ordered map this was gave them.
                let known = self.by_id.sorted();
                let hint =
                    suggest::hint_for(h, known.iter().map(|(k, _)| **k), "holders in this table");
                r.fail(
                    "holder",
                    format!("no row of `{}` has the id `{}`", self.holders_file, clip(h)),
                    Some(hint),
                );
            }
        }
        if !r.ok {
            return None;
        }
        asset?;
        Some((k?, shares, usd))
    }
}

/// The asset id of a holdings row that was checked (a non-empty id).
fn asset_of(file: &TableFile, cells: &[Cell], n: usize) -> String {
    let row = Row { file, cells, n };
    row.get("asset")
        .and_then(as_text)
        .map(Cow::into_owned)
        .unwrap_or_default()
}

/// A holdings row that was read without a problem: its holder's index among the table's
/// holders and its amounts (the asset id stays in its cell until the holding is made).
#[derive(Clone, Copy)]
struct Clean {
    k: usize,
    shares: Option<Num>,
    usd: Option<Num>,
}

/// Give each of `specs` (with its origin) the holdings of `read` that are its, in row
/// order: the rows as read one by one when one has a problem.
fn distribute(
    read: Vec<Option<(usize, HoldingSpec)>>,
    fi: usize,
    specs: &mut [HolderSpec],
    origins: &mut [RowOrigin],
) {
    for (i, x) in read.into_iter().enumerate() {
        if let Some((k, h)) = x
            && let (Some(s), Some(o)) = (specs.get_mut(k), origins.get_mut(k))
        {
            s.holdings.get_or_insert_with(Vec::new).push(h);
            o.holdings.push((fi, i + 1));
        }
    }
}

/// Read a holdings table into the holdings of the table's holders (`specs`, with their
/// origins), in row order.
///
/// The rows are read on every core; only when one has a problem are they read again one
/// by one, so that the problems are reported in row order. Each holder's holdings are
/// then allocated once, at their number.
pub(super) fn holdings(
    rows: &super::read::Rows,
    file: &TableFile,
    fi: usize,
    (specs, origins): (&mut [HolderSpec], &mut [RowOrigin]),
    (spec, holders_file, dropped): (&ScenarioSpec, &str, &BTreeSet<String>),
    bad: &mut Bad<'_>,
) {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    // Hashed: a lookup per holdings row (issue 15).
    let mut by_id: IdMap<&str, usize> = IdMap::with_capacity(specs.len());
    for (k, h) in specs.iter().enumerate() {
        let _ = by_id.insert_new(h.id.as_str(), k);
    }
    let cx = HoldingsCx {
        file,
        by_id,
        spec,
        holders_file,
        dropped,
    };
    // Every row checked on every core, its holder found and its amounts read; nothing is
    // allocated yet.
    let failed = AtomicBool::new(false);
    let clean: Vec<Option<Clean>> = rows
        .par_iter()
        .enumerate()
        .with_min_len(1024)
        .map(|(i, cells)| {
            if cells.is_empty() || failed.load(Ordering::Relaxed) {
                return None;
            }
            let mut mine = Bad::new(file);
            let read = cx.check(cells, i + 1, &mut mine);
            if read.is_none() || !mine.problems.is_empty() || mine.more > 0 {
                failed.store(true, Ordering::Relaxed);
            }
            read.map(|(k, shares, usd)| Clean { k, shares, usd })
        })
        .collect();
    if failed.load(Ordering::Relaxed) {
        drop(clean);
        let read: Vec<Option<(usize, HoldingSpec)>> = rows
            .iter()
            .enumerate()
            .map(|(i, cells)| {
                if cells.is_empty() {
                    None
                } else {
                    cx.read(cells, i + 1, bad)
                }
            })
            .collect();
        drop(cx);
        distribute(read, fi, specs, origins);
        return;
    }
    drop(cx);
    // The rows of each holder, in row order (a counting sort by holder), then each
    // holder's holdings made on every core, allocated once at their number.
    let mut start = vec![0usize; specs.len() + 1];
    for c in clean.iter().flatten() {
        start[c.k + 1] += 1;
    }
    for k in 1..start.len() {
        start[k] += start[k - 1];
    }
    let mut next = start.clone();
    let mut order = vec![0u32; start[specs.len()]];
    for (i, c) in clean.iter().enumerate() {
        if let Some(c) = c {
            // Rows are fewer than `MAX_TABLE_ROWS`, far below `u32::MAX`.
            order[next[c.k]] = i as u32;
            next[c.k] += 1;
        }
    }
    specs
        .par_iter_mut()
        .zip(origins.par_iter_mut())
        .enumerate()
        .with_min_len(1024)
        .for_each(|(k, (s, o))| {
            let mine = &order[start[k]..start[k + 1]];
            if mine.is_empty() {
                return;
            }
            let mut held = Vec::with_capacity(mine.len());
            o.holdings.reserve_exact(mine.len());
            for &i in mine {
                let i = i as usize;
                let (Some(Some(c)), Some(cells)) = (clean.get(i), rows.get(i)) else {
                    continue;
                };
                held.push(HoldingSpec {
                    asset: asset_of(file, cells, i + 1),
                    shares: c.shares,
                    usd: c.usd,
                });
                o.holdings.push((fi, i + 1));
            }
            s.holdings = Some(held);
        });
}
