#!/usr/bin/env python3
"""Builds redbook's growth LMS tables from the rcpchgrowth package (PyPI).

  growth-tables.py who   OUT.csv   WHO 2006 tables (open data): 42 weeks to 4 years.
                                    The output is committed as core/data/who_2006_lms.csv.
  growth-tables.py uk90  OUT.csv   UK90 preterm and child tables: MRC licence, for local
                                    use and tests only. Never commit the output. With them,
                                    the Down and Turner syndrome charts (licence not stated);
                                    the weight correlations by week (Cole 1995) for thrive
                                    lines, licensed no more openly: rows
                                    weight_correlation,WEEK,WEEK,R.

Needs rcpchgrowth importable (scripts/test.sh installs it in .tools/venv). Only the data
files are read; none of rcpchgrowth's code (AGPL-3.0) is used or copied.
Format, one row per table age: reference,measure,sex,decimal_age,L,M,S
"""
import csv
import json
import sys
from importlib import resources

MEASURES = {"weight": "weight", "height": "height", "ofc": "head", "bmi": "bmi"}


def table(path):
    root = resources.files("rcpchgrowth.data_tables")
    for part in path.split("/"):
        root = root / part
    return json.loads(root.read_text())["measurement"]


def rows(reference, data, keep=lambda age: True):
    for source, measure in MEASURES.items():
        for sex in ("male", "female"):
            for row in data[source].get(sex, []):
                if row["L"] == "" or not keep(row["decimal_age"]):
                    continue  # e.g. no BMI before 42 weeks
                yield [reference, measure, sex, repr(float(row["decimal_age"])), row["L"], row["M"], row["S"]]


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "who":
        header = "# WHO Child Growth Standards 2006 (WHO MGRS), open data; daily LMS from the rcpchgrowth package"
        # Only the UK-WHO ranges: the infant table from birth to 2 years, the child table to 4 years.
        data = list(rows("who_2006_infant", table("who/who_infants.json")))
        data += rows("who_2006_child", table("who/who_children.json"), keep=lambda age: age <= 4.0)
    elif kind == "uk90":
        header = "# redbook UK90 pack: UK 1990 reference (MRC licence); NOT for redistribution"
        data = list(rows("uk90_preterm", table("uk90_preterm.json")))
        data += rows("uk90_child", table("uk90_child.json"))
        # Down syndrome (Styles et al. 2002) and Turner syndrome (Lyon et al. 1985): no
        # licence is stated for either, so they travel only in this pack (docs/adr/0003).
        data += rows("trisomy_21", table("trisomy_21.json"))
        data += rows("turner", table("turner.json"))
        matrix = json.loads((resources.files("rcpchgrowth.data_tables")
                             / "uk_who_weight_correlation_matrices"
                             / "weight_correlation_by_week.json").read_text())
        correlations = [["weight_correlation", t1, t2, repr(float(r))]
                        for t1, row in enumerate(matrix) for t2, r in sorted(row.items(), key=lambda kv: int(kv[0]))]
    else:
        sys.exit("usage: growth-tables.py who|uk90 OUT.csv")
    with open(out, "w", newline="") as f:
        f.write(header + "\n")
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["reference", "measure", "sex", "decimal_age", "L", "M", "S"])
        writer.writerows(data)
        if kind == "uk90":
            writer.writerows(correlations)
    print(f"{out}: {len(data)} rows")


if __name__ == "__main__":
    main()
