#!/bin/sh
# Issue 22: the reader rereading the top 20 passages (search/rerank.py) against today's default
# hybrid, on the gold set (chunks 224/64) and on ADI, CISI and Cranfield (documents whole,
# top-1000 lists), then the choice rule of eval/README.md over the four. Reports go to
# reports/rerank/ (git-ignored).
#   sh eval/rerank.sh                   # READER=path/to/reader to measure another one
set -e
cd "$(dirname "$0")/.."
BENCH=${BENCH:-../shared/benchmarks}
RAGCOMM=${RAGCOMM:-.venv/bin/ragcomm}
READER=${READER:-default}
OUT=reports/rerank
mkdir -p $OUT
$RAGCOMM eval --grid eval/rerank.json --reader "$READER" --json $OUT/gold.json --markdown $OUT/gold.md
for name in adi cisi cran; do
  $RAGCOMM eval --dataset "$BENCH/$name" --grid eval/rerank.json --reader "$READER" --chunk-size whole \
    --candidates 1000 --json "$OUT/$name.json" --markdown "$OUT/$name.md"
done
$RAGCOMM choose $OUT/gold.json $OUT/adi.json $OUT/cisi.json $OUT/cran.json --json $OUT/choice.json \
  --markdown $OUT/choice.md
