//! A dictionary-encoded table.

use std::collections::BTreeSet;

use crate::dictionary::Dictionary;
use crate::error::{Error, Result};
use crate::schema::{ColumnSchema, Schema};
use crate::value::ColumnData;

/// The text index that marks a null cell in [`Column::from_texts`].
pub(crate) const NULL_TEXT: u32 = u32::MAX;

/// One encoded column: its dictionary and one code per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Name, dictionary and null flag: what the column's [`Schema`] keeps of it.
    info: ColumnSchema,
    codes: Vec<u32>,
}

impl Column {
    /// Encode raw values.
    pub fn encode(name: impl Into<String>, data: &ColumnData) -> Self {
        let name = name.into();
        match data {
            ColumnData::Num(vals) => {
                // NaN is treated as null: it has no place in the order.
                let mut dict: Vec<f64> = vals
                    .iter()
                    .flatten()
                    .copied()
                    .filter(|x| !x.is_nan())
                    .collect();
                dict.sort_by(f64::total_cmp);
                dict.dedup();
                let null = dict.len() as u32;
                let codes: Vec<u32> = vals
                    .iter()
                    .map(|v| match v {
                        Some(x) if !x.is_nan() => dict.partition_point(|y| y < x) as u32,
                        _ => null,
                    })
                    .collect();
                Column::new(name, Dictionary::Num(dict), codes)
            }
            ColumnData::Str(vals) => {
                let set: BTreeSet<&[u8]> = vals.iter().flatten().map(|s| s.as_bytes()).collect();
                let dict: Vec<String> = set
                    .into_iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect();
                let null = dict.len() as u32;
                let codes: Vec<u32> = vals
                    .iter()
                    .map(|v| match v {
                        Some(s) => dict.partition_point(|y| y.as_bytes() < s.as_bytes()) as u32,
                        None => null,
                    })
                    .collect();
                Column::new(name, Dictionary::Str(dict), codes)
            }
        }
    }

    /// A column from the distinct texts of its cells and, per row, the index of its text
    /// (`NULL_TEXT` for null), as the CSV reader collects them without a string per cell.
    /// Numeric when every distinct text (trimmed) parses as a finite number, else text:
    /// the same columns [`Column::encode`] builds from the cells themselves.
    pub(crate) fn from_texts(name: String, texts: Vec<String>, ids: Vec<u32>) -> Self {
        let numbers: Option<Vec<f64>> = texts
            .iter()
            .map(|t| t.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect();
        // Per distinct text, its code; the dictionary in code order.
        let (dictionary, code_of) = match numbers {
            Some(numbers) => {
                let mut dict = numbers.clone();
                dict.sort_by(f64::total_cmp);
                dict.dedup();
                let code_of: Vec<u32> = numbers
                    .iter()
                    .map(|x| dict.partition_point(|y| y < x) as u32)
                    .collect();
                (Dictionary::Num(dict), code_of)
            }
            None => {
                let mut order: Vec<u32> = (0..texts.len() as u32).collect();
                order.sort_by(|&a, &b| {
                    texts[a as usize]
                        .as_bytes()
                        .cmp(texts[b as usize].as_bytes())
                });
                let mut code_of = vec![0u32; texts.len()];
                for (code, &t) in order.iter().enumerate() {
                    code_of[t as usize] = code as u32;
                }
                let mut texts: Vec<Option<String>> = texts.into_iter().map(Some).collect();
                let dict = order
                    .iter()
                    .map(|&t| texts[t as usize].take().expect("each text once"))
                    .collect();
                (Dictionary::Str(dict), code_of)
            }
        };
        let null = dictionary.len() as u32;
        let codes = ids
            .iter()
            .map(|&i| {
                if i == NULL_TEXT {
                    null
                } else {
                    code_of[i as usize]
                }
            })
            .collect();
        Column::new(name, dictionary, codes)
    }

    /// A column of these codes over `dictionary` (code `dictionary.len()` is null).
    fn new(name: String, dictionary: Dictionary, codes: Vec<u32>) -> Self {
        let has_null = codes.contains(&(dictionary.len() as u32));
        Column {
            info: ColumnSchema {
                name,
                dictionary,
                has_null,
            },
            codes,
        }
    }

    /// The column without its rows.
    pub fn schema(&self) -> &ColumnSchema {
        &self.info
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        self.info.name()
    }

    /// Its sorted distinct values.
    pub fn dictionary(&self) -> &Dictionary {
        self.info.dictionary()
    }

    /// Whether some row is null; if so, code `dictionary().len()` means null.
    pub fn has_null(&self) -> bool {
        self.info.has_null()
    }

    /// The code meaning null (equal to the number of distinct values).
    pub fn null_code(&self) -> u32 {
        self.info.dictionary().len() as u32
    }

    /// Number of codes the model sees: distinct values, plus one if there are nulls.
    pub fn domain(&self) -> usize {
        self.info.domain()
    }

    /// One code per row.
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }
}

