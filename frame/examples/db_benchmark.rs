//! The db-benchmark (duckdblabs) group-by and join questions on Stratus frames, plus its data
//! generator reimplemented with the same distributions.
//!
//! ```sh
//! # generate the data (1e7 rows, K = 100 and K = 10 group-by sets, the join sets)
//! cargo run --release -p stratus-frame --example db_benchmark -- gen target/db-benchmark 1e7
//! # time the questions (JSON lines on stdout; best of `runs`)
//! cargo run --release -p stratus-frame --example db_benchmark -- groupby target/db-benchmark/G1_1e7_1e2_0_0.csv 2
//! cargo run --release -p stratus-frame --example db_benchmark -- join target/db-benchmark 1e7 2
//! cargo run --release -p stratus-frame --example db_benchmark -- flights ../shared/data/flights.csv.gz 2
//! ```
//! `frame/scripts/db-benchmark.sh` runs all of it beside pandas and polars and prints the
//! comparison table.

use std::io::{BufWriter, Write};
use std::time::Instant;

use stratus_frame::{Agg, ArithOp, CsvOptions, DataFrame, JoinHow, SortKey, read_csv_with};

// The benchmark binary uses mimalloc, as polars' Python wheels ship jemalloc: large
// temporaries are reused instead of being returned to the OS and faulted in again.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BoxResult<()> {
    // Plain 4 KiB pages, as polars' jemalloc gets them. mimalloc asks for transparent huge
    // pages, and on a VM that reports free memory to its host (`page_reporting`) a huge page
    // is always a 2 MiB block the host has taken back: loading the join tables took 4.8-6.4 s
    // with them against 2.2-2.8 s without (system time 6.2-7.9 s against 1.1-1.4 s), in
    // alternating runs. Failing to set the flag (an old kernel) only costs that speed.
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_thp_disable(true) {
        eprintln!("could not disable transparent huge pages: {e}");
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .map(String::as_str)
            .ok_or("missing argument; see the example's doc comment")
    };
    match arg(0)? {
        "gen" => {
            let dir = std::path::PathBuf::from(arg(1)?);
            let n = arg(2)?.parse::<f64>()? as usize;
            std::fs::create_dir_all(&dir)?;
            for k in [100usize, 10] {
                let path = dir.join(format!("G1_{}_{}_0_0.csv", pretty(n), pretty(k)));
                if !path.exists() {
                    gen_groupby(&path, n, k, 108)?;
                }
            }
            if n >= 10_000_000 {
                gen_join(&dir, n)?;
            } else {
                eprintln!("not generating join tables: they need N >= 1e7");
            }
        }
        "groupby" => groupby(arg(1)?, arg(2).unwrap_or("2").parse()?)?,
        "join" => join(
            arg(1)?,
            arg(2)?.parse::<f64>()? as usize,
            arg(3).unwrap_or("2").parse()?,
        )?,
        "flights" => flights(arg(1)?, arg(2).unwrap_or("2").parse()?)?,
        other => {
            return Err(format!("unknown command {other:?} (gen, groupby, join, flights)").into());
        }
    }
    Ok(())
}

/// `1e7`-style names, as db-benchmark's files use.
fn pretty(n: usize) -> String {
    let e = (n as f64).log10().round() as u32;
    if 10usize.pow(e) == n {
        format!("1e{e}")
    } else {
        n.to_string()
    }
}

/// SplitMix64: a small, good-enough generator for benchmark data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in 1..=n (R's `sample(n, N, TRUE)`).
    fn sample(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize + 1
    }
    fn unif(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
    }
}

