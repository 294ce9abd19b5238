//! The holder-table readers (`holder_tables`: `holders_csv`, `holdings_csv`), the plain
//! CSV path cut on every core and the record-at-a-time path both: the input is the
//! holders file, a 0xFF byte, then the holdings file (0xFF never occurs in UTF-8 text, so
//! seeds stay readable). A fixed scenario names both, beside one YAML holder (a holdings
//! row may name it, which is refused with its own message).
#![no_main]

use delever_fuzz::two_files;
use libfuzzer_sys::fuzz_target;

/// Three assets (the ids a holdings row may name), a lender, a YAML holder and the tables.
const SCENARIO: &str = "name: tables
description: A fixed scenario around fuzzed holder tables.
as_of: 2026-05-29
assets:
  - { id: NVDA, price: 200.0, shares_outstanding: 2.43e10, adv_usd: 4.0e10, daily_vol: 0.025 }
  - { id: AMD, price: 100.0, shares_outstanding: 1.62e9, adv_usd: 8.0e9, daily_vol: 0.032 }
  - { id: MU, price: 90.0, shares_outstanding: 1.1e9, adv_usd: 2.0e9, daily_vol: 0.03 }
lenders:
  - { id: broker, capital: 1.0e10 }
holders:
  - id: acct
    kind: margin_account
    holdings: [ { asset: NVDA, shares: 1000 } ]
    margin: { lender: broker, loan: 100000, maintenance: 0.30 }
holder_tables:
  - { holders_csv: t.csv, holdings_csv: h.csv }
shocks:
  - { type: asset, asset: NVDA, return: -0.30 }
";

const NO_HOLDINGS: &[u8] = b"holder,asset,shares\n";

fuzz_target!(|data: &[u8]| {
    two_files(
        data,
        ("tables.yaml", SCENARIO),
        ("t.csv", "h.csv"),
        NO_HOLDINGS,
    );
});
