//! Train and evaluate the Naru-style estimator on a CSV file.
//!
//! ```sh
//! cargo run --release -p stratus-cardest --example cardest -- train [--csv PATH] [options]
//! cargo run --release -p stratus-cardest --example cardest -- eval  [--csv PATH] [options]
//! ```
//! `train` trains and reports bits per tuple vs. the data's entropy; `eval` also generates
//! Naru's workload and prints q-error quantiles for the model, independence and uniform
//! sampling at equal memory; `workload --sql PATH` only writes the workload with true counts;
//! `estimate --load MODEL --query 'carrier = "AA" AND distance >= 1000'` estimates one query
//! from a saved model alone (its stored schema resolves the literals; no CSV is read).
//! Options: `--rows N` (load at most N rows), `--delimiter C` (the CSV's field delimiter:
//! default `,`, or tab for a `.tsv` / `.tsv.gz` file; `tab` spells a tab), `--epochs N` (default: enough to visit about
//! two million rows, at least 5: `TrainConfig::default_epochs`), `--hidden N`, `--layers N`,
//! `--model resmade|made`, `--input onehot|binary|embedding`, `--output onehot|embedding`,
//! `--embedding N`, `--reuse-min-domain N` (embedding outputs only for larger columns),
//! `--factor-bits N` (split columns of more than 2^N values into digits; 0: never), `--batch N`, `--lr X`, `--queries N`, `--seed N`, `--samples N`, `--max-samples N` (adaptive: re-estimate a query whose samples'
//! weights concentrate on a few with 8x the samples, up to N; default: never),
//! `--sampling systematic|independent`; `--save PATH` (after
//! training), `--load PATH` (eval: evaluate a saved model instead of training one;
//! train: continue training it for `--epochs` more, with a fresh optimiser and schedule), `--sql PATH` (eval:
//! write `true_count<TAB>SELECT ...` per query, for `cardest/scripts/postgres.sh`),
//! `--worst N` (eval: print the N queries with the model's largest q-errors), `--jobs N`
//! (eval: estimate N queries at a time, one per thread; default 1).

use std::time::Instant;

use stratus_cardest::{
    Condition, CsvOptions, DEFAULT_FACTOR_BITS, Estimator, EstimatorConfig, Independence,
    InputEncoding, Literal, Made, MadeConfig, OutputEncoding, Progress, Query, Sampling, Table,
    TrainConfig, UniformSample, bits_per_tuple, exact_count, generate, q_error, quantile,
    read_path, train,
};

