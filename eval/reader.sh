#!/bin/sh
# Issue 22 and 24: the figures of the reader and the three outcomes in eval/README.md, rerun.
# Reports go to reports/reader-eval/ (git-ignored).
#   sh eval/reader.sh              # everything (about 50 minutes on 2 cores; the SQuAD and COVID-QA indexes are cached)
#   READER=DIR sh eval/reader.sh   # another exported reader (ragcomm train-reader --out DIR: DIR/onnx)
#   OUT=DIR GRID='reader=4,6;relative_floor=0.1' sh eval/reader.sh   # where reports go; the weights tried in step 1
# Does a new reader pass the shipping rule? Run this for the shipped reader and for the new one
# (in a copy of the repository, with the weights step 1 chose as Selection's defaults), then
#   python -m ragcomm.eval.reader_rule OUT_OF_SHIPPED OUT_OF_NEW
set -e
cd "$(dirname "$0")/.."
RAGCOMM=${RAGCOMM:-.venv/bin/ragcomm}
READER=${READER:-default}
SQUAD=train/qa/squad2_dev_part.json.gz
OUT=${OUT:-reports/reader-eval}
GRID=${GRID:-reader=0,1,4,6,8;relative_floor=0.1,0.4}
mkdir -p $OUT
# 1. The reader's weight, on the 'calibrate' half of the tune split (no reader learned from it)
#    and on the 4 SQuAD calibration articles.
for set in gold outside paraphrases; do
  $RAGCOMM eval --answers --gold eval/$set.jsonl --split calibrate --reader "$READER" \
    --answer-grid "$GRID" --json $OUT/weight-$set.json > $OUT/weight-$set.md
done
$RAGCOMM eval --answers --squad $SQUAD --articles "$(.venv/bin/python -c 'from ragcomm.eval.calibrate import CALIBRATION_ARTICLES; print(",".join(CALIBRATION_ARTICLES))')" \
  --reader "$READER" --answer-grid "$GRID" --json $OUT/weight-squadcal.json > $OUT/weight-squadcal.md
# 2. The abstention model and its operating point (writes eval/calibration.json).
$RAGCOMM eval --calibrate --reader "$READER" > $OUT/calibrate.md
# 3. Held-out figures: each set with the reader and without it (reader=0 keeps its signal for abstention).
for set in gold outside paraphrases; do
  $RAGCOMM eval --answers --gold eval/$set.jsonl --split heldout --reader "$READER" \
    --answer-grid "reader=0" --json $OUT/heldout-$set.json > $OUT/heldout-$set.md
done
# 4. SQuAD 2.0: the 4 report articles (never calibrated on), and all 8 validation articles.
$RAGCOMM eval --answers --squad $SQUAD --articles "$(.venv/bin/python -c 'from ragcomm.eval.calibrate import REPORT_ARTICLES; print(",".join(REPORT_ARTICLES))')" \
  --reader "$READER" --json $OUT/squad-report.json > $OUT/squad-report.md
$RAGCOMM eval --answers --squad $SQUAD --articles validation --reader "$READER" \
  --json $OUT/squad-all.json > $OUT/squad-all.md
# 5. COVID-QA dev and test (expert questions on long scientific papers, split by paper; the reader
#    trains on the train papers only): a larger set of questions written outside the project.
for part in dev test; do
  $RAGCOMM eval --answers --squad train/qa/covid_qa/covid-qa-$part.json.gz --articles all --reader "$READER" \
    --json $OUT/covidqa-$part.json > $OUT/covidqa-$part.md
done
# 6. Questions written outside the project on ../shared/realdocs (real NHS and NICE documents no
#    reader was trained on; eval/realdocs-outside.jsonl): reported beside the rule, not part of it.
REALDOCS=${RAGCOMM_SHARED:-../shared}/realdocs
if [ -d "$REALDOCS" ]; then
  $RAGCOMM eval --answers --gold eval/realdocs-outside.jsonl --corpus "$REALDOCS" --split all --reader "$READER" \
    --answer-grid "reader=0" --json $OUT/realdocs-outside.json > $OUT/realdocs-outside.md
else
  echo "no $REALDOCS: realdocs-outside skipped"
fi