/// A table whose every column is dictionary-encoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    columns: Vec<Column>,
    rows: usize,
}

impl Table {
    /// Build from named in-memory columns of equal length.
    pub fn from_columns(columns: Vec<(String, ColumnData)>) -> Result<Self> {
        Self::check(
            columns
                .iter()
                .map(|(name, data)| (name.as_str(), data.len())),
        )?;
        Table::from_encoded(
            columns
                .iter()
                .map(|(n, d)| Column::encode(n.clone(), d))
                .collect(),
        )
    }

    /// A table of already encoded columns (checked like [`Table::from_columns`]).
    pub(crate) fn from_encoded(columns: Vec<Column>) -> Result<Self> {
        let rows = Self::check(columns.iter().map(|c| (c.name(), c.codes.len())))?;
        Ok(Table { columns, rows })
    }

    /// The row count of columns given as (name, length): at least one column and one row,
    /// equal lengths, distinct names.
    fn check<'a>(mut columns: impl Iterator<Item = (&'a str, usize)>) -> Result<usize> {
        let (first, rows) = columns.next().ok_or(Error::EmptyTable("no columns"))?;
        if rows == 0 {
            return Err(Error::EmptyTable("no rows"));
        }
        let mut names = BTreeSet::from([first]);
        for (name, len) in columns {
            if len != rows {
                return Err(Error::BadColumns(format!(
                    "column {name:?} has {len} rows, the first has {rows}"
                )));
            }
            if !names.insert(name) {
                return Err(Error::BadColumns(format!("duplicate column {name:?}")));
            }
        }
        Ok(rows)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The columns, in table order (also the model's autoregressive order).
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The position of the column named `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name() == name)
    }

    /// Per-column domain sizes (the model's output widths).
    pub fn domains(&self) -> Vec<usize> {
        self.columns.iter().map(Column::domain).collect()
    }

    /// The codes of row `row`, one per column.
    pub fn row_codes(&self, row: usize) -> Vec<u32> {
        self.columns.iter().map(|c| c.codes[row]).collect()
    }

    /// The table without its rows: column names, dictionaries, nulls and the row count.
    pub fn schema(&self) -> Schema {
        Schema {
            columns: self.columns.iter().map(|c| c.info.clone()).collect(),
            rows: self.rows,
        }
    }

    /// Empirical entropy of the rows in bits: the best bits-per-tuple any model can reach on
    /// this data (Naru reports model fit against it).
    pub fn entropy_bits(&self) -> f64 {
        let mut counts = std::collections::HashMap::<Vec<u32>, u64>::new();
        for r in 0..self.rows {
            *counts.entry(self.row_codes(r)).or_default() += 1;
        }
        let n = self.rows as f64;
        counts
            .values()
            .map(|&c| {
                // p·log2(1/p) rather than -p·log2(p): a one-row table has entropy 0, not -0.
                let p = c as f64 / n;
                p * (n / c as f64).log2()
            })
            .sum()
    }
}
