//! Arrow interchange: frames to and from `RecordBatch`es, so data can move on to DataFusion,
//! Polars or Spark when one machine is not enough.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int64Array, RecordBatch,
    StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

use crate::column::{Categorical, Column, NULL_CODE, Prim, Strings};
use crate::error::{FrameError, Result};
use crate::frame::DataFrame;
use crate::index::Index;

impl DataFrame {
    /// Exports the columns as one Arrow `RecordBatch`: Int64, Float64, Boolean, Utf8,
    /// Timestamp(ns) and Dictionary(UInt32, Utf8). Row labels are not exported (call
    /// [`DataFrame::from_labels`] first to keep them); a `Mixed` column is an error (induce
    /// or cast its type first).
    pub fn to_arrow(&self) -> Result<RecordBatch> {
        let mut fields = Vec::with_capacity(self.ncols());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.ncols());
        for (name, col) in self.names.iter().zip(&self.columns) {
            let array: ArrayRef = match col.as_ref() {
                Column::Int64(p) => Arc::new(Int64Array::from_iter((0..p.len()).map(|i| p.get(i)))),
                Column::Float64(p) => {
                    Arc::new(Float64Array::from_iter((0..p.len()).map(|i| p.get(i))))
                }
                Column::Bool(p) => {
                    Arc::new(BooleanArray::from_iter((0..p.len()).map(|i| p.get(i))))
                }
                Column::Datetime(p) => Arc::new(TimestampNanosecondArray::from_iter(
                    (0..p.len()).map(|i| p.get(i)),
                )),
                Column::Utf8(s) => Arc::new(StringArray::from_iter(s.iter())),
                Column::Categorical(c) => {
                    let keys = arrow_array::UInt32Array::from_iter(
                        c.codes.iter().map(|&k| (k != NULL_CODE).then_some(k)),
                    );
                    let values = StringArray::from_iter_values(c.categories.iter());
                    Arc::new(
                        DictionaryArray::<UInt32Type>::try_new(keys, Arc::new(values))
                            .map_err(|e| FrameError::Arrow(e.to_string()))?,
                    )
                }
                Column::Mixed(_) => {
                    return Err(FrameError::Arrow(format!(
                        "column {name:?} is Mixed; induce its type (infer_types) or cast it before exporting"
                    )));
                }
            };
            fields.push(Field::new(name, array.data_type().clone(), true));
            arrays.push(array);
        }
        let schema = Arc::new(Schema::new(fields));
        RecordBatch::try_new(schema, arrays).map_err(|e| FrameError::Arrow(e.to_string()))
    }

    /// Imports a `RecordBatch`. Integer types widen to Int64 (UInt64 values above
    /// `i64::MAX` are an error), Float32 to Float64, dates and timestamps of any unit to
    /// Datetime, Utf8 and LargeUtf8 to Utf8, dictionaries of strings to Categorical; other
    /// Arrow types are an error naming the column.
    pub fn from_arrow(batch: &RecordBatch) -> Result<DataFrame> {
        let schema = batch.schema();
        let mut names = Vec::with_capacity(batch.num_columns());
        let mut columns = Vec::with_capacity(batch.num_columns());
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            names.push(field.name().clone());
            columns.push(Arc::new(import(field.name(), array.as_ref())?));
        }
        DataFrame::from_parts(names, columns, Index::Range(batch.num_rows()))
    }

    /// Imports several batches of one schema as one frame.
    pub fn from_arrow_batches(batches: &[RecordBatch]) -> Result<DataFrame> {
        let frames = batches
            .iter()
            .map(DataFrame::from_arrow)
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&DataFrame> = frames.iter().collect();
        Ok(DataFrame::concat_rows(&refs)?.reset_labels())
    }
}

fn ints<T: arrow_array::ArrowPrimitiveType>(
    a: &dyn Array,
    f: impl Fn(T::Native) -> Option<i64>,
    name: &str,
) -> Result<Prim<i64>> {
    let p = a.as_primitive::<T>();
    let mut out = Vec::with_capacity(p.len());
    for i in 0..p.len() {
        out.push(if p.is_null(i) {
            None
        } else {
            Some(f(p.value(i)).ok_or_else(|| {
                FrameError::Arrow(format!(
                    "column {name:?}, row {i}: value does not fit Int64"
                ))
            })?)
        });
    }
    Ok(Prim::from_options(out))
}