/// groupby-datagen.R: id1/id2 from K "id%03d" strings, id3 from N/K "id%010d" strings,
/// id4/id5 in 1..K, id6 in 1..N/K, v1 in 1..5, v2 in 1..15, v3 uniform(0, 100) rounded to 6
/// places.
fn gen_groupby(path: &std::path::Path, n: usize, k: usize, seed: u64) -> BoxResult<()> {
    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "id1,id2,id3,id4,id5,id6,v1,v2,v3")?;
    let nk = (n / k).max(1);
    for _ in 0..n {
        writeln!(
            out,
            "id{:03},id{:03},id{:010},{},{},{},{},{},{:.6}",
            rng.sample(k),
            rng.sample(k),
            rng.sample(nk),
            rng.sample(k),
            rng.sample(k),
            rng.sample(nk),
            rng.sample(5),
            rng.sample(15),
            (rng.unif() * 100.0 * 1e6).round() / 1e6
        )?;
    }
    out.flush()?;
    eprintln!(
        "wrote {} in {:.1}s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// join-datagen.R: keys split into x-only, both-sides and right-only sets (90% / 10% / 10%)
/// so that about 90% of the left rows match; small, medium and big right tables.
fn gen_join(dir: &std::path::Path, n: usize) -> BoxResult<()> {
    if n < 10_000_000 {
        // The small right table's keys are n / 1e6, split 90 / 10 / 10: fewer than ten leave
        // one side of the split empty. db-benchmark's join data also starts at 1e7.
        return Err(format!("join tables need N >= 1e7 (got {n})").into());
    }
    let names = [
        format!("J1_{}_NA_0_0.csv", pretty(n)),
        format!("J1_{}_{}_0_0.csv", pretty(n), pretty(n / 1_000_000)),
        format!("J1_{}_{}_0_0.csv", pretty(n), pretty(n / 1_000)),
        format!("J1_{}_{}_0_0.csv", pretty(n), pretty(n)),
    ];
    if names.iter().all(|f| dir.join(f).exists()) {
        return Ok(());
    }
    let started = Instant::now();
    let mut rng = Rng(108);
    // split_xlr(n): a permutation of 1..1.1n cut into x (0.9n), l (0.1n) and r (0.1n).
    let mut split = |m: usize| {
        let mut key: Vec<usize> = (1..=m + m / 10).collect();
        rng.shuffle(&mut key);
        let x = key[..m * 9 / 10].to_vec();
        let l = key[m * 9 / 10..m].to_vec();
        let r = key[m..].to_vec();
        (x, l, r)
    };
    let (k1, k2, k3) = (split(n / 1_000_000), split(n / 1_000), split(n));
    let xl = |k: &(Vec<usize>, Vec<usize>, Vec<usize>)| [k.0.clone(), k.1.clone()].concat();
    let xr = |k: &(Vec<usize>, Vec<usize>, Vec<usize>)| [k.0.clone(), k.2.clone()].concat();
    let mut rng = Rng(109);
    let write = |name: &str,
                 header: &str,
                 rows: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>|
     -> BoxResult<()> {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join(name))?);
        writeln!(out, "{header}")?;
        rows(&mut out)?;
        out.flush()?;
        Ok(())
    };
    let (x1, x2, x3) = (xl(&k1), xl(&k2), xl(&k3));
    let mut r = Rng(110);
    write(&names[0], "id1,id2,id3,id4,id5,id6,v1", &mut |out| {
        for _ in 0..n {
            let (a, b, c) = (
                x1[r.sample(x1.len()) - 1],
                x2[r.sample(x2.len()) - 1],
                x3[r.sample(x3.len()) - 1],
            );
            writeln!(
                out,
                "{a},{b},{c},id{a},id{b},id{c},{:.6}",
                (r.unif() * 100.0 * 1e6).round() / 1e6
            )?;
        }
        Ok(())
    })?;
    // small: every key of x1 ∪ r1 once (shuffled); medium and big: id1/id2 sampled, the
    // join key unique.
    let mut small = xr(&k1);
    rng.shuffle(&mut small);
    write(&names[1], "id1,id4,v2", &mut |out| {
        for &a in &small {
            writeln!(
                out,
                "{a},id{a},{:.6}",
                (rng.unif() * 100.0 * 1e6).round() / 1e6
            )?;
        }
        Ok(())
    })?;
    let (r1, mut r2) = (xr(&k1), xr(&k2));
    let mut rng = Rng(111);
    rng.shuffle(&mut r2);
    write(&names[2], "id1,id2,id4,id5,v2", &mut |out| {
        for &b in &r2 {
            let a = r1[rng.sample(r1.len()) - 1];
            writeln!(
                out,
                "{a},{b},id{a},id{b},{:.6}",
                (rng.unif() * 100.0 * 1e6).round() / 1e6
            )?;
        }
        Ok(())
    })?;
    let mut r3 = xr(&k3);
    let mut rng = Rng(112);
    rng.shuffle(&mut r3);
    write(&names[3], "id1,id2,id3,id4,id5,id6,v2", &mut |out| {
        for &c in &r3 {
            let (a, b) = (r1[rng.sample(r1.len()) - 1], r2[rng.sample(r2.len()) - 1]);
            writeln!(
                out,
                "{a},{b},{c},id{a},id{b},id{c},{:.6}",
                (rng.unif() * 100.0 * 1e6).round() / 1e6
            )?;
        }
        Ok(())
    })?;
    eprintln!(
        "wrote the join tables in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Sum of the named result columns (the benchmark's checksum), nulls and NaN skipped.
fn checksum(df: &DataFrame, cols: &[&str]) -> BoxResult<Vec<f64>> {
    cols.iter()
        .map(|c| {
            let col = df.column(c)?;
            let p = col
                .to_f64()
                .ok_or_else(|| format!("checksum column {c} is not numeric"))?;
            Ok((0..p.len())
                .filter_map(|i| p.get(i))
                .filter(|v| !v.is_nan())
                .sum())
        })
        .collect()
}

fn report(task: &str, question: &str, secs: f64, rows: usize, chk: &[f64]) {
    let chk: Vec<String> = chk.iter().map(|c| format!("{c:.6}")).collect();
    println!(
        "{{\"engine\":\"stratus\",\"task\":\"{task}\",\"question\":\"{question}\",\"seconds\":{secs:.4},\"rows\":{rows},\"chk\":[{}]}}",
        chk.join(",")
    );
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The best time of `runs` runs of `f`, and the last run's result. Each run's result is
/// dropped before the next starts, as db-benchmark's scripts `del ans` between runs.
fn time<T>(runs: usize, mut f: impl FnMut() -> BoxResult<T>) -> BoxResult<(f64, T)> {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..runs.max(1) {
        drop(last.take());
        let started = Instant::now();
        let out = f()?;
        best = best.min(started.elapsed().as_secs_f64());
        last = Some(out);
    }
    Ok((best, last.expect("ran at least once")))
}

fn groupby(path: &str, runs: usize) -> BoxResult<()> {
    let task = std::path::Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("groupby")
        .to_string();
    // As db-benchmark's pandas and polars scripts do, the string keys load as categoricals
    // (STRATUS_CATEGORICAL=id1,id2 picks others; empty keeps Utf8).
    let categorical = match std::env::var("STRATUS_CATEGORICAL") {
        Ok(list) => list
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Err(_) => vec!["id1".into(), "id2".into(), "id3".into()],
    };
    let options = CsvOptions {
        categorical,
        ..CsvOptions::default()
    };
    let started = Instant::now();
    let x = read_csv_with(path, &options)?;
    report(
        &task,
        "load",
        started.elapsed().as_secs_f64(),
        x.nrows(),
        &[],
    );
    let gb = |keys: &[&str]| -> BoxResult<stratus_frame::GroupBy<'_>> {
        Ok(x.groupby(keys)?.sort(false).dropna(false).as_index(false))
    };
    type Question<'a> = (
        &'a str,
        &'a [&'a str],
        Box<dyn Fn() -> BoxResult<DataFrame> + 'a>,
    );
    let questions: Vec<Question<'_>> = vec![
        (
            "q1",
            &["v1"],
            Box::new(|| Ok(gb(&["id1"])?.agg(&[("v1", Agg::Sum)])?)),
        ),
        (
            "q2",
            &["v1"],
            Box::new(|| Ok(gb(&["id1", "id2"])?.agg(&[("v1", Agg::Sum)])?)),
        ),
        (
            "q3",
            &["v1", "v3"],
            Box::new(|| Ok(gb(&["id3"])?.agg(&[("v1", Agg::Sum), ("v3", Agg::Mean)])?)),
        ),
        (
            "q4",
            &["v1", "v2", "v3"],
            Box::new(|| {
                Ok(
                    gb(&["id4"])?.agg(&[
                        ("v1", Agg::Mean),
                        ("v2", Agg::Mean),
                        ("v3", Agg::Mean),
                    ])?,
                )
            }),
        ),
        (
            "q5",
            &["v1", "v2", "v3"],
            Box::new(|| {
                Ok(gb(&["id6"])?.agg(&[("v1", Agg::Sum), ("v2", Agg::Sum), ("v3", Agg::Sum)])?)
            }),
        ),
        (
            "q6",
            &["v3_median", "v3_std"],
            Box::new(|| Ok(gb(&["id4", "id5"])?.agg(&[("v3", Agg::Median), ("v3", Agg::Std)])?)),
        ),
        (
            "q7",
            &["range_v1_v2"],
            Box::new(|| {
                let r = gb(&["id3"])?.agg(&[("v1", Agg::Max), ("v2", Agg::Min)])?;
                let range = r.column("v1")?.arith(ArithOp::Sub, r.column("v2")?)?;
                Ok(r.with_column("range_v1_v2", range)?
                    .select(&["id3", "range_v1_v2"])?)
            }),
        ),
        (
            "q8",
            &["v3"],
            Box::new(|| {
                let mask: Vec<bool> = (0..x.nrows())
                    .map(|i| !x.columns()[8].is_missing(i))
                    .collect();
                let sorted = x
                    .select(&["id6", "v3"])?
                    .filter_mask(&mask)?
                    .sort_by(&[SortKey::desc("v3")])?;
                Ok(sorted
                    .groupby(&["id6"])?
                    .sort(false)
                    .dropna(false)
                    .head(2)?)
            }),
        ),
        (
            "q9",
            &["r2"],
            Box::new(|| {
                let r = gb(&["id2", "id4"])?.corr("v1", "v2")?;
                let r2 = r.map_f64("corr", |c| c * c)?;
                Ok(r.with_column("r2", r2)?)
            }),
        ),
        (
            "q10",
            &["v3", "count"],
            Box::new(|| {
                Ok(gb(&["id1", "id2", "id3", "id4", "id5", "id6"])?
                    .agg_as(&[("v3", "v3", Agg::Sum), ("count", "v1", Agg::Size)])?)
            }),
        ),
    ];
    // STRATUS_QUESTIONS=q1,q8 runs a subset (for profiling).
    let only = std::env::var("STRATUS_QUESTIONS").ok();
    for (name, cols, q) in &questions {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|x| x == *name))
        {
            continue;
        }
        let (secs, out) = time(runs, q)?;
        report(&task, name, secs, out.nrows(), &checksum(&out, cols)?);
    }
    report(&task, "peak_rss_mib", peak_rss_mib(), 0, &[]);
    Ok(())
}

