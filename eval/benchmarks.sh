#!/bin/sh
# CISI and Cranfield (and ADI) against the reference rows of ../shared/benchmarks/README.md,
# configured the same way: documents embedded whole, top-1000 candidate lists, bm25s with
# stemming and stopwords, rank-bm25 on plain lowercase words, dense without sentence scoring
# (--sentences off). Then the product's default hybrid (z-score, confidence weights, best
# sentence; eval/README.md) beside RRF. Every candidate of the choice: eval/choose.sh.
# Reports go to reports/ (git-ignored): <name>.md, <name>.json, runs/, <name>.png.
#   sh eval/benchmarks.sh                      # adi cisi cran
#   sh eval/benchmarks.sh cisi                 # one of them
set -e
cd "$(dirname "$0")/.."
BENCH=${BENCH:-../shared/benchmarks}
RAGCOMM=${RAGCOMM:-.venv/bin/ragcomm}
mkdir -p reports
for name in ${@:-adi cisi cran}; do
  $RAGCOMM eval --dataset "$BENCH/$name" --chunk-size whole --candidates 1000 \
    --bm25-backend bm25s,rank-bm25:plain --modes bm25,dense,hybrid \
    --fusion rrf,zscore --dense-weight 0.5 --sentences off,max \
    --json "reports/$name.json" --markdown "reports/$name.md" \
    --save-runs reports/runs --plot "reports/$name.png"
done