fn import(name: &str, a: &dyn Array) -> Result<Column> {
    const DAY_NS: i64 = 86_400_000_000_000;
    Ok(match a.data_type() {
        DataType::Int8 => Column::Int64(ints::<Int8Type>(a, |v| Some(v as i64), name)?),
        DataType::Int16 => Column::Int64(ints::<Int16Type>(a, |v| Some(v as i64), name)?),
        DataType::Int32 => Column::Int64(ints::<Int32Type>(a, |v| Some(v as i64), name)?),
        DataType::Int64 => Column::Int64(ints::<Int64Type>(a, Some, name)?),
        DataType::UInt8 => Column::Int64(ints::<UInt8Type>(a, |v| Some(v as i64), name)?),
        DataType::UInt16 => Column::Int64(ints::<UInt16Type>(a, |v| Some(v as i64), name)?),
        DataType::UInt32 => Column::Int64(ints::<UInt32Type>(a, |v| Some(v as i64), name)?),
        DataType::UInt64 => Column::Int64(ints::<UInt64Type>(a, |v| i64::try_from(v).ok(), name)?),
        DataType::Float32 => {
            let p = a.as_primitive::<Float32Type>();
            Column::Float64(Prim::from_options(
                (0..p.len()).map(|i| (!p.is_null(i)).then(|| p.value(i) as f64)),
            ))
        }
        DataType::Float64 => {
            let p = a.as_primitive::<Float64Type>();
            Column::Float64(Prim::from_options(
                (0..p.len()).map(|i| (!p.is_null(i)).then(|| p.value(i))),
            ))
        }
        DataType::Boolean => {
            let p = a.as_boolean();
            Column::Bool(Prim::from_options(
                (0..p.len()).map(|i| (!p.is_null(i)).then(|| p.value(i))),
            ))
        }
        DataType::Utf8 => Column::Utf8(Strings::from_options(a.as_string::<i32>().iter())),
        DataType::LargeUtf8 => Column::Utf8(Strings::from_options(a.as_string::<i64>().iter())),
        DataType::Date32 => Column::Datetime(ints::<Date32Type>(
            a,
            |d| (d as i64).checked_mul(DAY_NS),
            name,
        )?),
        DataType::Date64 => {
            Column::Datetime(ints::<Date64Type>(a, |ms| ms.checked_mul(1_000_000), name)?)
        }
        DataType::Timestamp(unit, _) => Column::Datetime(match unit {
            TimeUnit::Second => {
                ints::<TimestampSecondType>(a, |v| v.checked_mul(1_000_000_000), name)?
            }
            TimeUnit::Millisecond => {
                ints::<TimestampMillisecondType>(a, |v| v.checked_mul(1_000_000), name)?
            }
            TimeUnit::Microsecond => {
                ints::<TimestampMicrosecondType>(a, |v| v.checked_mul(1_000), name)?
            }
            TimeUnit::Nanosecond => ints::<TimestampNanosecondType>(a, Some, name)?,
        }),
        DataType::Dictionary(_, value)
            if matches!(value.as_ref(), DataType::Utf8 | DataType::LargeUtf8) =>
        {
            // Decode through the string values, then re-encode with this crate's ordering.
            let cast: Vec<Option<String>> = dictionary_strings(a, name)?;
            let c = Categorical::from_options(cast);
            Column::Categorical(c)
        }
        DataType::Null => Column::Mixed(vec![crate::Value::Null; a.len()]),
        other => {
            return Err(FrameError::Arrow(format!(
                "column {name:?}: Arrow type {other} is not supported"
            )));
        }
    })
}

fn dictionary_strings(a: &dyn Array, name: &str) -> Result<Vec<Option<String>>> {
    fn decode<K: arrow_array::types::ArrowDictionaryKeyType>(a: &dyn Array) -> Vec<Option<String>> {
        let d = a.as_dictionary::<K>();
        let values = d.values();
        let strings: Vec<Option<String>> = match values.data_type() {
            DataType::LargeUtf8 => values
                .as_string::<i64>()
                .iter()
                .map(|s| s.map(str::to_string))
                .collect(),
            _ => values
                .as_string::<i32>()
                .iter()
                .map(|s| s.map(str::to_string))
                .collect(),
        };
        d.keys()
            .iter()
            .map(|k| k.and_then(|k| strings.get(k.as_usize()).cloned().flatten()))
            .collect()
    }
    use arrow_buffer::ArrowNativeType as _;
    Ok(match a.data_type() {
        DataType::Dictionary(k, _) => match k.as_ref() {
            DataType::Int8 => decode::<Int8Type>(a),
            DataType::Int16 => decode::<Int16Type>(a),
            DataType::Int32 => decode::<Int32Type>(a),
            DataType::Int64 => decode::<Int64Type>(a),
            DataType::UInt8 => decode::<UInt8Type>(a),
            DataType::UInt16 => decode::<UInt16Type>(a),
            DataType::UInt32 => decode::<UInt32Type>(a),
            DataType::UInt64 => decode::<UInt64Type>(a),
            other => {
                return Err(FrameError::Arrow(format!(
                    "column {name:?}: dictionary key type {other} is not supported"
                )));
            }
        },
        other => {
            return Err(FrameError::Arrow(format!(
                "column {name:?}: {other} is not a dictionary"
            )));
        }
    })
}
