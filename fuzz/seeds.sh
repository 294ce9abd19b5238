#!/usr/bin/env bash
# Rebuild the fuzz seed corpus (fuzz/seeds/TARGET/) from the tests' fixtures and the
# shipped scenarios. The result is committed; rerun this when fixtures change.
#
#   fuzz/seeds.sh [DELEVER]   # DELEVER: a built delever binary (default target/release/delever)
#
# scenario_yaml  scenarios/*.yaml, tests/errors/*.yaml, tests/fixtures/*.yaml
# account_book   accounts CSV, a 0xFF byte, holdings CSV: the tests' books, in pairs
# holder_table   holders CSV, a 0xFF byte, holdings CSV: the tests' holder tables, in pairs
# field_path     field paths and --vary specs (the docs' and tests', and some edge cases)
# shard_merge    shard files written by `delever sweep/mc --shard`, a mode byte first:
#                0x01 = checks removed (the target writes them), 0x00 = as written
set -euo pipefail
cd "$(dirname "$0")/.."
delever=${1:-target/release/delever}
out=fuzz/seeds
rm -rf "$out"
mkdir -p "$out"/{scenario_yaml,account_book,holder_table,field_path,shard_merge}

for f in scenarios/*.yaml tests/errors/*.yaml tests/fixtures/*.yaml; do
  cp "$f" "$out/scenario_yaml/$(basename "$(dirname "$f")")-$(basename "$f")"
done

pair() { # NAME ACCOUNTS HOLDINGS
  { cat "$2"; printf '\377'; cat "$3"; } > "$out/account_book/$1"
}
fx=tests/fixtures/books eb=tests/errors/books
pair fixture "$fx/accounts.csv" "$fx/holdings.csv"
pair good "$eb/good_accounts.csv" "$eb/good_holdings.csv"
pair bad-row "$eb/bad_row_accounts.csv" "$eb/good_holdings.csv"
pair ragged "$eb/ragged_accounts.csv" "$eb/good_holdings.csv"
pair bad-header "$eb/good_accounts.csv" "$eb/bad_header_holdings.csv"
pair out-of-order "$eb/good_accounts.csv" "$eb/out_of_order_holdings.csv"
pair unknown-asset "$eb/good_accounts.csv" "$eb/unknown_asset_holdings.csv"
printf 'account,cash,loan\n"a 1",1e3,"5,000"\r\na2,0,0\n\377account,asset,shares\n"a 1",NVDA,1.5\n' \
  > "$out/account_book/quoted-crlf"

table() { # NAME HOLDERS HOLDINGS
  { cat "$2"; printf '\377'; cat "$3"; } > "$out/holder_table/$1"
}
ft=tests/fixtures/holder-tables/tables et=tests/errors/tables
table fixture "$ft/banks.csv" "$ft/holdings.csv"
table bad-cell "$et/bad_cell_holders.csv" "$et/good_holdings.csv"
table unknown-column "$et/unknown_column_holders.csv" "$et/good_holdings.csv"
# Every kind a table may hold, blank lines, a row naming the YAML holder: read plain.
printf 'id,kind,cash,other_assets,other_liabilities,rule,rule_target,lender,loan,maintenance\nb1,bank,1e9,2e9,2.5e9,leverage_target,10,,,\n,,,,,,,,,\nf1,fund,1e8,,,,,,,\nhf1,leveraged_fund,1e8,,,threshold,3,broker,5e8,0.25\nm1,margin_account,1e6,,,,,broker,2e6,0.3\n\377holder,asset,shares,usd\nb1,NVDA,,5e9\nf1,AMD,1e6,\nhf1,MU,2e6,\nm1,NVDA,1e4,\nacct,AMD,1,\n' \
  > "$out/holder_table/kinds-plain"
# Quoted fields and CRLF line ends: read one record at a time.
printf 'id,kind,cash\r\n"b 1",bank,"1,000"\r\nb2,bank,1e9\r\n\377holder,asset,usd\r\n"b 1",NVDA,1e9\r\nb2,AMD,2e9\r\n' \
  > "$out/holder_table/quoted-crlf"

i=0
while IFS= read -r spec; do
  printf '%s' "$spec" > "$out/field_path/$(printf '%02d' "$i")"
  i=$((i + 1))
done <<'SPECS'
shocks[0].return=-0.05:-0.40:8
holders[*].margin.maintenance=0.25:0.40:4
holders[hf-long-short-semis].margin.maintenance=0.2,0.3
assets[NVDA].impact.y=0.5,0.7,1.0
defaults.impact.y=0.5:1.5:5:log
engine.mode=equilibrium,sequential
engine.damping=1e-4:1:5:log
monte_carlo.horizon_days=1,5
holders[SOXL].multiple=3
holders[retail-diversified].accounts=1200000
holders[2].nav
assets[SOX-REST].daily_vol
shocks[0].retrun=-0.1,-0.2
holders[*]
a[]
a[
a..b
shocks[99999999999999999999999].return=1
shocks[0].return=1:2
SPECS

if [[ -x $delever ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  s=scenarios/cifuentes-shin-ferrucci.yaml
  "$delever" sweep "$s" --vary 'shocks[0].return=-0.05:-0.20:4' --shard 0/2 -o "$tmp/sweep0" -q
  "$delever" sweep "$s" --vary 'shocks[0].return=-0.05:-0.20:4' --shard 1/2 -o "$tmp/sweep1" -q
  "$delever" mc scenarios/semis-sentiment-reversal.yaml --draws 3 --shard 0/1 -o "$tmp/mc" -q
  strip() { sed -E 's/,"check":"[0-9a-f]{16}"\}$/}/' "$1"; }
  { printf '\001'; strip "$tmp/sweep0"; printf '\377'; strip "$tmp/sweep1"; } > "$out/shard_merge/sweep-sealed"
  { printf '\000'; cat "$tmp/sweep0"; printf '\377'; cat "$tmp/sweep1"; } > "$out/shard_merge/sweep-raw"
  { printf '\001'; strip "$tmp/mc"; } > "$out/shard_merge/mc-sealed"
  { printf '\000'; cat "$tmp/mc"; } > "$out/shard_merge/mc-raw"
else
  echo "seeds.sh: no $delever; shard_merge gets no seeds (build it: cargo build --release)" >&2
fi
du -sh "$out"
