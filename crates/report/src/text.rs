//! Plain aligned text tables and human-readable money.

/// A USD amount in human units: `$1.23B`, `-$450.0M`, `$12.3K`, `$7.00`.
pub fn usd(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let a = x.abs();
    let (v, unit) = if a >= 1e12 {
        (a / 1e12, "T")
    } else if a >= 1e9 {
        (a / 1e9, "B")
    } else if a >= 1e6 {
        (a / 1e6, "M")
    } else if a >= 1e3 {
        (a / 1e3, "K")
    } else {
        (a, "")
    };
    if unit.is_empty() {
        format!("{sign}${v:.2}")
    } else {
        format!("{sign}${v:.2}{unit}")
    }
}

/// Two amounts in [`usd`]'s units with as many decimals as it takes (up to 6) for them to
/// read differently when they differ: `$9.2634B` and `$9.2598B`, not `$9.26B` twice.
pub fn usd_pair(a: f64, b: f64) -> (String, String) {
    let scale = |x: f64| {
        let m = x.abs();
        if m >= 1e12 {
            (1e12, "T")
        } else if m >= 1e9 {
            (1e9, "B")
        } else if m >= 1e6 {
            (1e6, "M")
        } else if m >= 1e3 {
            (1e3, "K")
        } else {
            (1.0, "")
        }
    };
    let (d, unit) = scale(a.abs().max(b.abs()));
    let fmt = |x: f64, p: usize| {
        let sign = if x < 0.0 { "-" } else { "" };
        format!("{sign}${:.p$}{unit}", x.abs() / d)
    };
    for p in 2..=6 {
        let (x, y) = (fmt(a, p), fmt(b, p));
        if x != y || p == 6 {
            return (x, y);
        }
    }
    (usd(a), usd(b))
}

