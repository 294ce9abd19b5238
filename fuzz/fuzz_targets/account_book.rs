//! The CSV account-book readers (`accounts_csv`, `holdings_csv`): the input is the
//! accounts file, a 0xFF byte, then the holdings file (0xFF never occurs in UTF-8 text,
//! so seeds stay readable). A fixed scenario with one `account_book` holder names both.
#![no_main]

use delever_fuzz::two_files;
use libfuzzer_sys::fuzz_target;

/// Three assets (the ids a holdings file may name), a lender, a book behind it.
const SCENARIO: &str = "name: book
description: A fixed scenario around a fuzzed account book.
as_of: 2026-05-29
assets:
  - { id: NVDA, price: 200.0, shares_outstanding: 2.43e10, adv_usd: 4.0e10, daily_vol: 0.025 }
  - { id: AMD, price: 100.0, shares_outstanding: 1.62e9, adv_usd: 8.0e9, daily_vol: 0.032 }
  - { id: MU, price: 90.0, shares_outstanding: 1.1e9, adv_usd: 2.0e9, daily_vol: 0.03 }
lenders:
  - { id: broker, capital: 1.0e10 }
holders:
  - id: book
    kind: account_book
    accounts_csv: a.csv
    holdings_csv: h.csv
    margin: { lender: broker, maintenance: 0.30 }
shocks:
  - { type: asset, asset: NVDA, return: -0.30 }
";

const NO_HOLDINGS: &[u8] = b"account,asset,shares\n";

fuzz_target!(|data: &[u8]| {
    two_files(
        data,
        ("book.yaml", SCENARIO),
        ("a.csv", "h.csv"),
        NO_HOLDINGS,
    );
});
