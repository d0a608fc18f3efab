#!/usr/bin/env python3
"""Computes UK-WHO z-scores with rcpchgrowth (PyPI, AGPL-3.0) as an independent oracle
for redbook's growth engine. Run by scripts/test.sh; none of its code enters redbook.

  growth-oracle.py OUT.json

Cases cover both sexes, every measure and every reference band: UK90 preterm, WHO 2006
infant and child, UK90 child, including the switch days. Values are what a clinic would
write (rounded to 2 decimals), placed around the centile lines. Mid-parental heights
(height, SDS, target range) for parents short to tall, and parents' heights it refuses.
"""
import json
import sys
from datetime import date, timedelta

from rcpchgrowth.constants.validation_constants import (
    MAXIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
    MAXIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS,
    MINIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
    MINIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS,
)
from rcpchgrowth.date_calculations import chronological_decimal_age, corrected_decimal_age
from rcpchgrowth.global_functions import measurement_from_sds, sds_for_measurement
from rcpchgrowth.dynamic_growth import conditional_weight_gain, return_correlation
from rcpchgrowth.mid_parental_height import (
    lower_and_upper_limits_of_expected_height_z,
    mid_parental_height,
    mid_parental_height_z,
)

MEASURES = {"weight": "weight", "height": "height", "ofc": "head", "bmi": "bmi"}
BIRTH = date(2020, 1, 1)
# (gestation days, observation age in days): preterm, term, and each band's edges.
AGES = [(168, d) for d in (14, 28, 56, 90)] + [(224, d) for d in (7, 30, 60, 120, 400)] \
    + [(280, d) for d in (14, 15, 30, 100, 200, 365, 500, 700, 730, 731, 732, 900, 1200, 1460, 1461, 1462, 2000, 3000, 4500, 6000, 7000)] \
    + [(266, d) for d in (20, 300, 1000)] + [(294, d) for d in (1, 60, 1500)]