/// A percentage with one decimal: `-12.3%`.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// `part`'s share of `whole` as a percentage with one decimal, or `—` when `whole` is not
/// a positive finite amount (no net sales: a share of nothing means nothing).
#[must_use]
pub fn share(part: f64, whole: f64) -> String {
    if whole.is_finite() && whole > 0.0 && part.is_finite() {
        pct(part / whole)
    } else {
        "—".to_owned()
    }
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// A text table: a header row, then rows; the first column (and any marked with
/// [`Table::left`]) is left-aligned, the others right-aligned (they hold numbers).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub(crate) title: Option<String>,
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
    pub(crate) left: Vec<usize>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<I, S>(header: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            title: None,
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
            left: Vec::new(),
        }
    }

    /// Set a title printed above the table.
    #[must_use]
    pub fn titled(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Left-align column `i` too (for text columns).
    #[must_use]
    pub fn left(mut self, i: usize) -> Self {
        self.left.push(i);
        self
    }

    /// Append a row (missing cells are blank).
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Render with two spaces between columns and a rule under the header (or as
    /// [`crate::layout::render_with`] asks: markdown, or fitted to a width).
    pub fn render(&self) -> String {
        crate::layout::styled(self).unwrap_or_else(|| self.render_plain())
    }

    /// [`Table::render`] at full width, whatever the style.
    pub(crate) fn render_plain(&self) -> String {
        let cols = self
            .rows
            .iter()
            .map(Vec::len)
            .chain(std::iter::once(self.header.len()))
            .max()
            .unwrap_or(0);
        let mut width = vec![0usize; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, w) in width.iter().enumerate() {
                let c = cells.get(i).map_or("", String::as_str);
                let align = if i == 0 || self.left.contains(&i) {
                    Align::Left
                } else {
                    Align::Right
                };
                let pad = w - c.chars().count();
                if i > 0 {
                    s.push_str("  ");
                }
                match align {
                    Align::Left => {
                        s.push_str(c);
                        if i + 1 < cols {
                            s.push_str(&" ".repeat(pad));
                        }
                    }
                    Align::Right => {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(c);
                    }
                }
            }
            s.trim_end().to_owned()
        };
        let mut out = String::new();
        if let Some(t) = &self.title {
            out.push_str(t);
            out.push('\n');
        }
        out.push_str(&line(&self.header));
        out.push('\n');
        out.push_str(&"-".repeat(width.iter().sum::<usize>() + 2 * cols.saturating_sub(1)));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

/// A text cell for CSV (ids, names, paths, messages; never a number): quoted when it
/// holds a comma, quote or line break (RFC 4180), and neutralised when a spreadsheet would
/// read it as a formula.
///
/// A cell starting with `=`, `+`, `-`, `@`, tab or carriage return is written as
/// `"'…"`: a single quote prefixed inside a quoted field, as the OWASP CSV-injection
/// guidance suggests, so that `=HYPERLINK(…)` from a scenario's id is shown as text rather
/// than run. Numbers are written by the callers without this function, so `-0.25` stays a
/// number.
pub fn csv_field(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula {
        format!("\"'{}\"", s.replace('"', "\"\""))
    } else if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A CSV cell that may hold a number written as text (a check's `actual`): a finite
/// number such as `-0.25` is written as is, so that it stays a number; anything else is
/// text for [`csv_field`].
pub fn csv_cell(s: &str) -> String {
    // `+5` parses but a spreadsheet reads it as a formula; `inf` and `NaN` parse but are
    // words.
    let number = !s.starts_with('+') && s.parse::<f64>().is_ok_and(f64::is_finite);
    if number { s.to_owned() } else { csv_field(s) }
}

/// Significant digits a CSV number keeps ([`num`]).
pub const CSV_SIGNIFICANT: usize = 12;

/// A float as CSV text: the value rounded to `CSV_SIGNIFICANT` (12) significant digits,
/// then written in the shortest form that reads back to that rounded value (Rust's `{}`),
/// so that `154.07999999999998` is written `154.08` and `0.1 + 0.2` is written `0.3`.
/// Twelve digits keep a cent on a $10B figure while dropping the last few bits of binary
/// noise; JSON keeps every bit. Non-finite values are written as an empty cell.
pub fn num(x: f64) -> String {
    if x == 0.0 {
        // Covers −0.0, which a float `sum()` of nothing returns.
        "0".to_owned()
    } else if x.is_finite() {
        // `{:.11e}` rounds to 12 significant digits (correctly, in decimal); reading it
        // back gives the nearest `f64`, whose shortest form is the rounded decimal.
        let rounded: f64 = format!("{x:.prec$e}", prec = CSV_SIGNIFICANT - 1)
            .parse()
            .unwrap_or(x);
        format!("{}", rounded + 0.0)
    } else {
        String::new()
    }
}

/// Significant digits a price keeps in tables ([`price`]).
pub const PRICE_SIGNIFICANT: i32 = 5;

/// A price for tables and pages, with `PRICE_SIGNIFICANT` (5) significant digits rather
/// than a fixed number of decimals, so that a fall from 1 to 0.98924 reads `0.98924`, not
/// `0.99`: `100.00`, `0.99100`, `17090`; at 100,000 and above, whole units (`123457`);
/// below 0.0001 (a price at its floor), scientific (`1.0000e-7`).
pub fn price(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    let a = x.abs();
    if a >= 1e5 {
        format!("{x:.0}")
    } else if a < 1e-4 {
        format!("{x:.prec$e}", prec = (PRICE_SIGNIFICANT - 1) as usize)
    } else {
        // Digits before the point: floor(log10 a) + 1 (≤ 5 here), the rest after it.
        let whole = a.log10().floor() as i32 + 1;
        let decimals = (PRICE_SIGNIFICANT - whole).max(0) as usize;
        format!("{x:.decimals$}")
    }
}

/// Rewrite every `-0.0` number token in JSON text as `0.0`, leaving strings and key order
/// untouched.
pub(crate) fn positive_zeros(json: &str) -> String {
    let b = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped, mut last) = (false, false, 0);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
        } else if b[i..].starts_with(b"-0.0")
            && !b
                .get(i + 4)
                .is_some_and(|d| d.is_ascii_digit() || matches!(d, b'.' | b'e' | b'E'))
        {
            out.push_str(&json[last..i]);
            out.push_str("0.0");
            i += 4;
            last = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&json[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two losses that round alike at two decimals print with the decimals that tell them
    /// apart (issue: "$9.26B (greatest: $9.26B)" for a 1M-account book).
    #[test]
    fn a_pair_prints_the_digits_that_differ() {
        assert_eq!(
            usd_pair(9.2634e9, 9.2598e9),
            ("$9.263B".to_owned(), "$9.260B".to_owned())
        );
        assert_eq!(
            usd_pair(651.32e9, 260.53e9),
            ("$651.32B".to_owned(), "$260.53B".to_owned())
        );
        assert_eq!(usd_pair(1.0e9, 1.0e9).0, "$1.000000B");
        assert_eq!(usd_pair(-2.5e6, 1.0e3).0, "-$2.50M");
    }

    /// Prices keep five significant digits: a cascade from 1 to 0.98924 is visible
    /// (issue: "0.99 → 0.99 hides a cascade").
    #[test]
    fn prices_print_significant_digits() {
        for (x, want) in [
            (1.0, "1.0000"),
            (0.991, "0.99100"),
            (0.989_243_1, "0.98924"),
            (100.0, "100.00"),
            (154.079_999_999_999_98, "154.08"),
            (17_090.0, "17090"),
            (123_456.7, "123457"),
            (1.0e-7, "1.0000e-7"),
            (0.0, "0"),
            (-2.5, "-2.5000"),
        ] {
            assert_eq!(price(x), want, "{x}");
        }
    }

    /// CSV numbers carry no binary noise: 12 significant digits, shortest form.
    #[test]
    fn csv_numbers_are_rounded_to_twelve_significant_digits() {
        for (x, want) in [
            (154.079_999_999_999_98, "154.08"),
            (0.1 + 0.2, "0.3"),
            (445_499_999_999.999_94, "445500000000"),
            (1_999_999_998.0, "1999999998"),
            (-0.05, "-0.05"),
            (0.991, "0.991"),
            (1.0e-7, "0.0000001"),
            (f64::NAN, ""),
        ] {
            assert_eq!(num(x), want, "{x}");
        }
    }

    #[test]
    fn negative_zero_never_reaches_output() {
        let empty: [f64; 0] = [];
        let z: f64 = empty.iter().sum();
        assert_eq!(num(z), "0");
        let text =
            serde_json::json!({ "b": [z, 1.5, -0.05, -0.0e0], "a": z, "s": "-0.0" }).to_string();
        assert_eq!(
            positive_zeros(&text),
            r#"{"a":0.0,"b":[0.0,1.5,-0.05,0.0],"s":"-0.0"}"#
        );
    }

    #[test]
    fn a_share_is_a_percentage_of_a_positive_whole() {
        assert_eq!(share(1.5e9, 6.0e9), "25.0%");
        assert_eq!(share(-3.0e8, 6.0e9), "-5.0%");
        // No net sales: no share to speak of.
        assert_eq!(share(1.0, 0.0), "—");
        assert_eq!(share(1.0, -2.0), "—");
        assert_eq!(share(1.0, f64::NAN), "—");
    }

    #[test]
    fn usd_units() {
        assert_eq!(usd(1.234e9), "$1.23B");
        assert_eq!(usd(-4.5e8), "-$450.00M");
        assert_eq!(usd(7.0), "$7.00");
        assert_eq!(usd(2.5e12), "$2.50T");
    }

    #[test]
    fn table_aligns_numbers_right() {
        let mut t = Table::new(["id", "value"]);
        t.row(["a", "1"]);
        t.row(["bbb", "100"]);
        assert_eq!(
            t.render(),
            "id   value\n----------\na        1\nbbb    100\n"
        );
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn csv_neutralises_formula_cells() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for (cell, want) in [
            ("+cmd", "\"'+cmd\""),
            ("-2+3", "\"'-2+3\""),
            ("@SUM(A1)", "\"'@SUM(A1)\""),
            ("\tx", "\"'\tx\""),
            ("\rx", "\"'\rx\""),
            // Only the first character matters: these are plain text.
            ("a=b", "a=b"),
            ("x-1", "x-1"),
            ("", ""),
        ] {
            assert_eq!(csv_field(cell), want, "{cell:?}");
        }
        for (cell, want) in [
            ("-0.25", "-0.25"),
            ("-1e9", "-1e9"),
            ("3", "3"),
            ("+5", "\"'+5\""),
            ("-inf", "\"'-inf\""),
            ("-1+cmd", "\"'-1+cmd\""),
            ("sold", "sold"),
        ] {
            assert_eq!(csv_cell(cell), want, "{cell:?}");
        }
    }
}