const DEFAULT_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/flights.csv.gz"
);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    if !["train", "eval", "workload", "estimate"].contains(&mode) {
        eprintln!(
            "usage: cardest train|eval|workload [--csv PATH] [--rows N] [--epochs N] [--hidden N] [--layers N] [--batch N] [--lr X] [--queries N] [--seed N] [--samples N]\n       cardest estimate --load MODEL --query TEXT [--samples N] [--max-samples N]"
        );
        std::process::exit(2);
    }
    let opt = |name: &str| -> Option<&str> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let num = |name: &str, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(opt(name).map(str::parse).transpose()?.unwrap_or(default))
    };
    if mode == "estimate" {
        return estimate_from_file(&opt);
    }
    let csv = opt("--csv").unwrap_or(DEFAULT_CSV);
    if !std::path::Path::new(csv).exists() {
        println!("data file {csv} is absent; skipping (pass --csv PATH)");
        return Ok(());
    }
    let seed = num("--seed", 1234)? as u64;
    let started = Instant::now();
    let rows = opt("--rows").map(str::parse).transpose()?;
    let delimiter = match opt("--delimiter") {
        Some("tab") | Some("\\t") => '\t',
        Some(d) => d.parse()?,
        None if csv.ends_with(".tsv") || csv.ends_with(".tsv.gz") => '\t',
        None => ',',
    };
    let table = read_path(
        csv,
        &CsvOptions {
            max_rows: rows,
            delimiter,
            ..Default::default()
        },
    )?;
    println!(
        "{csv}: {} rows x {} columns, domains {:?} (loaded in {:.1} s)",
        table.rows(),
        table.columns().len(),
        table.domains(),
        started.elapsed().as_secs_f64()
    );
    if mode == "workload" {
        return write_workload(&table, &args, seed);
    }
    let mcfg = MadeConfig {
        hidden: num("--hidden", 128)?,
        layers: num("--layers", 2)?,
        residual: opt("--model").unwrap_or("resmade") == "resmade",
        input: match opt("--input").unwrap_or("embedding") {
            "onehot" => InputEncoding::OneHot,
            "binary" => InputEncoding::Binary,
            "embedding" => InputEncoding::Embedding,
            other => return Err(format!("--input {other}: onehot|binary|embedding").into()),
        },
        output: match opt("--output").unwrap_or("onehot") {
            "onehot" => OutputEncoding::OneHot,
            "embedding" => OutputEncoding::Embedding,
            other => return Err(format!("--output {other}: onehot|embedding").into()),
        },
        embedding: num("--embedding", 32)?,
        reuse_min_domain: num("--reuse-min-domain", 0)?,
        factor_bits: num("--factor-bits", DEFAULT_FACTOR_BITS as usize)? as u32,
        seed,
    };
    let tcfg = TrainConfig {
        epochs: num("--epochs", TrainConfig::default_epochs(table.rows()))?,
        batch: num("--batch", 256)?,
        learning_rate: opt("--lr").map(str::parse).transpose()?.unwrap_or(5e-3),
        column_masking: true,
        warmup_fraction: 0.02,
        seed,
    };
    let model = match opt("--load") {
        Some(path) => {
            let mut m = Made::load(path)?;
            println!("loaded {path}: {} parameters", m.parameter_count());
            // Codes are positions in the dictionaries: evaluating on a table whose values
            // differ would estimate the wrong regions without any error.
            let same_columns = m
                .schema()
                .is_none_or(|s| s.columns() == table.schema().columns());
            if mode == "eval" && !same_columns {
                return Err(format!(
                    "{path} was trained on a table with other columns or values than {csv}"
                )
                .into());
            }
            if mode == "train" {
                // Continue training the saved model (a fresh Adam state and schedule): the
                // way to extend a run or to refit a model to new rows of the same schema.
                fit(&mut m, &table, &tcfg)?;
            }
            m
        }
        None => train_model(&table, &mcfg, &tcfg)?,
    };
    if let Some(path) = opt("--save") {
        model.save(path)?;
        println!(
            "saved {path} ({} bytes on disk)",
            std::fs::metadata(path)?.len()
        );
    }
    if mode == "train" {
        return Ok(());
    }
    eval(&table, &model, &args, seed)
}

fn train_model(
    table: &Table,
    mcfg: &MadeConfig,
    tcfg: &TrainConfig,
) -> Result<Made, Box<dyn std::error::Error>> {
    let mut model = Made::new(&table.domains(), mcfg)?;
    println!(
        "{} {} x {} ({:?} in, {:?} out, embedding {}): {} parameters, {} bytes as f32; training {} epochs, batch {}, lr {}",
        if mcfg.residual { "ResMADE" } else { "MADE" },
        mcfg.layers,
        mcfg.hidden,
        mcfg.input,
        mcfg.output,
        mcfg.embedding,
        model.parameter_count(),
        model.size_bytes(),
        tcfg.epochs,
        tcfg.batch,
        tcfg.learning_rate
    );
    let split: Vec<String> = table
        .columns()
        .iter()
        .zip(model.factorization().factors())
        .filter(|(_, f)| f.is_split())
        .map(|(c, f)| {
            let subs: Vec<String> = f.sub_domains().map(|d| d.to_string()).collect();
            format!("{} {} -> {}", c.name(), f.domain, subs.join("x"))
        })
        .collect();
    println!(
        "factorized (--factor-bits {}): {}; {} network columns, total output width {}",
        mcfg.factor_bits,
        if split.is_empty() {
            "none".to_string()
        } else {
            split.join(", ")
        },
        model.sub_domains().len(),
        model.sub_domains().iter().sum::<usize>()
    );
    fit(&mut model, table, tcfg)?;
    Ok(model)
}

