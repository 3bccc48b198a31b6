//! What estimation needs of a table besides the model: its columns' names and dictionaries
//! and its row count, but none of its rows.
//!
//! A query optimiser resolves a predicate's literal to a code range (the dictionary) and
//! scales a selectivity to a row count (the row count); both need only a [`Schema`].
//! [`train`](crate::train()) attaches the table's schema to the model, and the model file
//! stores it, so a model loaded from disk estimates queries without the data:
//! [`Estimator::for_model`](crate::Estimator::for_model) and
//! [`Estimator::estimate`](crate::Estimator::estimate) with [`Made::schema`](crate::Made::schema).

use std::collections::HashSet;

use crate::dictionary::Dictionary;
use crate::error::{Error, Result};
use crate::model_file::Reader;

/// One column without its rows: name, dictionary and whether it holds nulls.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSchema {
    pub(crate) name: String,
    pub(crate) dictionary: Dictionary,
    pub(crate) has_null: bool,
}

impl ColumnSchema {
    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column's sorted distinct values.
    pub fn dictionary(&self) -> &Dictionary {
        &self.dictionary
    }

    /// Whether the column holds nulls (they get the extra code `dictionary().len()`).
    pub fn has_null(&self) -> bool {
        self.has_null
    }

    /// Number of codes: distinct values, plus one for null when present.
    pub fn domain(&self) -> usize {
        self.dictionary.len() + usize::from(self.has_null)
    }
}

/// A table's columns and row count, without its rows (from [`Table::schema`](crate::Table::schema)).
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub(crate) columns: Vec<ColumnSchema>,
    pub(crate) rows: usize,
}

impl Schema {
    /// Number of rows of the table it describes.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The columns, in table order.
    pub fn columns(&self) -> &[ColumnSchema] {
        &self.columns
    }

    /// Index of the column named `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Per-column number of codes (the model's domains).
    pub fn domains(&self) -> Vec<usize> {
        self.columns.iter().map(ColumnSchema::domain).collect()
    }

    /// Append the schema to a model file: row count (u64), column count (u32), then per
    /// column its name, kind (0 numeric, 1 text), null flag and values; strings as a u32
    /// byte length and UTF-8 bytes, numbers as f64.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let string = |out: &mut Vec<u8>, s: &str| {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        out.extend_from_slice(&(self.rows as u64).to_le_bytes());
        out.extend_from_slice(&(self.columns.len() as u32).to_le_bytes());
        for c in &self.columns {
            string(out, &c.name);
            out.push(match c.dictionary {
                Dictionary::Num(_) => 0,
                Dictionary::Str(_) => 1,
            });
            out.push(u8::from(c.has_null));
            out.extend_from_slice(&(c.dictionary.len() as u32).to_le_bytes());
            match &c.dictionary {
                Dictionary::Num(v) => v
                    .iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
                Dictionary::Str(v) => v.iter().for_each(|s| string(out, s)),
            }
        }
    }

    /// Read a schema written by [`Schema::write`] for a model of these domains. Everything a
    /// resolved query relies on is checked, so a damaged file is an error, never a wrong
    /// estimate: names unique, dictionaries strictly increasing (numbers finite), and each
    /// column's domain equal to the model's.
    pub(crate) fn read(r: &mut Reader<'_>, domains: &[usize]) -> Result<Schema> {
        let corrupt = Error::CorruptModel;
        let rows = usize::try_from(r.u64()?).map_err(|_| corrupt("row count too large"))?;
        let n = r.u32()? as usize;
        if n != domains.len() {
            return Err(corrupt("schema column count differs from the model's"));
        }
        let mut names = HashSet::new();
        let mut columns = Vec::with_capacity(n);
        for &domain in domains {
            let name = r.string()?;
            if !names.insert(name.clone()) {
                return Err(corrupt("duplicate column name in the schema"));
            }
            let kind = r.take(1)?[0];
            let has_null = match r.take(1)?[0] {
                0 => false,
                1 => true,
                _ => return Err(corrupt("bad null flag in the schema")),
            };
            let len = r.u32()? as usize;
            // Every value takes at least 4 bytes: reject absurd counts before allocating.
            if len.saturating_mul(4) > r.remaining() {
                return Err(corrupt("dictionary larger than the file"));
            }
            let dictionary = match kind {
                0 => {
                    let v = (0..len).map(|_| r.f64()).collect::<Result<Vec<_>>>()?;
                    if v.iter().any(|x| !x.is_finite()) || v.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(corrupt("numeric dictionary not sorted and finite"));
                    }
                    Dictionary::Num(v)
                }
                1 => {
                    let v = (0..len).map(|_| r.string()).collect::<Result<Vec<_>>>()?;
                    if v.windows(2).any(|w| w[0].as_bytes() >= w[1].as_bytes()) {
                        return Err(corrupt("text dictionary not sorted"));
                    }
                    Dictionary::Str(v)
                }
                _ => return Err(corrupt("unknown column kind in the schema")),
            };
            let column = ColumnSchema {
                name,
                dictionary,
                has_null,
            };
            if column.domain() != domain {
                return Err(corrupt(
                    "schema dictionary size differs from the model's domain",
                ));
            }
            columns.push(column);
        }
        Ok(Schema { columns, rows })
    }
}
