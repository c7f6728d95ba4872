#!/usr/bin/env python3
"""Writes data/auto_mpg/auto_mpg.csv from the Auto MPG data set that Debian's
python3-vega-datasets ships (vega_datasets/_data/cars.json).

Rows with a missing value (8 without miles per gallon, 6 without horsepower) are
dropped, leaving the 392 cars the data set is usually studied with. The model year
becomes a number (70 for 1970), and the origin three 0/1 columns. The target, miles
per gallon, is the last column. Rows keep the file's order.
Usage: tools/make_auto_mpg.py [OUT.csv]"""
import json
import sys
from pathlib import Path

import vega_datasets

source = Path(vega_datasets.__file__).parent / "_data" / "cars.json"
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "data/auto_mpg/auto_mpg.csv"
cars = json.loads(source.read_text())
columns = ["cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year",
           "origin_usa", "origin_europe", "origin_japan", "mpg"]
lines = [",".join(columns)]
for car in cars:
    if any(value is None for value in car.values()):
        continue
    year = int(car["Year"][:4]) - 1900
    origin = car["Origin"]
    row = [car["Cylinders"], car["Displacement"], car["Horsepower"], car["Weight_in_lbs"], car["Acceleration"],
           year, int(origin == "USA"), int(origin == "Europe"), int(origin == "Japan"), car["Miles_per_Gallon"]]
    lines.append(",".join(repr(v) if isinstance(v, float) else str(v) for v in row))
out.write_text("\n".join(lines) + "\n")
print(f"wrote {out}: {len(lines) - 1} cars from {source}")
