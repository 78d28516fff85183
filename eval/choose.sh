#!/bin/sh
# Issue #14: every candidate of eval/candidates.json on the gold set (chunks of 224/64, 100
# candidates per retriever: the product's protocol) and on ADI, CISI and Cranfield (documents
# whole, top-1000 lists: the reference rows' protocol), then the choice rule of eval/README.md
# and leave-one-collection-out. Reports go to reports/choice/ (git-ignored). ~25 min here.
#   sh eval/choose.sh                 # all four (BENCH=/path/to/benchmarks if not ../shared/benchmarks)
#   sh eval/choose.sh choose          # only the choice, from the reports already there
set -e
cd "$(dirname "$0")/.."
BENCH=${BENCH:-../shared/benchmarks}
RAGCOMM=${RAGCOMM:-.venv/bin/ragcomm}
OUT=reports/choice
mkdir -p $OUT
if [ "$1" != "choose" ]; then
  $RAGCOMM eval --grid eval/candidates.json --json $OUT/gold.json --markdown $OUT/gold.md
  for name in adi cisi cran; do
    $RAGCOMM eval --dataset "$BENCH/$name" --grid eval/candidates.json --chunk-size whole --candidates 1000 \
      --json "$OUT/$name.json" --markdown "$OUT/$name.md"
  done
fi
$RAGCOMM choose $OUT/gold.json $OUT/adi.json $OUT/cisi.json $OUT/cran.json \
  --json $OUT/choice.json --markdown $OUT/choice.md