def main():
    cases = []
    for sex in ("male", "female"):
        for method, measure in MEASURES.items():
            for gestation, age_days in AGES:
                observed = BIRTH + timedelta(days=age_days)
                age = corrected_decimal_age(BIRTH, observed, gestation // 7, gestation % 7)
                for target in (-2.5, -0.9, 0.0, 1.1, 2.4):
                    try:
                        value = round(measurement_from_sds("uk-who", target, method, sex, age), 2)
                        z = sds_for_measurement("uk-who", age, method, value, sex)
                    except (LookupError, ValueError, TypeError, IndexError):
                        continue  # no reference for this measure at this age
                    if z is None:
                        continue
                    cases.append({
                        "sex": sex, "measure": measure, "birth_date": BIRTH.isoformat(),
                        "gestation_days": gestation, "date": observed.isoformat(), "value": value,
                        "z": z, "corrected_decimal_age": age,
                        "chronological_decimal_age": chronological_decimal_age(BIRTH, observed),
                    })
    # The Down syndrome (all measures, term to 20 years) and Turner syndrome (girls'
    # height, 1 to 20 years) charts, at decimal ages between their table rows.
    specialist = []
    for reference, measures, sexes, ages in (
        ("trisomy-21", MEASURES, ("male", "female"), [0.0, 0.04, 0.3, 0.97, 1.5, 2.01, 3.3, 5.5, 8.25, 12.7, 17.9, 20.0]),
        ("turners-syndrome", {"height": "height"}, ("female",), [1.0, 1.5, 2.3, 4.75, 9.1, 13.33, 16.6, 19.5, 20.0]),
    ):
        for sex in sexes:
            for method, measure in measures.items():
                for age in ages:
                    for target in (-2.0, 0.0, 1.5):
                        try:
                            value = round(measurement_from_sds(reference, target, method, sex, age), 2)
                            z = sds_for_measurement(reference, age, method, value, sex)
                        except (LookupError, ValueError, TypeError, IndexError):
                            continue
                        if z is None:
                            continue
                        specialist.append({"reference": reference, "sex": sex, "measure": measure,
                                           "age": age, "value": value, "z": z})
    parents = []
    for sex in ("male", "female"):
        for mother in (148.0, 155.5, 163.0, 171.2, 182.0):
            for father in (160.0, 170.4, 177.0, 186.5, 198.0):
                sds = mid_parental_height_z(mother, father)
                lower, upper = lower_and_upper_limits_of_expected_height_z(sds)
                parents.append({
                    "sex": sex, "mother_cm": mother, "father_cm": father,
                    "height_cm": mid_parental_height(mother, father, sex), "sds": sds,
                    "lower_cm": measurement_from_sds("uk-who", lower, "height", sex, 20.0),
                    "upper_cm": measurement_from_sds("uk-who", upper, "height", sex, 20.0),
                })
    # Conditional weight gain (Cole 1995) between ages in weeks, as rcpchgrowth reads the
    # correlation table; and one step of a 5th-centile thrive line.
    gains = []
    for t1, t2 in ((0.5, 4.0), (2.0, 6.3), (6.0, 8.0), (8.0, 12.0), (10.0, 11.0), (12.4, 16.9),
                   (20.0, 30.5), (30.5, 31.2), (40.2, 52.1)):
        for z1, z2 in ((0.0, -0.4), (1.2, 0.1), (-1.5, -1.6), (2.1, 2.6)):
            r = return_correlation(t1, t2, "weeks")
            gains.append({
                "t1_weeks": t1, "t2_weeks": t2, "z1": z1, "z2": z2, "r": r,
                "sds": (z2 - r * z1) / (1 - r * r) ** 0.5,
                "thrive_z2": conditional_weight_gain(z1, r, -1.6448536269514722),
            })
    # The door's limits: values just inside and beyond rcpchgrowth's advisory (4 SD) and
    # error (8 SD) limits, at ages the embedded WHO tables cover, judged by rcpchgrowth.
    limits = []
    for sex in ("male", "female"):
        for method in ("weight", "height", "ofc"):
            for gestation, age_days in ((280, 20), (280, 100), (266, 200), (280, 400), (280, 1000), (280, 1400)):
                observed = BIRTH + timedelta(days=age_days)
                age = corrected_decimal_age(BIRTH, observed, gestation // 7, gestation % 7)
                for target in (-8.1, -7.9, -4.1, -3.9, 3.9, 4.1, 7.9, 8.1):
                    try:
                        value = round(measurement_from_sds("uk-who", target, method, sex, age), 3)
                        z = sds_for_measurement("uk-who", age, method, value, sex)
                    except (LookupError, ValueError, TypeError, IndexError):
                        continue
                    if z is None or value <= 0:
                        continue
                    if MINIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS <= z <= MAXIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS:
                        verdict = "usual"
                    elif MINIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS <= z <= MAXIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS:
                        verdict = "unusual"
                    else:
                        verdict = "impossible"
                    limits.append({"sex": sex, "measure": MEASURES[method], "gestation_days": gestation,
                                   "birth_date": BIRTH.isoformat(), "date": observed.isoformat(),
                                   "value": value, "z": z, "verdict": verdict})
    refused = []
    for mother, father in ((60.0, 175.0), (165.0, 300.0)):
        try:
            mid_parental_height(mother, father, "male")
        except ValueError:
            refused.append({"mother_cm": mother, "father_cm": father})
    with open(sys.argv[1], "w") as f:
        json.dump({"z_scores": cases, "mid_parental": parents, "refused_parents": refused,
                   "weight_gain": gains, "specialist": specialist, "limits": limits}, f)
    print(f"{sys.argv[1]}: {len(cases)} z-score cases, {len(specialist)} on the Down and Turner "
          f"charts, {len(parents)} mid-parental heights")


if __name__ == "__main__":
    main()
