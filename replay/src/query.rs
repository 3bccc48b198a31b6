//! Reading the record back: runs, log rows across runs and versions, a pivoted table, CSV.

use std::io::Write;
use std::path::Path;

use rusqlite::params_from_iter;

use crate::error::{ReplayError, Result};
use crate::store::{self, RunInfo};

/// One log statement's output, joined with its run.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRow {
    /// The run that produced it.
    pub run_id: i64,
    /// Program name.
    pub program: String,
    /// The run's code version tag.
    pub code_version: String,
    /// `"record"` or `"replay"`.
    pub mode: String,
    /// Main-loop iteration (-1 outside the main loop).
    pub main_iteration: i64,
    /// Loop position, e.g. `epoch=3/step=7` (empty outside loops).
    pub path: String,
    /// Skip block the statement sits in, if any.
    pub block: Option<String>,
    /// Log name.
    pub name: String,
    /// Logged value.
    pub value: serde_json::Value,
}

/// Which log rows to read; empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct LogFilter {
    /// Only this program.
    pub program: Option<String>,
    /// Only these runs.
    pub runs: Vec<i64>,
    /// Only these log names.
    pub names: Vec<String>,
}

/// All runs in `dir`, oldest first.
pub fn runs(dir: impl AsRef<Path>) -> Result<Vec<RunInfo>> {
    let conn = store::connect(dir.as_ref())?;
    let mut stmt = conn.prepare("SELECT run_id FROM runs ORDER BY run_id")?;
    let ids: Vec<i64> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.into_iter()
        .map(|id| store::run_info(&conn, id))
        .collect()
}

/// Log rows of all runs matching `filter`, ordered by run, main-loop iteration, then the
/// order the statements ran in.
pub fn logs(dir: impl AsRef<Path>, filter: &LogFilter) -> Result<Vec<LogRow>> {
    let conn = store::connect(dir.as_ref())?;
    let mut sql = String::from(
        "SELECT l.run_id, r.program, r.code_version, r.mode, l.main_iteration, l.path, l.block, l.name, l.value
         FROM logs l JOIN runs r ON r.run_id = l.run_id WHERE 1=1",
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(p) = &filter.program {
        sql.push_str(" AND r.program = ?");
        args.push(p.clone().into());
    }
    if !filter.runs.is_empty() {
        sql.push_str(&format!(
            " AND l.run_id IN ({})",
            vec!["?"; filter.runs.len()].join(",")
        ));
        args.extend(filter.runs.iter().map(|&r| r.into()));
    }
    if !filter.names.is_empty() {
        sql.push_str(&format!(
            " AND l.name IN ({})",
            vec!["?"; filter.names.len()].join(",")
        ));
        args.extend(filter.names.iter().map(|n| n.clone().into()));
    }
    sql.push_str(" ORDER BY l.run_id, l.main_iteration, l.worker, l.seq");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok((
            LogRow {
                run_id: r.get(0)?,
                program: r.get(1)?,
                code_version: r.get(2)?,
                mode: r.get(3)?,
                main_iteration: r.get(4)?,
                path: r.get(5)?,
                block: r.get(6)?,
                name: r.get(7)?,
                value: serde_json::Value::Null,
            },
            r.get::<_, String>(8)?,
        ))
    })?;
    rows.map(|row| {
        let (mut row, text) = row?;
        row.value = serde_json::from_str(&text).map_err(|e| {
            ReplayError::StructureMismatch(format!(
                "stored value of {:?} is not JSON: {e}",
                row.name
            ))
        })?;
        Ok(row)
    })
    .collect()
}

/// FlorDB's `dataframe(names...)`: one row per run and loop position, one column per name.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// Column names: `run_id`, `code_version`, `mode`, `path`, then the requested names.
    pub columns: Vec<String>,
    /// Cells as text (JSON values; strings unquoted; empty where a name was not logged).
    pub rows: Vec<Vec<String>>,
}

/// Pivots the logs of `names` (all runs of `program`, or all programs) into a [`Frame`].
pub fn dataframe(dir: impl AsRef<Path>, program: Option<&str>, names: &[&str]) -> Result<Frame> {
    let filter = LogFilter {
        program: program.map(str::to_string),
        runs: Vec::new(),
        names: names.iter().map(|n| n.to_string()).collect(),
    };
    let mut columns: Vec<String> = ["run_id", "code_version", "mode", "path"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    columns.extend(names.iter().map(|n| n.to_string()));
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut key: Option<(i64, String)> = None;
    for row in logs(dir, &filter)? {
        let k = (row.run_id, row.path.clone());
        if key.as_ref() != Some(&k) {
            let mut cells = vec![String::new(); columns.len()];
            cells[0] = row.run_id.to_string();
            cells[1] = row.code_version.clone();
            cells[2] = row.mode.clone();
            cells[3] = row.path.clone();
            rows.push(cells);
            key = Some(k);
        }
        let col = 4 + names
            .iter()
            .position(|n| *n == row.name)
            .expect("filtered by name");
        let cell = match &row.value {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        rows.last_mut().expect("pushed above")[col] = cell;
    }
    Ok(Frame { columns, rows })
}

impl Frame {
    /// Writes the frame as CSV (RFC 4180 quoting).
    pub fn write_csv(&self, mut out: impl Write) -> std::io::Result<()> {
        let line = |cells: &[String]| {
            cells
                .iter()
                .map(|c| {
                    if c.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        writeln!(out, "{}", line(&self.columns))?;
        for r in &self.rows {
            writeln!(out, "{}", line(r))?;
        }
        Ok(())
    }
}