fn join(dir: &str, n: usize, runs: usize) -> BoxResult<()> {
    let dir = std::path::Path::new(dir);
    let file = |k: &str| dir.join(format!("J1_{}_{k}_0_0.csv", pretty(n)));
    let started = Instant::now();
    let x = read_csv_with(file("NA"), &CsvOptions::default())?;
    let small = read_csv_with(file(&pretty(n / 1_000_000)), &CsvOptions::default())?;
    let medium = read_csv_with(file(&pretty(n / 1_000)), &CsvOptions::default())?;
    let big = read_csv_with(file(&pretty(n)), &CsvOptions::default())?;
    let task = format!("J1_{}", pretty(n));
    report(
        &task,
        "load",
        started.elapsed().as_secs_f64(),
        x.nrows(),
        &[],
    );
    let questions: [(&str, &DataFrame, &str, JoinHow); 5] = [
        ("q1", &small, "id1", JoinHow::Inner),
        ("q2", &medium, "id2", JoinHow::Inner),
        ("q3", &medium, "id2", JoinHow::Left),
        ("q4", &medium, "id5", JoinHow::Inner),
        ("q5", &big, "id3", JoinHow::Inner),
    ];
    let only = std::env::var("STRATUS_QUESTIONS").ok();
    for (name, right, key, how) in questions {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|x| x == name))
        {
            continue;
        }
        let (secs, out) = time(runs, || Ok(x.merge(right, &[key], &[key], how)?))?;
        report(
            &task,
            name,
            secs,
            out.nrows(),
            &checksum(&out, &["v1", "v2"])?,
        );
    }
    report(&task, "peak_rss_mib", peak_rss_mib(), 0, &[]);
    Ok(())
}

/// Read the flights CSV, then mean delays and flight counts per carrier and origin.
fn flights(path: &str, runs: usize) -> BoxResult<()> {
    let (secs, df) = time(runs, || Ok(read_csv_with(path, &CsvOptions::default())?))?;
    report("flights", "load", secs, df.nrows(), &[]);
    let (secs, out) = time(runs, || {
        Ok(df
            .groupby(&["carrier", "origin"])?
            .as_index(false)
            .agg_as(&[
                ("dep_delay", "dep_delay", Agg::Mean),
                ("arr_delay", "arr_delay", Agg::Mean),
                ("n", "flight", Agg::Count),
            ])?)
    })?;
    report(
        "flights",
        "groupby",
        secs,
        out.nrows(),
        &checksum(&out, &["dep_delay", "arr_delay", "n"])?,
    );
    Ok(())
}