/// Train `model` with a progress bar, then print the time per epoch and the fit.
fn fit(
    model: &mut Made,
    table: &Table,
    tcfg: &TrainConfig,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut shown = usize::MAX;
    let mut epoch_start = Instant::now();
    let reports = train(model, table, tcfg, |p| match p {
        Progress::Step {
            epoch,
            rows_done,
            rows,
            bits,
        } => {
            // A progress bar redrawn in place at every 2% of the epoch.
            let pct = rows_done * 50 / rows.max(&1);
            if pct != shown {
                shown = pct;
                if *rows_done <= tcfg.batch {
                    epoch_start = Instant::now();
                }
                let secs = epoch_start.elapsed().as_secs_f64();
                let eta = secs / *rows_done as f64 * (rows - rows_done) as f64;
                eprint!(
                    "\repoch {}/{} [{}{}] {bits:.2} bits/tuple, {secs:.0} s, eta {eta:.0} s   ",
                    epoch + 1,
                    tcfg.epochs,
                    "#".repeat(pct),
                    ".".repeat(50 - pct),
                );
            }
        }
        Progress::Epoch(r) => eprintln!(
            "\repoch {}/{}: {:.2} bits/tuple (masked), {:.1} s{}",
            r.epoch + 1,
            tcfg.epochs,
            r.train_bits,
            r.elapsed.as_secs_f64(),
            " ".repeat(60)
        ),
    })?;
    let per_epoch =
        reports.iter().map(|r| r.elapsed.as_secs_f64()).sum::<f64>() / reports.len().max(1) as f64;
    println!(
        "training: {per_epoch:.1} s per epoch; fit {:.2} bits/tuple vs. empirical entropy {:.2} bits",
        bits_per_tuple(model, table)?,
        table.entropy_bits()
    );
    Ok(())
}

fn eval(
    table: &Table,
    model: &Made,
    args: &[String],
    seed: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let opt = |name: &str| -> Option<&str> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let num = |name: &str, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(opt(name).map(str::parse).transpose()?.unwrap_or(default))
    };
    let queries = generate(table, num("--queries", 2000)?, seed)?;
    let est = Estimator::new(
        model,
        table.rows(),
        EstimatorConfig {
            samples: num("--samples", 2000)?,
            max_samples: num("--max-samples", 0)?,
            min_effective: opt("--min-effective")
                .map(str::parse)
                .transpose()?
                .unwrap_or(0.02),
            seed,
            sampling: match opt("--sampling").unwrap_or("systematic") {
                "systematic" => Sampling::Systematic,
                "independent" => Sampling::Independent,
                other => return Err(format!("--sampling {other}: systematic|independent").into()),
            },
        },
    )?;
    let ind = Independence::new(table);
    let sample_rows = model.size_bytes() / (4 * table.columns().len());
    let sample = UniformSample::new(table, sample_rows, seed);
    // `--jobs N` estimates N queries at a time, one per thread (each estimate still runs on
    // one core, so the latencies stay per-core figures; they share memory bandwidth).
    let jobs = num("--jobs", 1)?.clamp(1, queries.len().max(1));
    let per_job = queries.len().div_ceil(jobs).max(1);
    let parts = std::thread::scope(|s| {
        let handles: Vec<_> = queries
            .chunks(per_job)
            .map(|chunk| {
                s.spawn(|| {
                    chunk
                        .iter()
                        .map(|q| -> Result<Outcome, stratus_cardest::Error> {
                            let r = q.resolve(table)?;
                            let truth = exact_count(table, &r) as f64;
                            let t0 = Instant::now();
                            let model = est.estimate_resolved(&r)?;
                            let ms = t0.elapsed().as_secs_f64() * 1e3;
                            Ok(Outcome {
                                truth,
                                estimates: [model, ind.estimate(&r), sample.estimate(&r)],
                                ms,
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an evaluation thread panicked"))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let mut errs: [Vec<f64>; 3] = Default::default();
    let mut multi: [Vec<f64>; 3] = Default::default();
    let mut latencies = Vec::new();
    let mut worst: Vec<(f64, f64, f64, usize)> = Vec::new();
    let mut sql = String::new();
    for (i, (q, o)) in queries.iter().zip(parts.into_iter().flatten()).enumerate() {
        sql.push_str(&format!("{}\t{}\n", o.truth, to_sql(q)));
        latencies.push(o.ms);
        let e = o.estimates.map(|x| q_error(x, o.truth));
        worst.push((e[0], o.estimates[0], o.truth, i));
        for k in 0..3 {
            errs[k].push(e[k]);
            if o.truth > 1.0 {
                multi[k].push(e[k]);
            }
        }
    }
    println!(
        "\n{} queries (seed {seed}), {} with more than one true row; sampling baseline: {} rows ({} bytes)",
        queries.len(),
        multi[0].len(),
        sample.len(),
        sample.size_bytes()
    );
    println!("| estimator | median | 95th | 99th | max | (>1 row) median | 95th | 99th | max |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (k, name) in ["Stratus (Naru)", "independence", "uniform sample"]
        .iter()
        .enumerate()
    {
        let f = |v: &[f64]| {
            if v.is_empty() {
                // No query in this group (e.g. every query matched one row).
                return ["—"; 4].join(" | ");
            }
            [0.5, 0.95, 0.99, 1.0]
                .map(|p| format!("{:.2}", quantile(v, p)))
                .join(" | ")
        };
        println!("| {name} | {} | {} |", f(&errs[k]), f(&multi[k]));
    }
    let mean = latencies.iter().sum::<f64>() / latencies.len().max(1) as f64;
    println!(
        "\nestimate latency: mean {mean:.2} ms, p99 {:.2} ms ({} progressive samples, one core per estimate, {jobs} at a time)",
        quantile(&latencies, 0.99),
        est_samples(args)
    );
    let show = num("--worst", 0)?;
    if show > 0 {
        worst.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.3.cmp(&b.3)));
        println!("\nworst {show} by the model's q-error (q-error, estimate, true count, query):");
        for &(e, m, truth, i) in worst.iter().take(show) {
            println!("{e:.2}\t{m:.2}\t{truth}\t{}", queries[i]);
        }
    }
    if let Some(path) = opt("--sql") {
        std::fs::write(path, sql)?;
        println!("wrote the workload with true counts to {path}");
    }
    Ok(())
}

/// One query's true count, the three estimates (model, independence, sample) and the
/// model's estimate time.
struct Outcome {
    truth: f64,
    estimates: [f64; 3],
    ms: f64,
}

/// `workload --sql PATH [--queries N]`: only generate the workload with its true counts.
fn write_workload(
    table: &Table,
    args: &[String],
    seed: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let opt = |name: &str| -> Option<&str> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let count = opt("--queries")
        .map(str::parse)
        .transpose()?
        .unwrap_or(2000);
    let path = opt("--sql").ok_or("workload needs --sql PATH")?;
    let mut sql = String::new();
    for q in generate(table, count, seed)? {
        let truth = exact_count(table, &q.resolve(table)?);
        sql.push_str(&format!("{truth}\t{}\n", to_sql(&q)));
    }
    std::fs::write(path, sql)?;
    println!("wrote {count} queries (seed {seed}) with true counts to {path}");
    Ok(())
}

/// The query as SQL over a table named `t` (identifiers quoted, strings escaped).
fn to_sql(q: &Query) -> String {
    let conds: Vec<String> = q
        .predicates
        .iter()
        .map(|p| {
            let lit = |l: &Literal| match l {
                Literal::Num(x) => format!("{x}"),
                Literal::Str(s) => format!("'{}'", s.replace('\'', "''")),
            };
            let col = format!("\"{}\"", p.column.replace('"', "\"\""));
            match &p.condition {
                Condition::Compare(op, l) => format!("{col} {op} {}", lit(l)),
                Condition::In(ls) => {
                    let ls: Vec<String> = ls.iter().map(lit).collect();
                    format!("{col} IN ({})", ls.join(", "))
                }
            }
        })
        .collect();
    format!("SELECT * FROM t WHERE {}", conds.join(" AND "))
}

fn est_samples(args: &[String]) -> String {
    args.iter()
        .position(|a| a == "--samples")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| "2000".into())
}

/// `estimate --load MODEL --query TEXT`: one estimate from the model file alone, as a query
/// optimiser would make it (the file's schema resolves the literals and gives the row count).
fn estimate_from_file<'a>(
    opt: &impl Fn(&str) -> Option<&'a str>,
) -> Result<(), Box<dyn std::error::Error>> {
    let path = opt("--load").ok_or("estimate needs --load MODEL")?;
    let query: Query = opt("--query")
        .ok_or("estimate needs --query TEXT")?
        .parse()?;
    let model = Made::load(path)?;
    let schema = model
        .schema()
        .ok_or("this model file has no schema (format 3 or 4): use eval --csv")?;
    let parse = |name: &str, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(opt(name).map(str::parse).transpose()?.unwrap_or(default))
    };
    let est = Estimator::for_model(
        &model,
        EstimatorConfig {
            samples: parse("--samples", 2000)?,
            max_samples: parse("--max-samples", 0)?,
            ..Default::default()
        },
    )?;
    let started = Instant::now();
    let rows = est.estimate(schema, &query)?;
    println!(
        "{query}: {rows:.1} of {} rows ({:.2} ms)",
        schema.rows(),
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
